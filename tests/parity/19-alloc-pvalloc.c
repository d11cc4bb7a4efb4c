/* alloc-pvalloc: pvalloc, the one allocation entry point valgrind cannot
 * be compared on: valgrind 3.19 aborts the program in it. The expected
 * records come from the program's own logic instead (the EXPECT lines
 * below, read by compare_valgrind.py --expect-from):
 *
 * pvalloc(n) allocates n rounded up to a whole number of pages, aligned
 * to a page (the page is 4096 bytes on x86-64; main checks both).
 *   pvalloc(100), dropped: one page, definitely lost
 *   pvalloc(5000), kept in a global: two pages, still reachable
 *
 * EXPECT: Leak_DefinitelyLost 4096 1 pvalloc make_pages@first main@call
 * EXPECT: Leak_StillReachable 8192 1 pvalloc make_pages@second main@call
 * EXPECT-HEAP: 2 allocs, 0 frees, 12288 bytes allocated
 */
#include <malloc.h>
#include <stdint.h>
#include <unistd.h>

#include "parity.h"

void *g_pages;

EX_FRAME static int make_pages(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *lost = pvalloc(100); /* @first LEAK: one page */
	ex_use(lost);
	g_pages = pvalloc(5000); /* @second reachable: two pages */
	ex_use(g_pages);
	if (page != 4096 || !lost || !g_pages)
		return 1;
	if ((uintptr_t)lost % page != 0 || (uintptr_t)g_pages % page != 0)
		return 1;
	return malloc_usable_size(lost) >= page && malloc_usable_size(g_pages) >= 2 * page ? 0 : 1;
}

int main(void)
{
	int r = make_pages(); /* @call */
	pt_scrub_stack();
	return r;
}
