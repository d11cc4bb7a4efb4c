/* interior-only: blocks reached only through pointers into their middle.
 *
 *   g_inside points 40 bytes into a 100-byte block (make_inner): no start
 *     pointer anywhere, and offset 40 fits none of valgrind's
 *     interior-pointer heuristics -> possibly lost, 100 bytes in 1 blocks.
 *   g_last points at the last byte of a 64-byte block (make_last):
 *     still inside -> possibly lost, 64 bytes in 1 blocks.
 *   g_end points one past the end of a 48-byte block (make_end): not
 *     inside the block, so nothing points at it -> definitely lost,
 *     48 bytes in 1 blocks.
 * Heap: 3 allocs, 0 frees, 212 bytes allocated. */
#include "parity.h"

char *g_inside;
char *g_last;
char *g_end;

EX_FRAME static char *make_inner(void)
{
	char *p = malloc(100); /* possibly lost */
	ex_use(p);
	if (p)
		memset(p, 0, 100);
	return p ? p + 40 : NULL;
}

EX_FRAME static char *make_last(void)
{
	char *p = malloc(64); /* possibly lost */
	ex_use(p);
	if (p)
		memset(p, 0, 64);
	return p ? p + 63 : NULL;
}

EX_FRAME static char *make_end(void)
{
	char *p = malloc(48); /* LEAK: definitely lost */
	ex_use(p);
	if (p)
		memset(p, 0, 48);
	return p ? p + 48 : NULL;
}

int main(void)
{
	g_inside = make_inner();
	g_last = make_last();
	g_end = make_end();
	ex_use(g_inside);
	pt_scrub_stack();
	return g_inside && g_last && g_end ? 0 : 1;
}
