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
 * A start hashes to a set of WAYS entries, whose one-word tags share a
 * cache line: most misses end there. An entry is guarded by a sequence
 * count, odd while a thread rewrites it; a reader that saw the count
 * change ignores what it read. A thread that finds the entry being written
 * skips caching, so nobody ever waits. Tags are hints: the entry itself is
 * checked in full. */
#include "preload-private.h"

#define CACHE_BITS 12
#define CACHE_SIZE (1u << CACHE_BITS)
/* A start can have several stacks above it (a wrapper called from
 * different callers at the same depth): each set keeps the last WAYS, and
 * a start seen with two is marked shared, its stacks then spread over the
 * sets by their first callers as well (lt_stack_id). */
#define WAYS 4

/* One entry: the start it answers for, the id, and the stack words the
 * walk read (offsets from the start's stack pointer, and their values),
 * laid out so that a lookup touches two cache lines of header and
 * offsets and as many of values as the walk read words. */
struct stack_entry {
	_Atomic uint64_t seq;
	uintptr_t entry, ra, sp, bp;
	uint32_t epoch, id;
	uint16_t max, n;
	bool uses_bp;
	uint16_t off[LT_WALK_LOG_MAX];
	uintptr_t value[LT_WALK_LOG_MAX];
};

static struct stack_entry *cache;
static uint64_t *tags;   /* per entry: its start's hash, 0 when unused */
/* Per set: the way that answered or was written last, tried first: the
 * calls of a loop come back to the same stack. */
static uint8_t *recent;
/* One bit per start hash (folded): set once stacks above the start were
 * found to differ, so that its stacks are looked for by their callers
 * first. A false positive costs the look at the callers, nothing else. */
#define SHARED_BITS 16
static _Atomic uint64_t *shared_starts;

/* Fields other than seq are read and written as relaxed atomics: readers
 * may race with a writer, and the sequence count tells them so. */
#define GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define PUT(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

void lt_stack_cache_init(void)
{
	if (!cache)
		cache = lt_os_map(sizeof(*cache) * CACHE_SIZE);
	if (!tags)
		tags = lt_os_map(sizeof(*tags) * CACHE_SIZE);
	if (!recent)
		recent = lt_os_map(CACHE_SIZE / WAYS);
	if (!shared_starts)
		shared_starts = lt_os_map((1u << SHARED_BITS) / 8);
}

static inline uint64_t start_hash(uintptr_t entry, uintptr_t ra, uintptr_t sp,
				  const uintptr_t callers[LT_PEEK_WORDS])
{
	uint64_t h = (ra ^ (sp << 16) ^ (sp >> 4) ^ entry) * 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < LT_PEEK_WORDS; i++)
		h = (h ^ callers[i]) * 0xff51afd7ed558ccdull;
	return h | 1;   /* never 0, the unused tag */
}

static inline unsigned set_of(uint64_t hash)
{
	return (unsigned)(hash >> (64 - CACHE_BITS)) & ~(WAYS - 1u);
}

/* The id the entry holds for this start if the stack still holds every
 * word the walk read; 0 otherwise. The words are compared in the order
 * the walk read them: stacks from the same start part near it. Each
 * offset is clamped to this thread's stack, so a torn entry cannot
 * fault. */
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
		uintptr_t off = GET(e->off[i]);
		off = off <= span ? off : 0;
		if (*(const uintptr_t *)(sp + off) != GET(e->value[i]))
			return 0;
	}
	uint32_t id = GET(e->id);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&e->seq, memory_order_relaxed) != seq)
		return 0;
	return id;
}

static void store(struct stack_entry *e, uintptr_t entry, uintptr_t ra, uintptr_t sp,
		  uintptr_t bp, uint32_t max, uint32_t epoch, uint32_t id,
		  const struct lt_walk_log *log)
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
	PUT(e->max, (uint16_t)max);
	PUT(e->id, id);
	PUT(e->n, (uint16_t)log->n);
	for (uint32_t i = 0; i < log->n; i++) {
		PUT(e->off[i], log->off[i]);
		PUT(e->value[i], log->value[i]);
	}
	atomic_store_explicit(&e->seq, seq + 2, memory_order_release);
}

/* Cold: after a walk, into the set's way written longest ago (its tag
 * said nothing useful, or it is unused). */
