/* Recording: what happens after the real allocator answered.
 * Context: HOT, entered with the thread's depth raised. No locks, no stdio,
 * no allocator of the program; errno is left as the real call set it. */
#include <errno.h>
#include <sys/auxv.h>

#include "preload-private.h"

_Atomic int lt_init_state;
size_t lt_page_size = 4096;
unsigned lt_capture_depth = 12;

bool lt_init_core(void)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&lt_init_state, &expected, 1))
		return expected == 2;
	lt_self.depth++;
	if (getauxval(AT_PAGESZ))
		lt_page_size = getauxval(AT_PAGESZ);
	lt_self_range_init();
	lt_table_init();
	lt_depot_init();
	lt_thread_init();
	lt_backtrace_init();
	lt_stack_cache_init();
	lt_threadreg_init();
	bool ok = lt_resolve_real();
	lt_self.depth--;
	atomic_store_explicit(&lt_init_state, ok ? 2 : 0, memory_order_release);
	return ok;
}

void lt_record_alloc(struct lt_thread *t, void *p, uint64_t size, uintptr_t entry,
		     uintptr_t ra, uintptr_t cfa)
{
	int saved = errno;
	struct lt_counter_slot *c = lt_thread_counters(t);

	c->allocs++;
	c->bytes += size;
	void *slot = lt_table_prefetch((uintptr_t)p);
	uint32_t id = lt_stack_id(entry, ra, cfa, lt_capture_depth);
	/* The program's __lsan_disable() is rare: one predictable test. */
	if (LT_UNLIKELY(t->ignore_depth) && id)
		id |= LT_STACK_IGNORED;
	if (LT_LIKELY(id))
		lt_table_insert_at(slot, (uintptr_t)p, size, id);
	else
		lt_table_count_dropped();
	errno = saved;
}

void lt_record_free(struct lt_thread *t, void *p)
{
	struct lt_table_entry old;
	lt_table_remove((uintptr_t)p, &old);
	lt_counted_free(t);
}
