/* deep-direct: a direct leak six calls below main.
 *
 *   main -> stage1 -> stage2 -> stage3 -> stage4 -> stage5 -> make_record
 *
 * make_record allocates 72 bytes; its address is dropped in stage5.
 *
 * Expected: one loss record, 72 bytes in 1 blocks, definitely lost,
 *     malloc <- make_record <- stage5 <- stage4 <- stage3 <- stage2
 *     <- stage1 <- main
 * Heap: 1 alloc, 0 frees, 72 bytes allocated. */
#include "parity.h"

EX_FRAME static char *make_record(size_t n)
{
	char *p = malloc(n); /* LEAK: 72 bytes */
	ex_use(p);
	if (p)
		memset(p, 'r', n);
	return p;
}

EX_FRAME static int stage5(int v)
{
	char *p = make_record(72);
	ex_use(p);
	return p ? v + p[0] : v; /* p's address is dropped here */
}

EX_FRAME static int stage4(int v)
{
	int r = stage5(v + 1);
	ex_use(&r);
	return r;
}

EX_FRAME static int stage3(int v)
{
	int r = stage4(v + 1);
	ex_use(&r);
	return r;
}

EX_FRAME static int stage2(int v)
{
	int r = stage3(v + 1);
	ex_use(&r);
	return r;
}

EX_FRAME static int stage1(int v)
{
	int r = stage2(v + 1);
	ex_use(&r);
	return r;
}

int main(void)
{
	int r = stage1(0);
	pt_scrub_stack();
	return r == 4 + 'r' ? 0 : 1;
}
