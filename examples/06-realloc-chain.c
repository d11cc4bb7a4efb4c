/* realloc-chain: calloc, then a chain of growing and shrinking reallocs.
 *
 * A buffer starts as calloc(4, 8) in new_buffer, grows to 64, 128 and 256
 * bytes in grow_buffer, shrinks to 100 in trim_buffer, and is leaked there.
 * Also: realloc(NULL, 50) (an allocation) followed by realloc(p, 0) (a free,
 * glibc returns NULL), and a leaked malloc(0).
 *
 * valgrind counts realloc(p, n) with p != NULL and n > 0 as one allocation
 * of n bytes plus one free, moving or not. So:
 * Heap: 7 allocs, 5 frees, 32+64+128+256+100+50+0 = 630 bytes allocated
 * (the running totals are in main).
 * Expected loss records:
 *   0 bytes in 1 blocks,   malloc  <- empty_block <- main
 *   100 bytes in 1 blocks, realloc <- trim_buffer <- main   (LEAK) */
#include <stdlib.h>
#include <string.h>

#include "example.h"

EX_FRAME static char *new_buffer(void)
{
	char *b = calloc(4, 8);
	ex_use(b);
	return b;
}

EX_FRAME static char *grow_buffer(char *b, size_t n)
{
	char *nb = realloc(b, n);
	ex_use(nb);
	if (!nb)
		return b;
	memset(nb, 'g', n);
	return nb;
}

EX_FRAME static char *trim_buffer(char *b, size_t n)
{
	char *nb = realloc(b, n); /* LEAK: 100 bytes */
	ex_use(nb);
	return nb ? nb : b;
}

EX_FRAME static int realloc_to_zero(void)
{
	char *p = realloc(NULL, 50);
	ex_use(p);
	p = realloc(p, 0); /* frees; glibc returns NULL */
	ex_use(p);
	return p == NULL;
}

EX_FRAME static void *empty_block(void)
{
	void *z = malloc(0); /* LEAK: 0 bytes */
	ex_use(z);
	return z;
}

int main(void)
{
	/* allocs  frees  bytes */
	char *b = new_buffer();          /*   1      0      32 */
	b = grow_buffer(b, 64);          /*   2      1      96 */
	b = grow_buffer(b, 128);         /*   3      2     224 */
	b = grow_buffer(b, 256);         /*   4      3     480 */
	b = trim_buffer(b, 100);         /*   5      4     580 */
	ex_use(b);
	int ok = realloc_to_zero();      /*   6      5     630 */
	ex_use(empty_block());           /*   7      5     630 */
	return ok ? 0 : 1;
}
