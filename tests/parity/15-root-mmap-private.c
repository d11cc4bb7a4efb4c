/* root-mmap-private: blocks kept only in anonymous private mappings the
 * program made with mmap (not heap: both tools scan them as roots while
 * they are mapped, readable and writable).
 *
 *   region A (read-write): slot 5 -> 72-byte block -> 24-byte block:
 *     72 bytes still reachable (malloc <- make_block <- make_pair <- fill
 *     <- main), 24 bytes still reachable (the same from make_pair's second
 *     line)
 *   region B, made read-only (mprotect PROT_READ) after the store:
 *     valgrind and leaktrace scan only writable mappings, so its 56-byte
 *     block is definitely lost (malloc <- make_block <- fill <- main)
 *   region C, unmapped after the store: its 40-byte block is definitely
 *     lost (malloc <- make_block <- fill <- main)
 * The pointers to the regions themselves are dropped (a mapping is a root
 * whether or not anything points at it).
 * Heap: 4 allocs, 0 frees, 192 bytes allocated.
 * leaktrace runs with track_mmap=no, valgrind's model, where mappings are
 * roots; by default it tracks them as blocks (tests/mappings). */
#include <sys/mman.h>

#include "parity.h"

EX_FRAME static void *make_block(size_t n)
{
	void *p = malloc(n);
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static void *make_pair(void)
{
	void **p = make_block(72); /* still reachable: region A */
	ex_use(p);
	if (p)
		p[1] = make_block(24); /* still reachable: through the 72 */
	return p;
}

EX_FRAME static void **map_region(void)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

EX_FRAME static int fill(void)
{
	void **a = map_region(), **b = map_region(), **c = map_region();
	if (!a || !b || !c)
		return 1;
	a[5] = make_pair();
	b[3] = make_block(56); /* LEAK: its region becomes read-only */
	c[7] = make_block(40); /* LEAK: its region is unmapped */
	if (!a[5] || !b[3] || !c[7])
		return 1;
	if (mprotect(b, 4096, PROT_READ) != 0 || munmap(c, 4096) != 0)
		return 1;
	return 0;
}

int main(void)
{
	int r = fill();
	pt_scrub_stack();
	return r;
}
