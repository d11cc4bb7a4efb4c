/* root-mmap-shared: blocks kept only in shared mappings: an anonymous
 * shared mapping, and a shared mapping of a memfd file.
 *
 *   anonymous MAP_SHARED region, slot 2 -> 64-byte block: still reachable
 *     (malloc <- make_block <- fill <- main, first line)
 *   memfd MAP_SHARED region, slot 9 -> 80-byte block: still reachable
 *     (malloc <- make_block <- fill <- main, second line)
 *   a 32-byte block dropped outright: definitely lost (malloc <-
 *     make_block <- fill <- main, third line), so the report is not all
 *     reachable.
 * Heap: 3 allocs, 0 frees, 176 bytes allocated.
 * leaktrace runs with track_mmap=no, valgrind's model, where mappings are
 * roots; by default it tracks them as blocks (tests/mappings). */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "parity.h"

EX_FRAME static void *make_block(size_t n)
{
	void *p = malloc(n);
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static int fill(void)
{
	void **anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd = memfd_create("parity", 0);
	if (anon == MAP_FAILED || fd < 0 || ftruncate(fd, 4096) != 0)
		return 1;
	void **file = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (file == MAP_FAILED)
		return 1;
	anon[2] = make_block(64);  /* still reachable: anonymous shared */
	file[9] = make_block(80);  /* still reachable: memfd shared */
	void *lost = make_block(32); /* LEAK */
	ex_use(lost);
	return anon[2] && file[9] && lost ? 0 : 1;
}

int main(void)
{
	int r = fill();
	pt_scrub_stack();
	return r;
}
