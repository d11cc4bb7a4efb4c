/* Roots the program registers (LSan's __lsan_register_root_region): ranges
 * of memory the scan reads for pointers although they are not roots by
 * themselves, such as a custom allocator's arena.
 * Context: cold, lock-free. The scan reads the registry with the world
 * stopped or in a frozen copy of the process, where a paused thread may be
 * half-way through a registration: each slot is claimed with a
 * compare-and-swap and published once filled, so the scan never sees a
 * half-written range and never waits. */
#include <errno.h>

#include "preload-private.h"

enum slot_state { FREE, BUSY, SET };

struct root_slot {
	_Atomic int state;
	uintptr_t lo;
	size_t size;
};

/* In our own data, which the scan never reads as a root. */
static struct root_slot slots[LT_ROOT_REGIONS_MAX];

int lt_roots_register(uintptr_t lo, size_t size)
{
	if (size == 0 || lo + size < lo)
		return -EINVAL;
	for (unsigned i = 0; i < LT_ROOT_REGIONS_MAX; i++) {
		int expected = FREE;
		if (!atomic_compare_exchange_strong(&slots[i].state, &expected, BUSY))
			continue;
		slots[i].lo = lo;
		slots[i].size = size;
		atomic_store_explicit(&slots[i].state, SET, memory_order_release);
		return 0;
	}
	return -ENOSPC;
}

/* As LSan: a range is unregistered only by its exact start and size; the
 * same range registered twice must be unregistered twice. */
int lt_roots_unregister(uintptr_t lo, size_t size)
{
	for (unsigned i = 0; i < LT_ROOT_REGIONS_MAX; i++) {
		int expected = SET;
		if (atomic_load_explicit(&slots[i].state, memory_order_acquire) != SET ||
		    slots[i].lo != lo || slots[i].size != size)
			continue;
		if (!atomic_compare_exchange_strong(&slots[i].state, &expected, BUSY))
			continue;
		if (slots[i].lo != lo || slots[i].size != size) {
			/* Another thread reused the slot meanwhile. */
			atomic_store_explicit(&slots[i].state, SET, memory_order_release);
			continue;
		}
		atomic_store_explicit(&slots[i].state, FREE, memory_order_release);
		return 0;
	}
	return -ENOENT;
}

void lt_roots_foreach(void (*fn)(uintptr_t lo, uintptr_t hi, void *ctx), void *ctx)
{
	for (unsigned i = 0; i < LT_ROOT_REGIONS_MAX; i++)
		if (atomic_load_explicit(&slots[i].state, memory_order_acquire) == SET)
			fn(slots[i].lo, slots[i].lo + slots[i].size, ctx);
}