static LT_NOINLINE void remember(unsigned set, uint64_t hash, uintptr_t entry, uintptr_t ra,
				 uintptr_t sp, uintptr_t bp, uint32_t max, uint32_t epoch,
				 uint32_t id, const struct lt_walk_log *log)
{
	unsigned v = set;
	uint64_t oldest = UINT64_MAX;
	for (unsigned w = set; w < set + WAYS; w++) {
		if (GET(tags[w]) == 0) {
			v = w;
			break;
		}
		/* Each store adds 2 to an entry's count: the least rewritten
		 * way goes, which spreads the stores over the set. */
		uint64_t seq = atomic_load_explicit(&cache[w].seq, memory_order_relaxed);
		if (seq < oldest) {
			oldest = seq;
			v = w;
		}
	}
	store(&cache[v], entry, ra, sp, bp, max, epoch, id, log);
	PUT(tags[v], hash);
	PUT(recent[set / WAYS], (uint8_t)(v - set));
}

/* Probes one set for this start under this hash: the id, or 0 with
 * *seen set when an entry of the same hash held other words. */
static inline __attribute__((always_inline)) uint32_t
probe(uint64_t hash, uintptr_t entry, uintptr_t ra, uintptr_t sp, uintptr_t bp, uint32_t max,
      uint32_t epoch, bool *seen)
{
	unsigned set = set_of(hash);
	unsigned first = GET(recent[set / WAYS]);
	for (unsigned k = 0; k < WAYS; k++) {
		unsigned w = set + ((first + k) & (WAYS - 1));
		if (GET(tags[w]) != hash)
			continue;
		uint32_t id = lookup(&cache[w], entry, ra, sp, bp, max, epoch);
		if (LT_LIKELY(id)) {
			if (k)
				PUT(recent[set / WAYS], (uint8_t)(w - set));
			return id;
		}
		*seen = true;
	}
	return 0;
}

static inline unsigned shared_bit(uint64_t start)
{
	return (unsigned)(start >> (64 - SHARED_BITS));
}

static inline bool start_is_shared(uint64_t start)
{
	unsigned b = shared_bit(start);
	return (atomic_load_explicit(&shared_starts[b / 64], memory_order_relaxed) >> (b % 64)) & 1;
}

static LT_NOINLINE void mark_start_shared(uint64_t start)
{
	unsigned b = shared_bit(start);
	atomic_fetch_or_explicit(&shared_starts[b / 64], 1ull << (b % 64), memory_order_relaxed);
}

uint32_t lt_stack_id(uintptr_t entry, uintptr_t ra, uintptr_t sp, uint32_t max)
{
	/* The caller's RBP: nothing in this library touches the register
	 * (it is built with -ffixed-rbp). */
	uintptr_t bp;
	__asm__ volatile("mov %%rbp, %0" : "=r"(bp));
	uint32_t epoch = atomic_load_explicit(&lt_module_epoch, memory_order_relaxed);
	uintptr_t callers[LT_PEEK_WORDS] = { 0 };
	const uint64_t start = start_hash(entry, ra, sp, callers);
	uint64_t hash = start;
	bool ready = cache && tags && recent && shared_starts, shared = false;
	if (LT_LIKELY(ready)) {
		/* Several stacks above one start (a wrapper called from many
		 * places at the same depth) would share one set of WAYS
		 * entries: once seen, they go to sets picked by their first
		 * callers' return addresses too. Only the set depends on
		 * them: an entry is still checked word by word. */
		bool probed = false, unused = false;
		shared = start_is_shared(start);
		if (!shared) {
			uint32_t id = probe(hash, entry, ra, sp, bp, max, epoch, &shared);
			if (LT_LIKELY(id))
				return id;
			if (shared)
				mark_start_shared(start);
			probed = true;
		}
		if (shared && lt_backtrace_peek(ra, sp, bp, callers)) {
			hash = start_hash(entry, ra, sp, callers);
			uint32_t id = probe(hash, entry, ra, sp, bp, max, epoch, &unused);
			if (LT_LIKELY(id))
				return id;
		}
		/* Stored before its start was found shared: still under the
		 * start alone. */
		if (!probed) {
			uint32_t id = probe(start, entry, ra, sp, bp, max, epoch, &unused);
			if (id)
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
	if (ready && id && log.usable)
		remember(set_of(hash), hash, entry, ra, sp, bp, max, epoch, id, &log);
	return id;
}
