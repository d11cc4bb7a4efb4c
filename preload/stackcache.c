/* Stack ids of recent call sites, found again without walking the stack.
 * Context: HOT. No locks, no stdio, no allocation; lock-free across threads.
 *
 * A fast walk (backtrace.c) is a function of where it starts (the entry
 * point, the return address into the program, that frame's stack pointer
 * and, when a rule used it, the caller's RBP) and of the stack words it
 * reads, nothing else: the rules depend on the return addresses only, and
 * those are among the words read. So an entry keyed by the start that
 * lists the words the walk read, with their values, names the stack id as
 * long as every listed word still holds its value. Checking that is a few
 * independent loads, where the walk is a chain of dependent ones followed
 * by hashing and comparing the whole stack in the depot.
 *
 * Entries are direct-mapped by the start and guarded by a sequence count,
 * odd while a thread rewrites the entry; a reader that saw the count change
 * ignores what it read. A thread that finds the entry being written skips
 * caching, so nobody ever waits. */
#include "preload-private.h"

#define CACHE_BITS 11
#define CACHE_SIZE (1u << CACHE_BITS)
/* A start can have several stacks above it (a wrapper called from
 * different callers at the same depth): each set keeps the last WAYS. */
#define WAYS 4

struct stack_entry {
	_Atomic uint64_t seq;
	uintptr_t entry, ra, sp, bp;
	uint32_t epoch, max, id, n;
	bool uses_bp;
	uint32_t off[LT_WALK_LOG_MAX];
	uintptr_t value[LT_WALK_LOG_MAX];
};

static struct stack_entry *cache;

/* Fields other than seq are read and written as relaxed atomics: readers
 * may race with a writer, and the sequence count tells them so. */
#define GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define PUT(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

void lt_stack_cache_init(void)
{
	if (!cache)
		cache = lt_os_map(sizeof(*cache) * CACHE_SIZE);
}

/* The first entry of the start's set of WAYS. */
static inline struct stack_entry *set_for(uintptr_t entry, uintptr_t ra, uintptr_t sp)
{
	uint64_t h = (ra ^ (sp << 16) ^ (sp >> 4) ^ entry) * 0x9e3779b97f4a7c15ull;
	return &cache[(h >> (64 - CACHE_BITS)) & ~(uint64_t)(WAYS - 1)];
}

/* The id the entry holds for this start if the stack still holds every
 * word the walk read; 0 otherwise. Each word is read only when its offset
 * stays inside this thread's stack, so a torn entry cannot fault. */
static inline uint32_t lookup(const struct stack_entry *e, uintptr_t entry, uintptr_t ra,
			      uintptr_t sp, uintptr_t bp, uint32_t max, uint32_t epoch)
{
	const struct lt_thread *t = &lt_self;
	uint64_t seq = atomic_load_explicit(&e->seq, memory_order_acquire);
	if ((seq & 1) || GET(e->ra) != ra || GET(e->sp) != sp || GET(e->entry) != entry ||
	    GET(e->max) != max || GET(e->epoch) != epoch || (GET(e->uses_bp) && GET(e->bp) != bp))
		return 0;
	if (LT_UNLIKELY(sp >= t->stack_hi || sp <= t->stack_lo))
		return 0;
	uintptr_t span = t->stack_hi - sp - sizeof(uintptr_t);
	uint32_t n = GET(e->n);
	if (LT_UNLIKELY(n > LT_WALK_LOG_MAX))
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = GET(e->off[i]);
		if (LT_UNLIKELY(off > span))
			return 0;
		if (*(const uintptr_t *)(sp + off) != GET(e->value[i]))
			return 0;
	}
	uint32_t id = GET(e->id);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&e->seq, memory_order_relaxed) != seq)
		return 0;
	return id;
}

static LT_NOINLINE void store(struct stack_entry *e, uintptr_t entry, uintptr_t ra,
			      uintptr_t sp, uintptr_t bp, uint32_t max, uint32_t epoch,
			      uint32_t id, const struct lt_walk_log *log)
{
	uint64_t seq = atomic_load_explicit(&e->seq, memory_order_relaxed);
	/* Odd: another thread is writing it (or was, in the parent of a fork:
	 * the entry then stays unused). */
	if ((seq & 1) || !atomic_compare_exchange_strong_explicit(&e->seq, &seq, seq + 1,
								  memory_order_acq_rel,
								  memory_order_relaxed))
		return;
	atomic_thread_fence(memory_order_release);
	PUT(e->entry, entry);
	PUT(e->ra, ra);
	PUT(e->sp, sp);
	PUT(e->bp, bp);
	PUT(e->uses_bp, log->uses_bp);
	PUT(e->epoch, epoch);
	PUT(e->max, max);
	PUT(e->id, id);
	PUT(e->n, log->n);
	for (uint32_t i = 0; i < log->n; i++) {
		PUT(e->off[i], log->off[i]);
		PUT(e->value[i], log->value[i]);
	}
	atomic_store_explicit(&e->seq, seq + 2, memory_order_release);
}

/* The way to overwrite: the older one, by the sequence counts (each
 * store adds 2), so a set keeps the two most recent stacks. */
static inline struct stack_entry *victim(struct stack_entry *set)
{
	struct stack_entry *v = &set[0];
	uint64_t oldest = atomic_load_explicit(&set[0].seq, memory_order_relaxed);
	for (unsigned w = 1; w < WAYS; w++) {
		uint64_t seq = atomic_load_explicit(&set[w].seq, memory_order_relaxed);
		if (seq < oldest) {
			oldest = seq;
			v = &set[w];
		}
	}
	return v;
}

uint32_t lt_stack_id(uintptr_t entry, uintptr_t ra, uintptr_t sp, uint32_t max)
{
	/* The caller's RBP: nothing in this library touches the register
	 * (it is built with -ffixed-rbp). */
	uintptr_t bp;
	__asm__ volatile("mov %%rbp, %0" : "=r"(bp));
	uint32_t epoch = atomic_load_explicit(&lt_module_epoch, memory_order_relaxed);
	struct stack_entry *set = NULL;
	if (LT_LIKELY(cache)) {
		set = set_for(entry, ra, sp);
		for (unsigned w = 0; w < WAYS; w++) {
			uint32_t id = lookup(&set[w], entry, ra, sp, bp, max, epoch);
			if (LT_LIKELY(id))
				return id;
		}
	}
	uintptr_t frames[LT_SNAP_MAX_DEPTH];
	struct lt_walk_log log;
	log.usable = true;      /* the arrays are filled up to n, not cleared */
	log.uses_bp = false;
	log.n = 0;
	uint32_t depth = lt_backtrace_logged(entry, ra, sp, bp, frames, max, &log);
	uint32_t id = lt_depot_intern(frames, depth);
	if (set && id && log.usable)
		store(victim(set), entry, ra, sp, bp, max, epoch, id, &log);
	return id;
}
