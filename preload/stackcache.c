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
 * Each thread first tries the entry that last answered the same call
 * site at about the same depth (its memo, in thread-local storage): the
 * calls of a loop come back to one stack, and then nothing is hashed and
 * no set is looked at. Otherwise a start hashes to a set of WAYS entries,
 * whose two-byte tags share a cache line: most misses end there. An entry
 * is guarded by a sequence count, odd while a thread rewrites it; a reader
 * that saw the count change ignores what it read. A thread that finds the
 * entry being written skips caching, so nobody ever waits. Tags and memos
 * are hints: the entry itself is checked in full. */
#include <errno.h>

#include "preload-private.h"

#define CACHE_BITS 14
#define CACHE_SIZE (1u << CACHE_BITS)
/* A start can have several stacks above it (a wrapper called from
 * different callers at the same depth): each set keeps the last WAYS, and
 * a start seen with two is marked shared, its stacks then spread over the
 * sets by their first callers as well (lt_stack_id). */
#define WAYS 4

/* One entry: the start it answers for, the id, and the stack words the
 * walk read (offsets from the start's stack pointer, and their values).
 * Entries are aligned to cache lines and laid out so that a lookup of a
 * stack of up to 13 words, the default depth's, touches three: the
 * header with the offsets, then the values. */
struct stack_entry {
	_Atomic uint64_t seq;
	uintptr_t ra, sp;
	uint64_t key;   /* see entry_key */
	/* The id (bits 0-31), the count of words logged (32-39), KEY_USES_BP,
	 * and the largest offset (48-63), which a thread's stack must hold. */
	uint64_t id_n;
	union {
		uint16_t off[LT_WALK_LOG_MAX];
		uint64_t off_words[LT_WALK_LOG_MAX / 4];   /* read four at a time */
	};
	uintptr_t value[LT_WALK_LOG_MAX];
	uintptr_t bp;   /* the caller's RBP, when the walk used it */
} __attribute__((aligned(64)));

/* Stacks of up to this many logged words (the default depth's) are
 * checked by code unrolled for them. */
#define QUICK_WORDS 12
_Static_assert(QUICK_WORDS % 4 == 0 && QUICK_WORDS <= LT_WALK_LOG_MAX &&
	       LT_WALK_LOG_MAX % 4 == 0, "offsets are copied four at a time");

/* What must match besides the return address and stack pointer, in one
 * word: the module epoch (a dlclose may have put other code at the same
 * addresses), the depth asked for, and the entry point, as an offset into
 * this library. */
#define KEY_MAX_BITS 9
#define KEY_ENTRY_BITS 23
#define KEY_USES_BP (1ull << 40)
#define KEY_N_SHIFT 32
#define KEY_OFF_SHIFT 48

static inline bool entry_key(uint32_t epoch, uint32_t max, uintptr_t entry, uint64_t *key)
{
	uintptr_t at = entry - lt_self_lo;
	if (LT_UNLIKELY(max >= 1u << KEY_MAX_BITS || at >= 1u << KEY_ENTRY_BITS))
		return false;
	*key = (uint64_t)epoch << 32 | (uint64_t)max << KEY_ENTRY_BITS | at;
	return true;
}

_Static_assert(CACHE_SIZE < 0xffff, "a memo holds a way number + 1 in 16 bits");

/* A memo naming way w for the call site ra. */
static inline uint64_t memo_of(uintptr_t ra, unsigned w)
{
	return (uint64_t)(uint32_t)ra << 32 | (w + 1);
}

static struct stack_entry *cache;
/* Per entry: 16 bits of its start's hash (never 0), 0 when unused. Two
 * bytes, so that the tags of the sets a program uses stay in the cache;
 * a tag that matches by chance costs a look at the entry, no more. */
static uint16_t *tags;
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

/* Set once every table above is mapped; a memo is only ever set after. */
static bool cache_ready;

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
	cache_ready = cache && tags && recent && shared_starts;
}

static inline uint64_t start_hash(uintptr_t entry, uintptr_t ra, uintptr_t sp,
				  const uintptr_t callers[LT_PEEK_WORDS])
{
	uint64_t h = (ra ^ (sp << 16) ^ (sp >> 4) ^ entry) * 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < LT_PEEK_WORDS; i++)
		h = (h ^ callers[i]) * 0xff51afd7ed558ccdull;
	return h;
}

static inline unsigned set_of(uint64_t hash)
{
	return (unsigned)(hash >> (64 - CACHE_BITS)) & ~(WAYS - 1u);
}

/* Bits of the hash the set does not use. */
static inline uint16_t tag_of(uint64_t hash)
{
	return (uint16_t)(hash >> 16) | 1;
}

/* Whether the stack holds the entry's words, for a stack of n words, n
 * at most QUICK_WORDS. The offsets are copied first and the copy
 * validated by the sequence count: they then belong to the header that
 * said they all lie inside the stack, and need no clamping one by one.
 * The words are compared without a branch each: on a hit all of them
 * are, and misses mostly end at the header. */
