/* Backtraces, correct in code built without frame pointers.
 * Context: HOT, always called with the thread's depth raised.
 *
 * The fast path walks the stack itself with one rule per code address
 * (CFA = RSP or RBP + offset; return address and RBP at fixed offsets
 * from it), taken from the module's .eh_frame by cfi.c on first sight and
 * kept in a lock-free cache: a repeated stack costs a cache probe and a
 * load or two per frame. Whatever that rule cannot express (signal
 * frames, CFA expressions, code without unwind information, a stack
 * pointer outside the thread's known stack) goes to libunwind, which reads
 * the same DWARF in full; libunwind may allocate or call dl_iterate_phdr,
 * which the raised depth lets through. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <dlfcn.h>

#include "cfi.h"
#include "maps.h"
#include "preload-private.h"

/* Frames of our own library (interposer, recorder, this file) that
 * libunwind sees before the program's first frame. */
#define OWN_FRAMES_MAX 8

#define RULE_CACHE_BITS 14
#define RULE_CACHE_SIZE (1u << RULE_CACHE_BITS)

/* One entry: the rule packed in a word, and that word xor-ed with the code
 * address. A reader that sees halves of two different writes gets a check
 * that fails, so no lock is needed. */
struct cached_rule {
	_Atomic uint64_t check;
	_Atomic uint64_t packed;
};

static struct cached_rule *rule_cache;
extern int _dl_find_object(void *pc, struct dl_find_object *result) __attribute__((weak));

static uintptr_t main_stack_hi;
static pid_t main_tid;
bool lt_fast_unwind_enabled = true;

static uint64_t pack(const struct lt_unwind_rule *r)
{
	return (uint64_t)r->kind | (uint64_t)r->cfa_from_rbp << 2 | (uint64_t)r->rbp_saved << 3 |
	       (uint64_t)(uint16_t)r->cfa_off << 8 | (uint64_t)(uint16_t)r->ra_off << 24 |
	       (uint64_t)(uint16_t)r->rbp_off << 40;
}

static inline uint32_t slot_of(uintptr_t pc)
{
	return (uint32_t)((pc * 0x9e3779b97f4a7c15ull) >> (64 - RULE_CACHE_BITS));
}

static LT_NOINLINE void fill_rule(uintptr_t pc, struct lt_unwind_rule *r)
{
	if (!lt_cfi_rule(pc, r))
		r->kind = LT_RULE_NONE;
	uint64_t v = pack(r);
	struct cached_rule *e = &rule_cache[slot_of(pc)];
	atomic_store_explicit(&e->packed, v, memory_order_relaxed);
	atomic_store_explicit(&e->check, v ^ pc, memory_order_relaxed);
}

/* The packed rule for pc; fields are taken apart in registers. */
static inline uint64_t rule_for(uintptr_t pc)
{
	struct cached_rule *e = &rule_cache[slot_of(pc)];
	uint64_t check = atomic_load_explicit(&e->check, memory_order_relaxed);
	uint64_t v = atomic_load_explicit(&e->packed, memory_order_relaxed);
	if (LT_LIKELY((check ^ v) == pc && check != 0))
		return v;
	struct lt_unwind_rule r;
	fill_rule(pc, &r);
	return pack(&r);
}

void lt_backtrace_forget_rules(void)
{
	if (!rule_cache)
		return;
	/* A zero check word is a miss: a reader refills the entry. */
	for (uint32_t i = 0; i < RULE_CACHE_SIZE; i++)
		atomic_store_explicit(&rule_cache[i].check, 0, memory_order_relaxed);
}

#define RULE_KIND(v) ((unsigned)(v) & 3)
#define RULE_FROM_RBP(v) (((v) >> 2) & 1)
#define RULE_RBP_SAVED(v) (((v) >> 3) & 1)
#define RULE_CFA_OFF(v) ((intptr_t)(int16_t)((v) >> 8))
#define RULE_RBP_OFF(v) ((intptr_t)(int16_t)((v) >> 40))

static void find_main_stack(void)
{
	struct lt_maps maps;
	uintptr_t sp = (uintptr_t)__builtin_dwarf_cfa();
	if (lt_maps_read(&maps) != 0)
		return;
	const struct lt_region *r = lt_maps_find(&maps, sp);
	if (r)
		main_stack_hi = r->hi;
	lt_maps_release(&maps);
}

/* libunwind's first call opens the pipe it validates addresses with, for
 * the life of the process: at the lowest free numbers, which the program
 * would have been given next, unless these are taken meanwhile. */
