/* length64: blocks reached only through a pointer 8 bytes past their
 * start, which valgrind's interior-pointer heuristics (on by default)
 * judge by the first 8 bytes of the block. They apply to any program,
 * C included.
 *
 *   g_len64: a 136-byte block whose first 8 bytes hold 128, the size of
 *     the rest ("length64": a length-prefixed buffer, as sqlite3 makes):
 *     still reachable via length64 (malloc <- make_prefixed <- main)
 *   g_arrayish: a 104-byte block whose first 8 bytes hold 4, which divides
 *     the 96 bytes after it: the shape of a C++ new[] of 4 elements of
 *     24 bytes: still reachable via newarray (malloc <- make_prefixed <-
 *     main, second line)
 *   g_neither: a 136-byte block whose first word is 1000: neither fits,
 *     possibly lost (third line)
 * LEAK SUMMARY: "of which reachable via heuristic: length64 : 136 bytes in
 * 1 blocks" and "newarray : 104 bytes in 1 blocks".
 * Heap: 3 allocs, 0 frees, 376 bytes allocated. */
#include <stdint.h>

#include "parity.h"

char *g_len64;
char *g_arrayish;
char *g_neither;

EX_FRAME static char *make_prefixed(size_t size, uint64_t first)
{
	char *p = malloc(size);
	ex_use(p);
	if (!p)
		return NULL;
	memset(p, 0, size);
	memcpy(p, &first, sizeof(first));
	return p + 8; /* only this survives */
}

int main(void)
{
	g_len64 = make_prefixed(136, 128);    /* reachable via length64 */
	g_arrayish = make_prefixed(104, 4);   /* reachable via newarray */
	g_neither = make_prefixed(136, 1000); /* possibly lost */
	pt_scrub_stack();
	return g_len64 && g_arrayish && g_neither ? 0 : 1;
}
