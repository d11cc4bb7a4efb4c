/* Declarations shared by the files of libleaktrace.so, the library that runs
 * inside the traced process. Context: mixed; each function says whether it
 * is HOT (reachable from an interposed call: no locks, no stdio, no
 * allocator of the program) or cold. */
#ifndef LT_PRELOAD_PRIVATE_H
#define LT_PRELOAD_PRIVATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <sys/types.h>

#include "options.h"
#include "snapshot.h"

#define LT_LIKELY(x) __builtin_expect(!!(x), 1)
#define LT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LT_NOINLINE __attribute__((noinline))
#define LT_COLD __attribute__((cold))
#define LT_HIDDEN __attribute__((visibility("hidden")))
#define LT_EXPORT __attribute__((visibility("default")))
#define LT_TLS __thread __attribute__((tls_model("initial-exec")))

/* ---- real functions (bootstrap.c) ---- */

struct lt_real_functions {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*reallocarray)(void *, size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	void *(*mmap64)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	void *(*dlopen)(const char *, int);
	int (*dlclose)(void *);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	int (*pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	int (*pthread_join)(pthread_t, void **);
	int (*pthread_tryjoin_np)(pthread_t, void **);
	int (*pthread_timedjoin_np)(pthread_t, void **, const struct timespec *);
	int (*pthread_clockjoin_np)(pthread_t, void **, clockid_t, const struct timespec *);
	int (*pthread_detach)(pthread_t);
	__sighandler_t (*signal)(int, __sighandler_t);
};

extern struct lt_real_functions lt_real LT_HIDDEN;

/* Resolves lt_real once; safe to call from any interposed function, also
 * before the library's constructor ran (ld.so calls malloc that early).
 * Returns false while resolution is under way on this or another thread. */
bool lt_resolve_real(void) LT_HIDDEN;
/* Init, after lt_resolve_real: whether the real malloc family is glibc's. */
bool lt_real_malloc_is_glibc(void) LT_HIDDEN;

/* C++ allocation functions are resolved on first use: libstdc++ may be
 * loaded late, by dlopen. Returns NULL if the symbol does not exist. */
void *lt_resolve_cxx(const char *name) LT_HIDDEN;

/* Static arena that serves allocations made while the real allocator is not
 * known yet (dlsym calls calloc). Its blocks are never given to the real
 * free. */
void *lt_boot_alloc(size_t size, size_t align) LT_HIDDEN;
bool lt_boot_owns(const void *p) LT_HIDDEN;
size_t lt_boot_size(const void *p) LT_HIDDEN;

/* ---- per-thread state (thread.c) ---- */

struct lt_counter_slot;

/* Entries of the per-thread memo of recent stacks (stackcache.c). */
#define LT_STACK_MEMO 64

struct lt_thread {
	unsigned depth;           /* >0: inside our own code, pass calls through */
	bool stack_known;
	struct lt_counter_slot *counters;
	uintptr_t stack_lo, stack_hi;  /* bounds for the fast unwinder */
	unsigned ignore_depth;    /* >0: blocks allocated now are ignored (api.c) */
	/* The stack cache's entries that answered this thread last, by call
	 * site and depth (stackcache.c): the return address's low half, and
	 * the way number + 1 (0 when none) in the low 16 bits. */
	uint64_t stack_memo[LT_STACK_MEMO];
};

extern LT_TLS struct lt_thread lt_self LT_HIDDEN;

struct lt_counter_slot {
	_Atomic unsigned owner;   /* 1 while a live thread uses the slot */
	unsigned pad_;
	uint64_t allocs, frees, bytes;
	char pad2_[64 - 32];
};

/* HOT. The calling thread's counter slot, claimed on first use. */
struct lt_counter_slot *lt_thread_counters_slow(struct lt_thread *t) LT_HIDDEN;
static inline struct lt_counter_slot *lt_thread_counters(struct lt_thread *t)
{
	if (LT_LIKELY(t->counters))
		return t->counters;
	return lt_thread_counters_slow(t);
}

/* Cold: sums the counters of every thread, live or gone. */
void lt_counters_total(struct lt_snap_totals *out) LT_HIDDEN;
void lt_thread_init(void) LT_HIDDEN;

/* ---- memory for our own bookkeeping (meta.c, os_linux.c) ---- */

/* Anonymous mappings made with the raw system call, so that the program's
 * mmap interposition never sees them. Returns NULL on failure. */
void *lt_os_map(size_t size) LT_HIDDEN;
void lt_os_unmap(void *p, size_t size) LT_HIDDEN;

/* Memory that libraries we call map for themselves (libunwind's caches,
 * which hold copies of the program's registers and stack words): ours
 * too, never a root of the scan. SIGNAL-SAFE. */
void lt_own_range_add(uintptr_t lo, uintptr_t hi) LT_HIDDEN;
void lt_own_range_remove(uintptr_t lo) LT_HIDDEN;

/* Cold: calls fn for every mapping of ours that is still mapped. */
void lt_own_ranges_foreach(void (*fn)(uintptr_t lo, uintptr_t hi, void *ctx),
			   void *ctx) LT_HIDDEN;

/* HOT-safe, lock-free bump allocation of zeroed memory that is never freed.
 * Returns NULL when the system refuses memory. */
void *lt_meta_alloc(size_t size) LT_HIDDEN;

/* ---- live table (table.c) ---- */

/* A block the program asked us to ignore (leaktrace_ignore, LSan's
 * __lsan_ignore_object, allocated under __lsan_disable) carries this bit in
 * its stack id: never reported as lost, its contents scanned as a root. The
 * depot hands out ids one by one from 1, far below this bit; the table
 * keeps 24 bits of id and this flag in its slots (larger ids go to its
 * side table). */
#define LT_STACK_IGNORED 0x40000000u
static inline uint32_t lt_stack_id_of(uint32_t table_id)
{
	return table_id & ~LT_STACK_IGNORED;
}

/* HOT. Records a live block. Returns false when no memory could be had
 * for the record (counted as dropped). */
bool lt_table_insert(uintptr_t addr, uint64_t size, uint32_t stack_id) LT_HIDDEN;

/* HOT. Starts loading the cache line addr's record will go to, so that
 * the insert that follows the stack walk does not wait for it; returns
 * that slot for lt_table_insert_at (NULL when it has none yet). */
void *lt_table_prefetch(uintptr_t addr) LT_HIDDEN;
/* HOT. lt_table_insert into the slot lt_table_prefetch gave for addr. */
bool lt_table_insert_at(void *slot, uintptr_t addr, uint64_t size, uint32_t stack_id) LT_HIDDEN;

struct lt_table_entry {
	uint64_t size;
	uint32_t stack_id;
};

/* HOT. Removes the record of addr, copied to *old unless old is NULL (a
 * free wants nothing back); returns false when there is none. */
bool lt_table_remove(uintptr_t addr, struct lt_table_entry *old) LT_HIDDEN;

/* Cold: calls fn for every live block, in ascending address order for the
 * blocks of the main table (side-table blocks come last). */
typedef void (*lt_table_visit_fn)(uintptr_t addr, const struct lt_table_entry *e,
				  void *ctx);
void lt_table_foreach(lt_table_visit_fn fn, void *ctx) LT_HIDDEN;
uint64_t lt_table_dropped(void) LT_HIDDEN;
/* Cold: whether any block was ever recorded in [lo, hi) (at 64 KiB
 * granularity): such memory belongs to the allocator, not to the roots. */
bool lt_table_has_leaf_in(uintptr_t lo, uintptr_t hi) LT_HIDDEN;
void lt_table_count_dropped(void) LT_HIDDEN;
void lt_table_init(void) LT_HIDDEN;
/* Init: whether the real allocator is glibc's malloc, whose chunk headers
 * give a block's usable size (the table then stores 4 bytes per block
 * instead of 8). Only how new records are stored depends on it. */
void lt_table_set_glibc_chunks(bool on) LT_HIDDEN;
bool lt_table_glibc_chunks(void) LT_HIDDEN;
/* Cold: malloc_usable_size of a live block from its glibc chunk header,
 * without following the header anywhere; false when the allocator is not
 * glibc's or the header is one no live chunk has (the program wrote over
 * it). */
bool lt_table_chunk_usable(uintptr_t addr, uint64_t *usable) LT_HIDDEN;

/* ---- stack depot (depot.c) ---- */

/* HOT. Returns the id (>= 1) of this stack, inserting it if new; 0 when no
 * memory could be had. */
uint32_t lt_depot_intern(const uintptr_t *frames, uint32_t depth) LT_HIDDEN;

typedef void (*lt_depot_visit_fn)(uint32_t id, uint32_t epoch,
				  const uintptr_t *frames, uint32_t depth,
				  void *ctx);
void lt_depot_foreach(lt_depot_visit_fn fn, void *ctx) LT_HIDDEN;
void lt_depot_init(void) LT_HIDDEN;

/* ---- backtraces (backtrace.c) ---- */

/* HOT. Fills frames[0] with entry (the interposed function's address) and
 * frames[1..] with the return addresses of its callers, starting at ra
 * (the return address into the program) whose frame's stack pointer is
 * cfa; RBP must still hold the caller's value. Returns the depth. */
/* Cold: after code was unloaded, forgets the unwind rules cached per
 * address (another object may be loaded there next). */
void lt_backtrace_forget_rules(void) LT_HIDDEN;
uint32_t lt_backtrace(uintptr_t entry, uintptr_t ra, uintptr_t cfa, uintptr_t *frames,
		      uint32_t max) LT_HIDDEN;
/* What a fast walk read from the stack: the stack words (as offsets from
 * the first frame's stack pointer, with their values) and whether it used
 * the caller's RBP. A walk from the same place that would read the same
 * words returns the same frames. usable is false when the walk went to
 * libunwind or read more words than the log holds. */
#define LT_WALK_LOG_MAX 24
/* Offsets are kept in 16 bits: a walk that reads further from its first
 * frame (frames of 64 KiB) is not logged. */
#define LT_WALK_LOG_OFF_MAX 0xffffu
struct lt_walk_log {
	bool usable, uses_bp;
	uint32_t n;
	uint16_t off[LT_WALK_LOG_MAX];
	uintptr_t value[LT_WALK_LOG_MAX];
};
/* HOT. lt_backtrace with the caller's RBP given, filling log (which the
 * caller sets to usable, empty) when not NULL. */
uint32_t lt_backtrace_logged(uintptr_t entry, uintptr_t ra, uintptr_t cfa, uintptr_t bp,
			     uintptr_t *frames, uint32_t max, struct lt_walk_log *log) LT_HIDDEN;
/* HOT. The first return addresses (at most LT_PEEK_WORDS) a walk from
 * this start reads, by the cached rules alone; returns how many it
 * found. A cheap summary of the callers, for the stack cache to tell
 * apart the stacks above one call site. */
#define LT_PEEK_WORDS 2
uint32_t lt_backtrace_peek(uintptr_t ra, uintptr_t cfa, uintptr_t bp,
			   uintptr_t words[LT_PEEK_WORDS]) LT_HIDDEN;
/* The same with libunwind alone: the reference the fast path is tested
 * against, and its fallback. */
uint32_t lt_backtrace_full(uintptr_t entry, uintptr_t *frames, uint32_t max) LT_HIDDEN;
extern bool lt_fast_unwind_enabled LT_HIDDEN;
uintptr_t lt_first_foreign_frame_sp(const void *inside) LT_HIDDEN;
void lt_backtrace_init(void) LT_HIDDEN;

/* ---- stack ids of recent call sites (stackcache.c) ---- */

/* HOT. The depot id of the stack lt_backtrace would return for these
 * arguments (and the caller's RBP, which must be intact), found without a
 * walk when the same place was seen with the same stack words; 0 when no
 * memory could be had. */
uint32_t lt_stack_id(uintptr_t entry, uintptr_t ra, uintptr_t sp, uint32_t max) LT_HIDDEN;
void lt_stack_cache_init(void) LT_HIDDEN;

/* ---- modules (modules.c) ---- */

/* Epoch of the module list: bumped whenever a module appears or goes. */
extern _Atomic uint32_t lt_module_epoch LT_HIDDEN;

/* Cold: reconciles the registry with the loader's list. */
void lt_modules_refresh(void) LT_HIDDEN;

typedef void (*lt_module_visit_fn)(const struct lt_snap_module *m,
				   const uint8_t *build_id, const char *path,
				   void *ctx);
void lt_modules_foreach(lt_module_visit_fn fn, void *ctx) LT_HIDDEN;
void lt_modules_after_fork(void) LT_HIDDEN;
/* The same without our lock, for a frozen copy of the process. */
void lt_modules_foreach_unlocked(lt_module_visit_fn fn, void *ctx) LT_HIDDEN;

/* Our own library's address range, so its frames can be left out. */
extern uintptr_t lt_self_lo LT_HIDDEN, lt_self_hi LT_HIDDEN;
/* Our writable segments (data, bss), never roots of the scan. */
extern uintptr_t lt_self_data_lo LT_HIDDEN, lt_self_data_hi LT_HIDDEN;
void lt_self_range_init(void) LT_HIDDEN;

/* ---- threads that exited (threadreg.c) ---- */

void lt_threadreg_init(void) LT_HIDDEN;
void lt_threadreg_reaped(uintptr_t tcb) LT_HIDDEN;
void lt_threadreg_born(uintptr_t tcb) LT_HIDDEN;
bool lt_threadreg_is_reaped(uintptr_t tcb) LT_HIDDEN;
/* Cold: bytes of static TLS below a thread descriptor (0 if unknown).
 * Call it once before any report (it may use dlsym). */
size_t lt_static_tls_size(void) LT_HIDDEN;

/* ---- recording (record.c) ---- */

/* HOT. Called by every interposer after the real call succeeded, with the
 * thread's depth already raised. Returns p: the caller takes the pointer
 * back from here rather than keeping it in a register across the call,
 * so that no frame below the program's holds a copy of it (see record.c). */
void *lt_record_alloc(struct lt_thread *t, void *p, uint64_t size,
		      uintptr_t entry, uintptr_t ra, uintptr_t cfa) LT_HIDDEN;
/* HOT. Removes p's record (before the real free); counts the free. */
void lt_record_free(struct lt_thread *t, void *p) LT_HIDDEN;

/* HOT. Counts one free of a block (realloc's implicit free included). */
static inline void lt_counted_free(struct lt_thread *t)
{
	lt_thread_counters(t)->frees++;
}

extern size_t lt_page_size LT_HIDDEN;
static inline uint64_t lt_page_round(uint64_t n)
{
	return (n + lt_page_size - 1) & ~(uint64_t)(lt_page_size - 1);
}

/* 0: nothing done, 1: under way, 2: ready to record. */
extern _Atomic int lt_init_state LT_HIDDEN;
/* Cold: brings up everything the hot path needs; safe to call before any
 * constructor. Returns true when recording may start. */
bool lt_init_core(void) LT_HIDDEN;

/* ---- program-registered roots (roots.c) ---- */

/* Cold, lock-free. Registers [lo, lo + size) as a root of the scan (LSan's
 * __lsan_register_root_region). Returns 0, or -ENOSPC when
 * LT_ROOT_REGIONS_MAX regions are registered already, -EINVAL for an
 * empty or wrapping range. */
#define LT_ROOT_REGIONS_MAX 256
int lt_roots_register(uintptr_t lo, size_t size) LT_HIDDEN;
/* Removes one registration of exactly this range; -ENOENT if none. */
int lt_roots_unregister(uintptr_t lo, size_t size) LT_HIDDEN;
/* Async-signal-safe, takes no lock (the world may be stopped with a thread
 * inside lt_roots_register): calls fn for each registered range. */
void lt_roots_foreach(void (*fn)(uintptr_t lo, uintptr_t hi, void *ctx), void *ctx) LT_HIDDEN;

/* ---- in-program API (api.c) ---- */

/* Cold: whether the program defines LSan's __lsan_is_turned_off callback
 * (exported from its executable) and it says leak checking is off. */
bool lt_api_checks_turned_off(void) LT_HIDDEN;

/* ---- configuration and start-up (config.c, hooks.c) ---- */

extern struct lt_options lt_opts LT_HIDDEN;
extern unsigned lt_capture_depth LT_HIDDEN;  /* frames to record */
extern int lt_stderr_fd LT_HIDDEN;           /* private copy of stderr */
/* SIGNAL-SAFE: lt_stderr_fd while it still is our copy of stderr, else -1
 * (the program closed it, and the number may name a file of its own). */
int lt_private_stderr(void) LT_HIDDEN;
extern char lt_tool_path[4096] LT_HIDDEN;

/* Cold: reads LEAKTRACE_OPTIONS and LEAKTRACE_TOOL from envp; on a bad
 * option prints one line and exits with status 2. */
void lt_config_load(char **envp) LT_HIDDEN;

/* Cold: removes leaktrace's variables from the environment so that programs
 * the traced one executes run untraced. */
void lt_config_scrub_environment(void) LT_HIDDEN;

/* ---- raw output (rawio.c). SIGNAL-SAFE. ---- */

struct lt_out {
	int fd;
	int error;                /* first errno seen, 0 if none */
	uint64_t offset;          /* bytes written so far, buffered included */
	size_t len;
	char buf[1 << 16];
};

void lt_out_init(struct lt_out *o, int fd) LT_HIDDEN;
void lt_out_write(struct lt_out *o, const void *p, size_t n) LT_HIDDEN;
void lt_out_pad8(struct lt_out *o) LT_HIDDEN;
/* Flushes, then overwrites n bytes at an earlier offset (pwrite). */
void lt_out_patch(struct lt_out *o, uint64_t offset, const void *p, size_t n) LT_HIDDEN;
int lt_out_flush(struct lt_out *o) LT_HIDDEN;

/* Writes all of buf to fd, retrying on EINTR and short writes. */
int lt_write_all(int fd, const void *buf, size_t len) LT_HIDDEN;
/* One line "leaktrace: <msg>\n" on the private stderr. */
void lt_log(const char *msg) LT_HIDDEN;

/* ---- snapshot (snapshot_write.c) and report hand-over (report.c) ---- */

struct lt_scan_result;

struct lt_snapshot_context {
	enum lt_snap_reason reason;
	uint32_t sequence;
	pid_t pid, ppid;          /* of the traced program */
	bool frozen;              /* written from a forked copy: take no lock */
};

/* Writes the snapshot; the blocks come from scan when given (with their
 * kinds), else from the live table as it is. */
int lt_snapshot_write(int fd, const struct lt_snapshot_context *ctx,
		      const struct lt_scan_result *scan,
		      const struct lt_snap_totals *totals) LT_HIDDEN;

/* Cold: pauses the other threads, classifies the live blocks, writes a
 * snapshot and runs the reporter on it. self_sp is where the caller's live
 * stack starts (frames below it are ours). Returns the reporter's exit
 * status, or -1. */
int lt_report_now(enum lt_snap_reason reason, uintptr_t self_sp) LT_HIDDEN;

/* Shared with the report on demand (ondemand.c). */
int lt_open_snapshot_file(void) LT_HIDDEN;
bool lt_keep_raw_copy(int snap_fd, const char *pattern, pid_t pid, uint32_t sequence) LT_HIDDEN;

/* The reporter's command line and environment (reporter_exec.c), in a
 * mapping of ours. SIGNAL-SAFE. The snapshot is expected at fd 3. */
struct lt_reporter_exec {
	char *argv[6];
	char **envp;
	void *mapping;
	size_t size;
};
int lt_reporter_exec_prepare(struct lt_reporter_exec *x, bool with_delta_state) LT_HIDDEN;
void lt_reporter_exec_release(struct lt_reporter_exec *x) LT_HIDDEN;
/* Whether an LD_PRELOAD entry of len bytes names this library. */
bool lt_is_our_preload(const char *entry, size_t len) LT_HIDDEN;

/* Descriptors in reserve (fdreserve.c): our opens cannot fail because the
 * program filled its fd table. */
void lt_fd_reserve_fill(void) LT_HIDDEN;
int lt_open_reserved(const char *path, int flags, int mode) LT_HIDDEN;
int lt_memfd_reserved(const char *name) LT_HIDDEN;
/* Raises the soft descriptor limit to the hard one, for our descriptors
 * above a limit the program lowered to be usable (posix_spawn refuses to
 * dup2 them otherwise). True when it did; the caller restores *saved. */
struct rlimit;
bool lt_fd_limit_lift(struct rlimit *saved) LT_HIDDEN;

/* Address space held back for the report (asreserve.c): a program that
 * runs into RLIMIT_AS still gets its report. Reserved at start-up,
 * released by the process (or the frozen copy) that makes the report. */
void lt_as_reserve_init(void) LT_HIDDEN;
void lt_as_reserve_release(void) LT_HIDDEN;

/* Init: runs fn while every descriptor below the reserve is taken, so that
 * what fn opens for good (libunwind's pipe) lands high in the table and
 * never takes a number the program would have been given. */
void lt_fd_call_high(void (*fn)(void)) LT_HIDDEN;
/* Opens NAME ("maps", "mem", "cmdline") of the process's /proc entry in a way
 * that works after the main thread exited. */
int lt_open_proc(const char *name, int flags) LT_HIDDEN;

/* Cold: the report at exit will not run (the program asked for its final
 * check already, __lsan_do_leak_check). */
void lt_exit_report_cancel(void) LT_HIDDEN;
/* The file the reporters keep the previous report's figures in
 * (delta_state.c): made at start-up, a new one in a forked child; -1 when
 * it could not be made (reports then have no deltas). */
void lt_delta_state_init(void) LT_HIDDEN;
void lt_delta_state_after_fork(void) LT_HIDDEN;
int lt_delta_state_fd(void) LT_HIDDEN;
/* Where the reporter finds it: `leaktrace report --raw-fd=3 --delta-fd=4`. */
#define LT_DELTA_STATE_FD 4

/* Cold: installs the report signal's handler and the interval timer. */
void lt_ondemand_init(void) LT_HIDDEN;
/* The program installs a handler for sig: if it is the report signal,
 * reports on demand stop (said once). Returns whether it was. */
bool lt_ondemand_yield_signal(int sig) LT_HIDDEN;
/* The report signal is the report's while this is true. */
bool lt_ondemand_owns_signal(int sig) LT_HIDDEN;
/* Shared with the final report (death.c): fork without glibc, and the
 * frozen copy's work (scan, snapshot, exec of the reporter). */
pid_t lt_raw_fork(void) LT_HIDDEN;
struct ucontext_t;
struct lt_world;
void lt_report_in_copy(const struct ucontext_t *uc, enum lt_snap_reason reason, pid_t pid,
		       pid_t ppid, uint32_t sequence, const struct lt_world *w) LT_HIDDEN;

/* ---- the report at the other ways out (death.c) ---- */

/* Cold: installs the handlers of the fatal signals left at SIG_DFL and
 * the quick_exit report. */
void lt_death_init(void) LT_HIDDEN;
void lt_death_after_fork(void) LT_HIDDEN;
/* The program's sigaction on a signal the final report or the report on
 * demand holds: answered as if it held SIG_DFL. Returns false when glibc's
 * sigaction should do the work. */
bool lt_death_handles(int sig) LT_HIDDEN;
bool lt_death_sigaction(int sig, const struct sigaction *act, struct sigaction *old,
			int *rc) LT_HIDDEN;
/* The one report of the end of the process: true for the first caller
 * (false in a forked child with child_silent_after_fork). */
bool lt_claim_final_report(void) LT_HIDDEN;

/* sigaction as glibc has it, never our interposed one. */
int lt_sigaction(int sig, const struct sigaction *act, struct sigaction *old) LT_HIDDEN;

#endif