static inline __attribute__((always_inline)) bool
quick_words_match(const struct stack_entry *e, uintptr_t sp, uint32_t n, uint64_t seq)
{
	union {
		uint64_t words[QUICK_WORDS / 4];
		uint16_t at[QUICK_WORDS];
	} off;
	for (unsigned k = 0; k < QUICK_WORDS / 4; k++)
		off.words[k] = GET(e->off_words[k]);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&e->seq, memory_order_relaxed) != seq)
		return false;
	uintptr_t differ = 0;
#define WORD(i) (*(const uintptr_t *)(sp + off.at[i]) ^ GET(e->value[i]))
	switch (n) {
	case 12: differ |= WORD(11); /* fall through */
	case 11: differ |= WORD(10); /* fall through */
	case 10: differ |= WORD(9);  /* fall through */
	case 9: differ |= WORD(8);   /* fall through */
	case 8: differ |= WORD(7);   /* fall through */
	case 7: differ |= WORD(6);   /* fall through */
	case 6: differ |= WORD(5);   /* fall through */
	case 5: differ |= WORD(4);   /* fall through */
	case 4: differ |= WORD(3);   /* fall through */
	case 3: differ |= WORD(2);   /* fall through */
	case 2: differ |= WORD(1);   /* fall through */
	case 1: differ |= WORD(0);   /* fall through */
	default: break;
	}
#undef WORD
	return differ == 0;
}

/* The same for any number of words: each offset is clamped to this
 * thread's stack (span: the bytes above sp), so a torn entry cannot
 * fault. */
static LT_NOINLINE bool words_match(const struct stack_entry *e, uintptr_t sp, uintptr_t span,
				    uint32_t n)
{
	if (LT_UNLIKELY(n > LT_WALK_LOG_MAX))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		uintptr_t off = GET(e->off[i]);
		off = off <= span ? off : 0;
		if (*(const uintptr_t *)(sp + off) != GET(e->value[i]))
			return false;
	}
	return true;
}

/* The id the entry holds for this start if the stack still holds every
 * word the walk read; 0 otherwise. The entry may be rewritten by another
 * thread meanwhile: the sequence count tells. */
static inline __attribute__((always_inline)) uint32_t
lookup(const struct stack_entry *e, uintptr_t ra, uintptr_t sp, uintptr_t bp, uint64_t key,
       uintptr_t span)
{
	uint64_t seq = atomic_load_explicit(&e->seq, memory_order_acquire);
	uint64_t id_n = GET(e->id_n);
	if ((seq & 1) || GET(e->ra) != ra || GET(e->sp) != sp || GET(e->key) != key ||
	    (id_n >> KEY_OFF_SHIFT) > span ||
	    ((id_n & KEY_USES_BP) && GET(e->bp) != bp))
		return 0;
	uint32_t n = (uint8_t)(id_n >> KEY_N_SHIFT);
	if (LT_LIKELY(n <= QUICK_WORDS) ? !quick_words_match(e, sp, n, seq)
					: !words_match(e, sp, span, n))
		return 0;
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&e->seq, memory_order_relaxed) != seq)
		return 0;
	return (uint32_t)id_n;
}

static void store(struct stack_entry *e, uintptr_t ra, uintptr_t sp, uintptr_t bp, uint64_t key,
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
	uint16_t top = 0;
	PUT(e->ra, ra);
	PUT(e->sp, sp);
	PUT(e->bp, bp);
	PUT(e->key, key);
	for (uint32_t i = 0; i < log->n; i++) {
		PUT(e->off[i], log->off[i]);
		PUT(e->value[i], log->value[i]);
		top = log->off[i] > top ? log->off[i] : top;
	}
	PUT(e->id_n, id | (uint64_t)log->n << KEY_N_SHIFT | (log->uses_bp ? KEY_USES_BP : 0) |
			     (uint64_t)top << KEY_OFF_SHIFT);
	atomic_store_explicit(&e->seq, seq + 2, memory_order_release);
}

/* Cold: after a walk, into the set's way written longest ago (its tag
 * said nothing useful, or it is unused). Returns its way, for the
 * thread's memo. */
static LT_NOINLINE unsigned remember(unsigned set, uint64_t hash, uintptr_t ra, uintptr_t sp,
				     uintptr_t bp, uint64_t key, uint32_t id,
				     const struct lt_walk_log *log)
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
	store(&cache[v], ra, sp, bp, key, id, log);
	PUT(tags[v], tag_of(hash));
	PUT(recent[set / WAYS], (uint8_t)(v - set));
	return v;
}

/* Probes one set for this start under this hash: the id, its way noted
 * in *memo; or 0 with *seen set when an entry of the same hash held other
 * words. */