static void start_libunwind(void)
{
	/* Per-thread caches avoid the global cache's lock on every unwind. */
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

void lt_backtrace_init(void)
{
	lt_fd_call_high(start_libunwind);
	rule_cache = lt_os_map(sizeof(*rule_cache) * RULE_CACHE_SIZE);
	main_tid = (pid_t)syscall(SYS_gettid);
	find_main_stack();
}

/* Cold, once per thread: the bounds every stack read is checked against. */
static LT_NOINLINE void learn_stack(struct lt_thread *t)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;
	t->stack_known = true;
	if ((pid_t)syscall(SYS_gettid) == main_tid) {
		t->stack_hi = main_stack_hi;
		t->stack_lo = main_stack_hi ? main_stack_hi - (64ul << 20) : 0;
		return;
	}
	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
		t->stack_lo = (uintptr_t)addr;
		t->stack_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&attr);
}

static inline bool own_frame(uintptr_t ip)
{
	return ip >= lt_self_lo && ip < lt_self_hi;
}

uint32_t lt_backtrace_full(uintptr_t entry, uintptr_t *frames, uint32_t max)
{
	void *raw[LT_SNAP_MAX_DEPTH + OWN_FRAMES_MAX];
	int want = (int)max - 1 + OWN_FRAMES_MAX;
	int n = unw_backtrace(raw, want);
	int i = 0;
	uint32_t depth = 0;

	while (i < n && own_frame((uintptr_t)raw[i]))
		i++;
	frames[depth++] = entry;
	for (; i < n && depth < max; i++)
		frames[depth++] = (uintptr_t)raw[i];
	return depth;
}

/* Notes one stack word the walk read, as an offset from the first frame's
 * stack pointer; a log that cannot hold it is marked unusable. */
static inline void log_read(struct lt_walk_log *log, uintptr_t cfa0, uintptr_t at,
			    uintptr_t value)
{
	if (!log)
		return;
	uintptr_t off = at - cfa0;
	if (LT_UNLIKELY(log->n == LT_WALK_LOG_MAX || off > LT_WALK_LOG_OFF_MAX)) {
		log->usable = false;
		return;
	}
	log->off[log->n] = (uint16_t)off;
	log->value[log->n++] = value;
}

/* One frame up by a frame rule: the caller's CFA, and the caller's RBP
 * when the rule saved it (*bp_at: where it was read, 0 when not). Every
 * read stays inside this thread's stack, above the current frame (the
 * return address is at CFA - 8, a saved RBP at CFA - 16 or below): false
 * where garbage would take it elsewhere, which stops the walk, never
 * faults. */
static inline bool step(uint64_t r, uintptr_t sp, uintptr_t hi, uintptr_t *bp,
			uintptr_t *cfa_out, uintptr_t *bp_at)
{
	uintptr_t cfa = (RULE_FROM_RBP(r) ? *bp : sp) + RULE_CFA_OFF(r);
	if (LT_UNLIKELY(cfa <= sp || cfa > hi))
		return false;
	*bp_at = 0;
	if (RULE_RBP_SAVED(r)) {
		uintptr_t at = cfa + RULE_RBP_OFF(r);
		if (LT_UNLIKELY(at < sp))
			return false;
		*bp = *(const uintptr_t *)at;
		*bp_at = at;
	}
	*cfa_out = cfa;
	return true;
}

/* Walks with cached rules from the program's frame that called us;
 * returns 0 when it must hand over to libunwind. With a log, also notes
 * every stack word it read and whether it used the caller's RBP: the same
 * start and the same words give the same stack. */
static inline uint32_t walk(struct lt_thread *t, uintptr_t entry, uintptr_t ra,
			    uintptr_t cfa0, uintptr_t bp, uintptr_t *frames, uint32_t max,
			    struct lt_walk_log *log)
{
	uintptr_t ip = ra, sp = cfa0;
	/* Where RBP's current value was read from (0: it is the caller's);
	 * logged only once a rule uses it, since in code without frame
	 * pointers RBP is an ordinary register nobody unwinds through. */
	uintptr_t bp_from = 0;
	bool bp_logged = false;
	const uintptr_t lo = t->stack_lo, hi = t->stack_hi;
	if (sp <= lo || sp > hi)
		return 0;   /* on a signal stack, or bounds unknown */
	uint32_t depth = 0;
	frames[depth++] = entry;
	frames[depth++] = ip;
	while (depth < max) {
		uint64_t r = rule_for(ip - 1);
		if (LT_UNLIKELY(RULE_KIND(r) != LT_RULE_FRAME)) {
			if (RULE_KIND(r) == LT_RULE_END)
				break;
			return 0;
		}
		if (log && RULE_FROM_RBP(r) && !bp_logged) {
			if (bp_from)
				log_read(log, cfa0, bp_from, bp);
			else
				log->uses_bp = true;
			bp_logged = true;
		}
		uintptr_t cfa, bp_at;
		if (!step(r, sp, hi, &bp, &cfa, &bp_at)) {
			/* Where this stopped can depend on where this
			 * thread's stack ends, which the log does not hold
			 * (another thread's may end elsewhere, at the same
			 * stack pointer): not for the stack cache. */
			if (log)
				log->usable = false;
			break;
		}
		if (bp_at) {
			bp_from = bp_at;
			bp_logged = false;
		}
		ip = *(const uintptr_t *)(cfa - 8);
		log_read(log, cfa0, cfa - 8, ip);
		sp = cfa;
		if (!ip)
			break;
		frames[depth++] = ip;
	}
	return depth;
}

