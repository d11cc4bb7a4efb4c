/* Address space held back for the report. A program that runs into its
 * RLIMIT_AS sees NULL from malloc, as it would untraced, and the tracer
 * drops the records it has no room for (and says how many); but the report
 * itself needs mappings of its own to scan and write. A PROT_NONE
 * reservation made at start-up counts against the limit from the start, so
 * the program's budget is what it always was, and gives its room back to
 * the process, or the frozen copy, that makes the report.
 * Context: cold, SIGNAL-SAFE (mmap and munmap system calls only). */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload-private.h"

/* Enough for the scan and the snapshot of a few million blocks; it costs
 * address space only, never memory. */
#define RESERVE_SIZE ((size_t)64 << 20)

static _Atomic(void *) reserve;

void lt_as_reserve_init(void)
{
	void *p = (void *)syscall(SYS_mmap, NULL, RESERVE_SIZE, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != MAP_FAILED)
		atomic_store(&reserve, p);
}

void lt_as_reserve_release(void)
{
	void *p = atomic_exchange(&reserve, NULL);
	if (p)
		syscall(SYS_munmap, p, RESERVE_SIZE);
}
