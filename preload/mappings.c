/* The program's mappings: the regions its own mmap, munmap and mremap calls
 * made, each with its allocation stack and its type (private or shared,
 * anonymous or file-backed, with the file's path).
 * Context: HOT (every interposed mmap, munmap, mremap), also from signal
 * handlers. No allocator of the program, no stdio, no pthread lock.
 *
 * Why a spinlock is safe here: the regions live in one sorted array, and a
 * munmap may trim, split or drop several of them at once, which no simple
 * lock-free scheme does atomically. The holder blocks every signal first
 * (raw rt_sigprocmask), so a handler of the same thread can never spin on
 * a lock its own thread holds, and the stop-the-world signal (stw.c) parks
 * a thread only once it has left the critical section: the scan, which
 * runs with the other threads parked, always sees a consistent array.
 * mmap is a system call already; the two extra ones cost little.
 *
 * Order with the kernel: munmap, mremap and mmap with MAP_FIXED hold the
 * lock across the real call, so that the array changes in the order the
 * kernel changed the address space. A plain mmap calls the kernel first and
 * records afterwards: the address it got cannot be in the array any more,
 * because whoever released it held the lock until its record was gone.
 *
 * Bounded memory: LT_MAP_CAPACITY regions and LT_MAP_PATHS bytes of paths,
 * mapped at first use (virtual; only touched pages cost memory). A region
 * that does not fit is not tracked (counted as dropped) and stays a root of
 * the scan, as untracked memory always is. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <dlfcn.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "mappings.h"
#include "preload-private.h"

#define LT_MAP_PATHS (1u << 20)
#define KERNEL_SIGSET_SIZE 8      /* what rt_sigprocmask wants on x86-64 */

struct registry {
	size_t count;
	uint64_t dropped;
	size_t paths_used;        /* bytes of the path pool in use; 0 is "" */
	struct lt_mapping regions[LT_MAP_CAPACITY];
	char paths[LT_MAP_PATHS];
};

static struct registry *reg;
static atomic_flag busy = ATOMIC_FLAG_INIT;
/* The forking thread's mask, between the fork handlers. */
static sigset_t fork_saved_mask;
/* This thread holds the lock across fork (fork_prepare): an atfork
 * handler that runs after ours in the same thread may still map memory,
 * and must not spin on the lock its own thread holds. */
static LT_TLS bool holds_for_fork;

/* ---- the lock ---- */

static inline void block_signals(sigset_t *old)
{
	sigset_t all;
	memset(&all, 0xff, sizeof(all));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, old, KERNEL_SIGSET_SIZE);
}

static inline void restore_signals(const sigset_t *old)
{
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, old, NULL, KERNEL_SIGSET_SIZE);
}

static inline void lock(sigset_t *old)
{
	block_signals(old);
	if (LT_UNLIKELY(holds_for_fork))
		return;
	while (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire))
		syscall(SYS_sched_yield);
}

static inline void unlock(const sigset_t *old)
{
	if (LT_LIKELY(!holds_for_fork))
		atomic_flag_clear_explicit(&busy, memory_order_release);
	restore_signals(old);
}

/* ---- the sorted array ---- */

