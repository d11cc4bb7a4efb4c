/* The few OS primitives the library needs, as raw system calls.
 * Context: any. Mappings are made with syscall(2) rather than mmap(3) so
 * that our own bookkeeping never passes through the program's interposed
 * mmap, and never shows up as a mapping of the program. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload-private.h"

void *lt_os_map(size_t size)
{
	int saved = errno;
	long r = syscall(SYS_mmap, NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	errno = saved;
	if (r < 0 && r > -4096)
		return NULL;
	if ((void *)r == MAP_FAILED)
		return NULL;
	return (void *)r;
}

void lt_os_unmap(void *p, size_t size)
{
	int saved = errno;
	syscall(SYS_munmap, p, size);
	errno = saved;
}