uint32_t lt_backtrace_peek(uintptr_t ra, uintptr_t cfa, uintptr_t bp,
			   uintptr_t words[LT_PEEK_WORDS])
{
	const struct lt_thread *t = &lt_self;
	uintptr_t ip = ra, sp = cfa;
	uint32_t n = 0;
	if (!lt_fast_unwind_enabled || !rule_cache || !t->stack_known)
		return 0;
	const uintptr_t lo = t->stack_lo, hi = t->stack_hi;
	if (sp <= lo || sp > hi)
		return 0;
	/* The walk's first steps, with its checks, and nothing logged. */
	while (n < LT_PEEK_WORDS) {
		uint64_t r = rule_for(ip - 1);
		if (RULE_KIND(r) != LT_RULE_FRAME)
			break;
		uintptr_t next, bp_at;
		if (!step(r, sp, hi, &bp, &next, &bp_at))
			break;
		ip = *(const uintptr_t *)(next - 8);
		sp = next;
		if (!ip)
			break;
		words[n++] = ip;
	}
	return n;
}

/* Inlined in both entry points: the frames between the program and
 * libunwind are the same whichever the caller. */
static inline __attribute__((always_inline)) uint32_t
backtrace_logged(uintptr_t entry, uintptr_t ra, uintptr_t cfa, uintptr_t bp,
		 uintptr_t *frames, uint32_t max, struct lt_walk_log *log)
{
	struct lt_thread *t = &lt_self;
	if (LT_LIKELY(lt_fast_unwind_enabled && rule_cache)) {
		if (LT_UNLIKELY(!t->stack_known))
			learn_stack(t);
		uint32_t depth = walk(t, entry, ra, cfa, bp, frames, max, log);
		if (LT_LIKELY(depth))
			return depth;
	}
	if (log)
		log->usable = false;   /* libunwind's reads are not logged */
	return lt_backtrace_full(entry, frames, max);
}

uint32_t lt_backtrace_logged(uintptr_t entry, uintptr_t ra, uintptr_t cfa, uintptr_t bp,
			     uintptr_t *frames, uint32_t max, struct lt_walk_log *log)
{
	return backtrace_logged(entry, ra, cfa, bp, frames, max, log);
}

uint32_t lt_backtrace(uintptr_t entry, uintptr_t ra, uintptr_t cfa, uintptr_t *frames,
		      uint32_t max)
{
	/* The caller's RBP: nothing in this library touches the register
	 * (it is built with -ffixed-rbp). */
	uintptr_t bp;
	__asm__ volatile("mov %%rbp, %0" : "=r"(bp));
	return backtrace_logged(entry, ra, cfa, bp, frames, max, NULL);
}

/* Cold. The stack pointer of the innermost frame that belongs neither to
 * this library nor to the object holding `inside` (libc, for exit): where
 * the program's own live frames begin. 0 when there is none. */
uintptr_t lt_first_foreign_frame_sp(const void *inside)
{
	struct dl_find_object dfo;
	unw_context_t uc;
	unw_cursor_t cursor;
	uintptr_t lo = 0, hi = 0;

	if (_dl_find_object && _dl_find_object((void *)inside, &dfo) == 0) {
		lo = (uintptr_t)dfo.dlfo_map_start;
		hi = (uintptr_t)dfo.dlfo_map_end;
	}
	if (unw_getcontext(&uc) != 0 || unw_init_local(&cursor, &uc) != 0)
		return 0;
	for (int depth = 0; depth < 1024 && unw_step(&cursor) > 0; depth++) {
		unw_word_t ip, sp;
		unw_get_reg(&cursor, UNW_REG_IP, &ip);
		unw_get_reg(&cursor, UNW_REG_SP, &sp);
		if (!own_frame(ip) && !(ip >= lo && ip < hi))
			return sp;
	}
	return 0;
}