/* Index of the first region that ends after addr. */
static size_t first_ending_after(uintptr_t addr)
{
	size_t lo = 0, hi = reg->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (reg->regions[mid].hi <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool open_gap(size_t at)
{
	if (reg->count == LT_MAP_CAPACITY)
		return false;
	memmove(&reg->regions[at + 1], &reg->regions[at],
		(reg->count - at) * sizeof(reg->regions[0]));
	reg->count++;
	return true;
}

static void close_gap(size_t at, size_t n)
{
	memmove(&reg->regions[at], &reg->regions[at + n],
		(reg->count - at - n) * sizeof(reg->regions[0]));
	reg->count -= n;
}

/* Forgets [lo, hi): regions inside go, regions across an end are trimmed,
 * a region around the whole range is split in two. Returns the index
 * where a region starting at lo would go. */
static size_t forget_range(uintptr_t lo, uintptr_t hi)
{
	size_t i = first_ending_after(lo);
	if (i < reg->count && reg->regions[i].lo < lo && reg->regions[i].hi > hi) {
		/* The middle of one region: split it. Without room for the
		 * second part, the whole region stops being tracked (a root
		 * again, never a false leak). */
		struct lt_mapping tail = reg->regions[i];
		tail.lo = hi;
		if (!open_gap(i + 1)) {
			close_gap(i, 1);
			reg->dropped++;
			return i;
		}
		reg->regions[i].hi = lo;
		reg->regions[i + 1] = tail;
		return i + 1;
	}
	if (i < reg->count && reg->regions[i].lo < lo) {
		reg->regions[i].hi = lo;
		i++;
	}
	size_t j = i;
	while (j < reg->count && reg->regions[j].hi <= hi)
		j++;
	if (j < reg->count && reg->regions[j].lo < hi)
		reg->regions[j].lo = hi;
	close_gap(i, j - i);
	return i;
}

static void remember(const struct lt_mapping *m)
{
	size_t at = forget_range(m->lo, m->hi);
	if (open_gap(at))
		reg->regions[at] = *m;
	else
		reg->dropped++;
}

/* The region holding addr, or NULL. */
static const struct lt_mapping *region_at(uintptr_t addr)
{
	size_t i = first_ending_after(addr);
	return i < reg->count && reg->regions[i].lo <= addr ? &reg->regions[i] : NULL;
}

/* ---- file paths ---- */

/* The path of fd, interned in the pool: /proc/thread-self works after the
 * main thread exited. Returns the pool offset, 0 when unknown. */
static uint32_t intern_fd_path(int fd)
{
	char proc[48] = "/proc/thread-self/fd/";
	char digits[12];
	size_t n = 0, len = strlen(proc);
	unsigned v = (unsigned)fd;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		proc[len++] = digits[--n];
	proc[len] = '\0';

	char *dst = reg->paths + reg->paths_used;
	size_t room = LT_MAP_PATHS - reg->paths_used;
	if (room < 2)
		return 0;
	ssize_t got = readlink(proc, dst, room - 1);
	if (got <= 0 || (size_t)got >= room - 1)
		return 0;
	dst[got] = '\0';
	/* The same file mapped again: keep one copy. */
	for (size_t off = 1; off < reg->paths_used;) {
		size_t l = strlen(reg->paths + off);
		if (l == (size_t)got && memcmp(reg->paths + off, dst, l) == 0)
			return (uint32_t)off;
		off += l + 1;
	}
	uint32_t off = (uint32_t)reg->paths_used;
	reg->paths_used += (size_t)got + 1;
	return off;
}

/* ---- stacks ---- */

/* The caller's stack, interned in the depot as for a heap block; 0 when
 * the depot had no memory. */
static uint32_t capture_stack(uintptr_t entry, uintptr_t ra, uintptr_t cfa)
{
	uintptr_t frames[LT_SNAP_MAX_DEPTH];
	uint32_t depth = lt_backtrace(entry, ra, cfa, frames, lt_capture_depth);
	return lt_depot_intern(frames, depth);
}

/* ---- set-up ---- */

static LT_NOINLINE LT_COLD bool registry_ready(void)
{
	static struct registry *_Atomic shared;
	struct registry *r = atomic_load(&shared);
	if (!r) {
		struct registry *mine = lt_os_map(sizeof(struct registry));
		if (!mine)
			return false;
		mine->paths_used = 1;     /* offset 0: the empty path */
		if (!atomic_compare_exchange_strong(&shared, &r, mine))
			lt_os_unmap(mine, sizeof(struct registry));
		else
			r = mine;
	}
	reg = r;
	return true;
}

static inline bool enabled(void)
{
	return lt_opts.track_mmap && atomic_load_explicit(&lt_init_state, memory_order_acquire) == 2 &&
	       (LT_LIKELY(reg != NULL) || registry_ready());
}

static void fork_prepare(void)
{
	if (!reg)
		return;
	lock(&fork_saved_mask);
	holds_for_fork = true;
}

static void fork_done(void)
{
	if (!holds_for_fork)
		return;
	holds_for_fork = false;
	unlock(&fork_saved_mask);
}

void lt_mappings_init(void)
{
	/* The child inherits the array as the parent had it: taking the lock
	 * around fork keeps another thread's update from being cut in half. */
	pthread_atfork(fork_prepare, fork_done, fork_done);
}

/* ---- the interposers' side ---- */

extern int _dl_find_object(void *pc, struct dl_find_object *result) __attribute__((weak));

/* A mapping made while our own code runs, by this library or by libunwind
 * (its caches keep copies of the registers and stack words it unwound):
 * never the program's, so never a root. A signal handler of the program's
 * that interrupts our code maps memory from its own code, not ours. */
static bool mapped_for_us(uintptr_t ra)
{
	static uintptr_t unwind_lo, unwind_hi;
	if (ra >= lt_self_lo && ra < lt_self_hi)
		return true;
	if (!unwind_hi) {
		struct dl_find_object dfo;
		if (!_dl_find_object ||
		    _dl_find_object((void *)(uintptr_t)unw_backtrace, &dfo) != 0)
			return false;
		unwind_lo = (uintptr_t)dfo.dlfo_map_start;
		unwind_hi = (uintptr_t)dfo.dlfo_map_end;
	}
	return ra >= unwind_lo && ra < unwind_hi;
}

static uint8_t type_of(int flags, int fd)
{
	bool anon = (flags & MAP_ANONYMOUS) || fd < 0;
	bool shared = (flags & MAP_TYPE) != MAP_PRIVATE;
	if (anon)
		return shared ? LT_MAP_SHARED_ANON : LT_MAP_PRIVATE_ANON;
	return shared ? LT_MAP_SHARED_FILE : LT_MAP_PRIVATE_FILE;
}

void *lt_mappings_mmap(struct lt_thread *t, void *addr, size_t len, int prot, int flags,
		       int fd, off_t off, uintptr_t entry, uintptr_t ra, uintptr_t cfa)
{
	bool fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) == MAP_FIXED;
	sigset_t old;
	void *p;
	int saved;

	if (t->depth) {
		p = lt_real.mmap(addr, len, prot, flags, fd, off);
		if (p != MAP_FAILED && mapped_for_us(ra))
			lt_own_range_add((uintptr_t)p, (uintptr_t)p + lt_page_round(len));
		return p;
	}
	if (!enabled())
		return lt_real.mmap(addr, len, prot, flags, fd, off);
	t->depth++;
	/* The stack first, outside the lock: unwinding may be slow, and
	 * libunwind may map or unmap memory of its own meanwhile. */
	uint32_t frames_id = fixed ? capture_stack(entry, ra, cfa) : 0;
	if (fixed)
		lock(&old);
	p = lt_real.mmap(addr, len, prot, flags, fd, off);
	saved = errno;
	if (p != MAP_FAILED) {
		struct lt_mapping m = {
			.lo = (uintptr_t)p,
			.hi = (uintptr_t)p + lt_page_round(len),
			.type = type_of(flags, fd),
		};
		if (!fixed)
			frames_id = capture_stack(entry, ra, cfa);
		m.stack_id = frames_id;
		if (!fixed)
			lock(&old);
		if (m.type == LT_MAP_PRIVATE_FILE || m.type == LT_MAP_SHARED_FILE)
			m.path = intern_fd_path(fd);
		if (frames_id)
			remember(&m);
		else
			reg->dropped++;
		unlock(&old);
	} else if (fixed) {
		/* A failed MAP_FIXED may already have unmapped what was
		 * there; the kernel does not say, so the records stay. */
		unlock(&old);
	}
	t->depth--;
	errno = saved;
	return p;
}

/* munmap's own checks, so that a call that fails changes nothing here. */
static bool valid_unmap(uintptr_t addr, size_t len)
{
	return len && !(addr & (lt_page_size - 1)) && addr + lt_page_round(len) > addr;
}

int lt_mappings_munmap(struct lt_thread *t, void *addr, size_t len)
{
	sigset_t old;
	/* Inside our own code (libunwind's memory, say) nothing of the
	 * program's is unmapped: and the lock may be this thread's. */
	if (t->depth) {
		int rc = lt_real.munmap(addr, len);
		if (rc == 0)
			lt_own_range_remove((uintptr_t)addr);
		return rc;
	}
	if (!enabled() || !valid_unmap((uintptr_t)addr, len))
		return lt_real.munmap(addr, len);
	lock(&old);
	int rc = lt_real.munmap(addr, len);
	int saved = errno;
	if (rc == 0)
		forget_range((uintptr_t)addr, (uintptr_t)addr + lt_page_round(len));
	unlock(&old);
	errno = saved;
	return rc;
}

void *lt_mappings_mremap(struct lt_thread *t, void *old_addr, size_t old_len, size_t new_len,
			 int flags, void *new_addr, uintptr_t entry, uintptr_t ra,
			 uintptr_t cfa)
{
	sigset_t old;
	if (t->depth || !enabled())
		return lt_real.mremap(old_addr, old_len, new_len, flags, new_addr);
	t->depth++;
	/* The stack is taken before the lock: unwinding may be slow. */
	uint32_t stack_id = capture_stack(entry, ra, cfa);
	lock(&old);
	void *p = lt_real.mremap(old_addr, old_len, new_len, flags, new_addr);
	int saved = errno;
	if (p != MAP_FAILED) {
		uintptr_t from = (uintptr_t)old_addr;
		const struct lt_mapping *was = region_at(from);
		struct lt_mapping m = {
			.lo = (uintptr_t)p,
			.hi = (uintptr_t)p + lt_page_round(new_len),
			.type = was ? was->type : LT_MAP_PRIVATE_ANON,
			.path = was ? was->path : 0,
			.stack_id = stack_id,
		};
		/* old_len 0 duplicates a shared mapping, and
		 * MREMAP_DONTUNMAP leaves the old range mapped (empty): the
		 * old record stays in both cases. */
		if (old_len && !(flags & MREMAP_DONTUNMAP))
			forget_range(from, from + lt_page_round(old_len));
		/* What was at the destination is gone (MREMAP_FIXED). An
		 * untracked mapping remapped stays untracked: it may be
		 * memory of the C library's or of the loader's. */
		forget_range(m.lo, m.hi);
		if (was && m.stack_id)
			remember(&m);
		else if (was)
			reg->dropped++;
	}
	unlock(&old);
	t->depth--;
	errno = saved;
	return p;
}

/* ---- the scan's side (cold, other threads parked) ---- */

/* A thread that did not park for the scan may be changing the array: it
 * holds the lock for microseconds, so the scan waits for it, a while. A
 * frozen copy of the process (a report on demand) may hold the lock of a
 * thread that does not exist there: after the wait, the array is read as
 * it stands (each field is read within bounds; a region half-updated may
 * be missed or seen twice). */
#define FOREACH_WAIT_NS 50000000ll

static bool lock_for_scan(sigset_t *old)
{
	struct timespec start, now;
	block_signals(old);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000000000ll + (now.tv_nsec - start.tv_nsec) >
		    FOREACH_WAIT_NS) {
			restore_signals(old);
			return false;
		}
		syscall(SYS_sched_yield);
	}
	return true;
}

size_t lt_mappings_foreach(void (*fn)(const struct lt_mapping *m, void *ctx), void *ctx)
{
	sigset_t old;
	if (!reg || !lt_opts.track_mmap)
		return 0;
	bool locked = lock_for_scan(&old);
	size_t n = reg->count;
	for (size_t i = 0; i < n && i < LT_MAP_CAPACITY; i++)
		fn(&reg->regions[i], ctx);
	if (locked)
		unlock(&old);
	return n;
}

const char *lt_mappings_path(uint32_t path)
{
	if (!reg || path >= reg->paths_used)
		return "";
	return reg->paths + path;
}

uint64_t lt_mappings_dropped(void)
{
	return reg ? reg->dropped : 0;
}

bool lt_mappings_tracked(void)
{
	return lt_opts.track_mmap;
}
