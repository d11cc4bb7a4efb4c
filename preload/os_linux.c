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

/* Every mapping of ours is remembered, so that the reachability scan
 * never takes our bookkeeping for memory of the program. Lock-free: a
 * slot is claimed with compare-and-swap, freed by zeroing it. */
#define MAX_OWN 16384

struct own_range {
	_Atomic uintptr_t lo;
	uintptr_t hi;
};

static struct own_range own[MAX_OWN];
static _Atomic unsigned own_used;

static void remember(uintptr_t lo, uintptr_t hi)
{
	unsigned n = atomic_load(&own_used);
	for (unsigned i = 0; i < n && i < MAX_OWN; i++) {
		uintptr_t zero = 0;
		if (atomic_load_explicit(&own[i].lo, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong(&own[i].lo, &zero, 1)) {
			own[i].hi = hi;
			atomic_store_explicit(&own[i].lo, lo, memory_order_release);
			return;
		}
	}
	unsigned i = atomic_fetch_add(&own_used, 1);
	if (i >= MAX_OWN)
		return;
	own[i].hi = hi;
	atomic_store_explicit(&own[i].lo, lo, memory_order_release);
}

static void forget(uintptr_t lo)
{
	unsigned n = atomic_load(&own_used);
	for (unsigned i = 0; i < n && i < MAX_OWN; i++)
		if (atomic_load_explicit(&own[i].lo, memory_order_relaxed) == lo) {
			atomic_store(&own[i].lo, 0);
			return;
		}
}

void *lt_os_map(size_t size)
{
	int saved = errno;
	long r = syscall(SYS_mmap, NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	errno = saved;
	if (r < 0 && r > -4096)
		return NULL;
	remember((uintptr_t)r, (uintptr_t)r + size);
	return (void *)r;
}

void lt_os_unmap(void *p, size_t size)
{
	int saved = errno;
	forget((uintptr_t)p);
	syscall(SYS_munmap, p, size);
	errno = saved;
}

void lt_own_range_add(uintptr_t lo, uintptr_t hi)
{
	remember(lo, hi);
}

void lt_own_range_remove(uintptr_t lo)
{
	forget(lo);
}

void lt_own_ranges_foreach(void (*fn)(uintptr_t lo, uintptr_t hi, void *ctx), void *ctx)
{
	unsigned n = atomic_load(&own_used);
	for (unsigned i = 0; i < n && i < MAX_OWN; i++) {
		uintptr_t lo = atomic_load_explicit(&own[i].lo, memory_order_acquire);
		if (lo > 1)
			fn(lo, own[i].hi, ctx);
	}
}
