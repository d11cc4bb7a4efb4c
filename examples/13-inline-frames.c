/* inline-frames: an allocation made inside a function that the compiler
 * always inlines. valgrind shows an inlined call as a frame of its own
 * (same address, the inlined function's name and line); so must leaktrace.
 *
 * Expected: 24 bytes in 1 blocks, definitely lost:
 *     at malloc
 *     by xalloc       (inlined into make_entry; line of the malloc call)
 *     by make_entry   (line of the xalloc call)
 *     by main
 * at -O0 and at -O2 alike (always_inline inlines even at -O0). No stdio. */
#include <stdlib.h>
#include <string.h>

#include "example.h"

static inline __attribute__((always_inline)) void *xalloc(size_t n)
{
	void *p = malloc(n); /* LEAK: 24 bytes */
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static void *make_entry(void)
{
	void *e = xalloc(24);
	ex_use(e);
	return e;
}

int main(void)
{
	ex_use(make_entry());
	return 0;
}
