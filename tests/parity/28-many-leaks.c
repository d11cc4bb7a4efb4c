/* many-leaks: 100,000 leaks from one allocation site.
 *
 * leak_many(100000) allocates 16-byte blocks in a loop and drops each.
 *
 * Expected: 1,600,000 bytes in 100,000 blocks definitely lost
 *     (malloc <- leak_one <- leak_many <- main)
 * (at -O2, gcc may unroll the loop: then several records of the same
 * line; compared per own frames, they add up to the same.)
 * Heap: 100,000 allocs, 0 frees, 1,600,000 bytes allocated. */
#include "parity.h"

EX_FRAME static int leak_one(int i)
{
	int *p = malloc(16); /* LEAK: 100,000 times */
	ex_use(p);
	if (!p)
		return 1;
	p[0] = i;
	return 0;
}

EX_FRAME static int leak_many(int n)
{
	int bad = 0;
	for (int i = 0; i < n; i++)
		bad += leak_one(i);
	ex_use(&bad);
	return bad;
}

int main(void)
{
	int r = leak_many(100000);
	pt_scrub_stack();
	return r;
}
