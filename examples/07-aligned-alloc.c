/* aligned-alloc: leaks through the aligned allocators.
 *
 * Expected loss records (each definitely lost, one per helper):
 *   100 bytes  posix_memalign(64)  <- via_posix_memalign <- main
 *   256 bytes  aligned_alloc(128)  <- via_aligned_alloc  <- main
 *   40 bytes   memalign(32)        <- via_memalign       <- main
 *   10 bytes   valloc              <- via_valloc         <- main
 * posix_memalign with alignment 24 (not a power of two) fails with EINVAL
 * and allocates nothing; one aligned block is allocated and freed.
 * Heap: 5 allocs, 1 free, 100+256+40+10+48 = 454 bytes allocated.
 * valgrind 3.19 names the allocating frame "memalign" for aligned_alloc and
 * valloc, and shows posix_memalign as memalign <- posix_memalign. pvalloc is
 * left out: valgrind 3.19 aborts on it. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <stdint.h>

#include "example.h"

EX_FRAME static void *via_posix_memalign(size_t align, size_t n)
{
	void *p = NULL;
	int r = posix_memalign(&p, align, n); /* LEAK: 100 bytes */
	ex_use(p);
	return r == 0 ? p : NULL;
}

EX_FRAME static void *via_aligned_alloc(size_t align, size_t n)
{
	void *p = aligned_alloc(align, n); /* LEAK: 256 bytes */
	ex_use(p);
	return p;
}

EX_FRAME static void *via_memalign(size_t align, size_t n)
{
	void *p = memalign(align, n); /* LEAK: 40 bytes */
	ex_use(p);
	return p;
}

EX_FRAME static void *via_valloc(size_t n)
{
	void *p = valloc(n); /* LEAK: 10 bytes */
	ex_use(p);
	return p;
}

static int aligned(const void *p, uintptr_t a)
{
	return p && ((uintptr_t)p & (a - 1)) == 0;
}

int main(void)
{
	int bad = 0;
	void *p = NULL;
	if (posix_memalign(&p, 24, 100) != EINVAL || p != NULL)
		bad++;
	void *tmp = via_memalign(16, 48);
	bad += !aligned(tmp, 16);
	free(tmp);
	bad += !aligned(via_posix_memalign(64, 100), 64);
	bad += !aligned(via_aligned_alloc(128, 256), 128);
	bad += !aligned(via_memalign(32, 40), 32);
	bad += !aligned(via_valloc(10), 4096);
	return bad;
}