static inline __attribute__((always_inline)) uint32_t
probe(uint64_t hash, uintptr_t ra, uintptr_t sp, uintptr_t bp, uint64_t key, uintptr_t span,
      bool *seen, uint64_t *memo)
{
	unsigned set = set_of(hash);
	/* The set's tags and its most recent way are loaded side by side,
	 * neither waiting for the other: on a stack not seen for a while
	 * both are cache misses. */
	uint16_t tag = tag_of(hash);
	unsigned match = 0;
#pragma GCC unroll 8
	for (unsigned w = 0; w < WAYS; w++)
		match |= (unsigned)(GET(tags[set + w]) == tag) << w;
	unsigned first = GET(recent[set / WAYS]);
	if (!match)
		return 0;
	for (unsigned k = 0; k < WAYS; k++) {
		unsigned w = set + ((first + k) & (WAYS - 1));
		if (!((match >> (w - set)) & 1))
			continue;
		uint32_t id = lookup(&cache[w], ra, sp, bp, key, span);
		if (LT_LIKELY(id)) {
			if (k)
				PUT(recent[set / WAYS], (uint8_t)(w - set));
			*memo = memo_of(ra, w);
			return id;
		}
		*seen = true;
	}
	return 0;
}

/* The memo slot of a call site at one depth: a different return address
 * or stack pointer most often picks a different slot. */
static inline unsigned memo_slot(uintptr_t ra, uintptr_t sp)
{
	return (unsigned)((ra ^ (ra >> 7) ^ (sp >> 4)) & (LT_STACK_MEMO - 1));
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

/* The bytes of this thread's stack above sp that entries may name, or 0
 * when sp is not on the stack the thread is known to have (a signal
 * stack, or a thread whose first walk has not learnt its bounds). */
static inline uintptr_t stack_span(uintptr_t sp)
{
	const struct lt_thread *t = &lt_self;
	if (LT_UNLIKELY(sp >= t->stack_hi || sp <= t->stack_lo))
		return 0;
	return t->stack_hi - sp - sizeof(uintptr_t);
}

/* Cold next to the memo: the sets, and when they fail the walk. */
static LT_NOINLINE uint32_t find_or_walk(uintptr_t entry, uintptr_t ra, uintptr_t sp,
					 uintptr_t bp, uint32_t max, uint64_t key, bool keyed,
					 uintptr_t span, uint64_t *memo)
{
	uintptr_t callers[LT_PEEK_WORDS] = { 0 };
	const uint64_t start = start_hash(entry, ra, sp, callers);
	uint64_t hash = start;
	if (LT_LIKELY(cache_ready && keyed && span)) {
		/* Several stacks above one start (a wrapper called from many
		 * places at the same depth) would share one set of WAYS
		 * entries: once seen, they go to sets picked by their first
		 * callers' return addresses too. Only the set depends on
		 * them: an entry is still checked word by word. */
		bool probed = false, unused = false;
		bool shared = start_is_shared(start);
		if (!shared) {
			uint32_t id = probe(hash, ra, sp, bp, key, span, &shared, memo);
			if (LT_LIKELY(id))
				return id;
			if (shared)
				mark_start_shared(start);
			probed = true;
		}
		if (shared && lt_backtrace_peek(ra, sp, bp, callers)) {
			hash = start_hash(entry, ra, sp, callers);
			uint32_t id = probe(hash, ra, sp, bp, key, span, &unused, memo);
			if (LT_LIKELY(id))
				return id;
		}
		/* Stored before its start was found shared: still under the
		 * start alone. */
		if (!probed) {
			uint32_t id = probe(start, ra, sp, bp, key, span, &unused, memo);
			if (id)
				return id;
		}
	}
	/* A walk may call into libunwind and the dynamic linker, which may
	 * set errno: the program's is kept. */
	int saved_errno = errno;
	uintptr_t frames[LT_SNAP_MAX_DEPTH];
	struct lt_walk_log log;
	log.usable = true;      /* the arrays are filled up to n, not cleared */
	log.uses_bp = false;
	log.n = 0;
	uint32_t depth = lt_backtrace_logged(entry, ra, sp, bp, frames, max, &log);
	uint32_t id = lt_depot_intern(frames, depth);
	if (cache_ready && keyed && id && log.usable)
		*memo = memo_of(ra, remember(set_of(hash), hash, ra, sp, bp, key, id, &log));
	errno = saved_errno;
	return id;
}

uint32_t lt_stack_id(uintptr_t entry, uintptr_t ra, uintptr_t sp, uint32_t max)
{
	/* The caller's RBP: nothing in this library touches the register
	 * (it is built with -ffixed-rbp). */
	uintptr_t bp;
	__asm__ volatile("mov %%rbp, %0" : "=r"(bp));
	uint64_t key = 0;
	bool keyed = entry_key(atomic_load_explicit(&lt_module_epoch, memory_order_relaxed), max,
			       entry, &key);
	uintptr_t span = keyed ? stack_span(sp) : 0;
	/* A call site tends to see the stack it saw last (the calls of a
	 * loop): the entry that answered it then is checked first, before
	 * any hashing or look at the callers. */
	uint64_t *memo = &lt_self.stack_memo[memo_slot(ra, sp)];
	uint64_t last = *memo;
	/* The entry is not touched unless the call site is the one noted:
	 * an entry not used for a while is a cache miss. */
	if (LT_LIKELY((last >> 32) == (uint32_t)ra && (uint16_t)last && span)) {
		uint32_t id = lookup(&cache[(uint16_t)last - 1], ra, sp, bp, key, span);
		if (LT_LIKELY(id))
			return id;
	}
	return find_or_walk(entry, ra, sp, bp, max, key, keyed, span, memo);
}
