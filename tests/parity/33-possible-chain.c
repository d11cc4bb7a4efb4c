/* possible-chain: what hangs below a possibly lost block, and below a
 * definitely lost block through an interior pointer.
 *
 *   g_head -> A (start pointer): 32 bytes still reachable
 *   A holds a pointer 40 bytes into B (no start pointer to B anywhere):
 *     B, 96 bytes, possibly lost
 *   B holds a start pointer to C: C, 24 bytes, reached only through a
 *     possibly lost block: possibly lost too (valgrind propagates the
 *     state it reached B with)
 *   D, dropped, holds a pointer 8 bytes into E whose first word (0) fits
 *     no heuristic: D is definitely lost, "80 (16 direct, 64 indirect)",
 *     and E, 64 bytes, indirectly lost (an interior pointer from a lost
 *     block is enough)
 * All from make_block, each from its own line of build.
 * Heap: 5 allocs, 0 frees, 232 bytes allocated. */
#include "parity.h"

void **g_head;

EX_FRAME static void *make_block(size_t n)
{
	void *p = malloc(n);
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static int build(void)
{
	void **a = make_block(32);  /* reachable */
	char *b = make_block(96);   /* possibly lost */
	void *c = make_block(24);   /* possibly lost (through b) */
	void **d = make_block(16);  /* LEAK: definitely lost */
	char *e = make_block(64);   /* LEAK: indirectly lost */
	if (!a || !b || !c || !d || !e)
		return 1;
	a[1] = b + 40;
	memcpy(b + 48, &c, sizeof(c));
	d[1] = e + 8;
	g_head = a;
	return 0;
}

int main(void)
{
	int r = build();
	pt_scrub_stack();
	return r;
}
