/* Recording: what happens after the real allocator answered.
 * Context: HOT, entered with the thread's depth raised. No locks, no stdio,
 * no allocator of the program; errno is left as the real call set it (the
 * stack cache keeps it across a walk, the table's mappings keep it). */
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
	lt_table_set_glibc_chunks(ok && lt_real_malloc_is_glibc());
	lt_self.depth--;
	atomic_store_explicit(&lt_init_state, ok ? 2 : 0, memory_order_release);
	return ok;
}

/* The block's address is kept masked while the stack is walked: the walk's
 * deep frames save callee-saved registers on the stack, and an unmasked
 * copy left there, below the program's frames, can later sit in a slot of
 * a program frame that is never written (a large local buffer, say) and
 * make a lost block look reachable. Natively no such copy exists. The
 * empty asm statements keep the compiler from undoing the mask. */
#define HIDE_MASK ((uintptr_t)0xa5a5a5a5a5a5a5a5ull)

static inline uintptr_t hide(void *p)
{
	uintptr_t v = (uintptr_t)p ^ HIDE_MASK;
	__asm__("" : "+r"(v));
	return v;
}

static inline void *unhide(uintptr_t v)
{
	__asm__("" : "+r"(v));
	return (void *)(v ^ HIDE_MASK);
}

/* The same holds for registers: the table insert leaves the address in
 * scratch registers, which the program may not touch again before it is
 * stopped for a report (a call into the kernel, say), and a report reads
 * the registers of every thread. They are ours to clobber. */
static inline void clear_scratch_registers(void)
{
	__asm__ volatile("xor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t"
			 "xor %%esi, %%esi\n\txor %%edi, %%edi\n\t"
			 "xor %%r8d, %%r8d\n\txor %%r9d, %%r9d\n\t"
			 "xor %%r10d, %%r10d\n\txor %%r11d, %%r11d"
			 ::: "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
}

void *lt_record_alloc(struct lt_thread *t, void *p, uint64_t size, uintptr_t entry,
		      uintptr_t ra, uintptr_t cfa)
{
	struct lt_counter_slot *c = lt_thread_counters(t);

	c->allocs++;
	c->bytes += size;
	void *slot = lt_table_prefetch((uintptr_t)p);
	uintptr_t hidden = hide(p);
	uint32_t id = lt_stack_id(entry, ra, cfa, lt_capture_depth);
	p = unhide(hidden);
	/* The program's __lsan_disable() is rare: one predictable test. */
	if (LT_UNLIKELY(t->ignore_depth) && id)
		id |= LT_STACK_IGNORED;
	if (LT_LIKELY(id))
		lt_table_insert_at(slot, (uintptr_t)p, size, id);
	else
		lt_table_count_dropped();
	clear_scratch_registers();
	return p;
}

void lt_record_free(struct lt_thread *t, void *p)
{
	lt_table_remove((uintptr_t)p, NULL);
	lt_counted_free(t);
}
