/* alloc-aligned: the aligned allocation entry points, each leaking one
 * block from its own line of alloc_aligned.
 *
 *   posix_memalign(&p, 64, 100)     100 bytes, definitely lost
 *   aligned_alloc(128, 256)         256 bytes, definitely lost (valgrind
 *                                   3.19 names the frame memalign)
 *   memalign(32, 72)                72 bytes, definitely lost
 *   valloc(300)                     300 bytes, definitely lost (valgrind
 *                                   3.19 names the frame memalign)
 *   posix_memalign(&p, 4096, 16), kept in a global: 16 bytes still
 *                                   reachable
 * Each result is checked for its alignment; the exit status says so.
 * Heap: 5 allocs, 0 frees, 744 bytes allocated. */
#include <malloc.h>
#include <stdint.h>
#include <unistd.h>

#include "parity.h"

static void *volatile sink;
void *g_page_aligned;

static int aligned(const void *p, size_t a)
{
	return p && ((uintptr_t)p & (a - 1)) == 0;
}

EX_FRAME static int alloc_aligned(void)
{
	int bad = 0;
	void *p = NULL;
	bad += posix_memalign(&p, 64, 100) != 0 || !aligned(p, 64);
	sink = p;
	p = aligned_alloc(128, 256);
	bad += !aligned(p, 128);
	sink = p;
	p = memalign(32, 72);
	bad += !aligned(p, 32);
	sink = p;
	p = valloc(300);
	bad += !aligned(p, (size_t)sysconf(_SC_PAGESIZE));
	sink = p;
	bad += posix_memalign(&g_page_aligned, 4096, 16) != 0 || !aligned(g_page_aligned, 4096);
	sink = NULL;
	return bad;
}

int main(void)
{
	int r = alloc_aligned();
	pt_scrub_stack();
	return r;
}
