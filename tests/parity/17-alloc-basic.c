/* alloc-basic: every plain allocation entry point, each leaking one block
 * from its own line of alloc_all.
 *
 *   malloc(24)                      24 bytes, definitely lost
 *   calloc(5, 12)                   60 bytes, definitely lost
 *   realloc(NULL, 36)               36 bytes, definitely lost (gcc turns
 *                                   this call into malloc(36), even at
 *                                   -O0: both tools show malloc)
 *   realloc(malloc(16), 100)        grown: 100 bytes lost (realloc); the
 *                                   16-byte malloc is freed by realloc
 *   realloc(malloc(200), 20)        shrunk: 20 bytes lost (realloc)
 *   reallocarray(NULL, 7, 8)        56 bytes lost (valgrind 3.19 has no
 *                                   reallocarray of its own and names the
 *                                   frame "malloc"; the runner maps it)
 *   reallocarray(malloc(8), 3, 16)  48 bytes lost (valgrind: "realloc")
 *   malloc(0)                       0 bytes in 1 blocks, definitely lost
 *   realloc(malloc(40), 0)          frees the block, returns NULL: no leak
 * Heap (counting as valgrind does: a realloc of a live block is one alloc
 * and one free): 12 allocs, 4 frees, 608 bytes allocated. */
#include <malloc.h>

#include "parity.h"

static void *volatile sink;

#define LEAK(expr) do { void *p_ = (expr); ex_use(p_); sink = p_; } while (0)

EX_FRAME static int alloc_all(void)
{
	LEAK(malloc(24));
	LEAK(calloc(5, 12));
	LEAK(realloc(NULL, 36));
	LEAK(realloc(malloc(16), 100));
	LEAK(realloc(malloc(200), 20));
	LEAK(reallocarray(NULL, 7, 8));
	LEAK(reallocarray(malloc(8), 3, 16));
	LEAK(malloc(0));
	void *z = realloc(malloc(40), 0);
	ex_use(z);
	sink = NULL;
	return z == NULL ? 0 : 1;
}

int main(void)
{
	int r = alloc_all();
	pt_scrub_stack();
	return r;
}
