/* Stop the world without ptrace: every other thread of the process is sent
 * a real-time signal whose handler saves the interrupted registers and
 * parks on a futex until released, as garbage collectors do. Works under
 * strace, gdb and in containers without CAP_SYS_PTRACE.
 * Context: the park handler is SIGNAL-SAFE (gettid, futex, atomics only);
 * the coordinator is cold and never allocates (raw getdents64 on
 * /proc/self/task, mappings of ours). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "preload-private.h"
#include "strbuf.h"
#include "stw.h"

/* How long the coordinator waits for a thread to park before it treats it
 * as unstoppable (it blocks the signal, or sleeps in the kernel). */
#define PARK_TIMEOUT_MS 500
#define MAX_ROUNDS 64

static struct lt_world *_Atomic current_world;
static _Atomic uint32_t release_word;
static int stop_signal;

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

static struct lt_stopped_thread *slot_of(struct lt_world *w, pid_t tid)
{
	for (unsigned i = 0; i < w->count; i++)
		if (w->threads[i].tid == tid)
			return &w->threads[i];
	return NULL;
}

/* SIGNAL-SAFE. */
static void park(int sig, siginfo_t *info, void *context)
{
	int saved = errno;
	struct lt_world *w = atomic_load(&current_world);
	struct lt_stopped_thread *me;
	ucontext_t *uc = context;

	(void)sig;
	(void)info;
	if (!w || !(me = slot_of(w, (pid_t)syscall(SYS_gettid)))) {
		errno = saved;
		return;   /* a late signal from a finished stop: nothing to do */
	}
	memcpy(me->regs, uc->uc_mcontext.gregs, sizeof(me->regs));
	me->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	me->tcb = (uintptr_t)__builtin_thread_pointer();
	atomic_store_explicit(&me->state, LT_THREAD_PARKED, memory_order_release);
	atomic_fetch_add(&w->parked, 1);
	futex(&w->parked, FUTEX_WAKE_PRIVATE, 1, NULL);
	while (atomic_load_explicit(&release_word, memory_order_acquire) == 0)
		futex(&release_word, FUTEX_WAIT_PRIVATE, 0, NULL);
	atomic_store_explicit(&me->state, LT_THREAD_RESUMED, memory_order_release);
	errno = saved;
}

/* The signal that parks threads. SIGURG comes first: its default action
 * is to be ignored, few programs use it, and debuggers pass it on without
 * stopping (gdb stops on real-time signals). Any signal whose handler the
 * program set itself is left alone. Ours stays installed once chosen, so
 * a signal still pending in a thread that blocks it finds our handler,
 * which ignores it, rather than a default action. */
static bool usable(int sig)
{
	struct sigaction old, sa;
	if (lt_sigaction(sig, NULL, &old) != 0)
		return false;
	if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == park)
		return true;
	if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler != SIG_DFL &&
	    old.sa_handler != SIG_IGN)
		return false;
	if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction)
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = park;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	return lt_sigaction(sig, &sa, NULL) == 0;
}

static int choose_signal(void)
{
	if (stop_signal && usable(stop_signal))
		return stop_signal;
	stop_signal = 0;
	if (usable(SIGURG))
		return stop_signal = SIGURG;
	for (int sig = SIGRTMAX - 2; sig > SIGRTMIN + 2; sig--)
		if (usable(sig))
			return stop_signal = sig;
	return 0;
}

/* Adds the threads listed in /proc/self/task that are not known yet and
 * signals them. Returns how many were new. */
static unsigned signal_new_threads(struct lt_world *w, pid_t self)
{
	char buf[4096];
	unsigned added = 0;
	int fd = lt_open_reserved("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0) {
		w->incomplete = true;
		return 0;
	}
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			pid_t tid = 0;
			for (const char *c = d->d_name; *c >= '0' && *c <= '9'; c++)
				tid = tid * 10 + (*c - '0');
			if (tid <= 0 || tid == self || slot_of(w, tid))
				continue;
			if (w->count == w->capacity) {
				w->incomplete = true;
				continue;
			}
			struct lt_stopped_thread *t = &w->threads[w->count];
			memset(t, 0, sizeof(*t));
			t->tid = tid;
			atomic_store(&t->state, LT_THREAD_SIGNALLED);
			w->count++;
			added++;
			if (syscall(SYS_tgkill, getpid(), tid, stop_signal) != 0)
				atomic_store(&t->state, LT_THREAD_GONE);
		}
	}
	close(fd);
	return added;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned waiting_for(struct lt_world *w)
{
	unsigned n = 0;
	for (unsigned i = 0; i < w->count; i++)
		if (atomic_load(&w->threads[i].state) == LT_THREAD_SIGNALLED)
			n++;
	return n;
}

/* Reads /proc/.../TID/NAME of a thread of ours into buf. */
static ssize_t read_task_file(pid_t tid, const char *name, char *buf, size_t cap)
{
	char path[64];
	struct lt_strbuf sb;
	lt_strbuf_init(&sb, path, sizeof(path));
	lt_strbuf_puts(&sb, "/proc/thread-self/../");
	lt_strbuf_putu(&sb, (uint64_t)tid);
	lt_strbuf_puts(&sb, "/");
	lt_strbuf_puts(&sb, name);
	int fd = lt_open_reserved(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n > 0)
		buf[n] = '\0';
	return n;
}

/* A thread that has exited but is still listed (the main thread after
 * pthread_exit stays a zombie until the process ends) never parks. */
static bool is_zombie(pid_t tid)
{
	char buf[256];
	if (read_task_file(tid, "stat", buf, sizeof(buf)) <= 0)
		return false;
	/* "tid (comm) S ...": the state follows the last ')' */
	const char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* A thread that blocks our signal (xz's workers block them all) will not
 * park before it unblocks it: no use waiting for it. */
static bool blocks_signal(pid_t tid, int sig)
{
	char buf[2048];
	if (read_task_file(tid, "status", buf, sizeof(buf)) <= 0)
		return false;
	const char *p = strstr(buf, "\nSigBlk:");
	if (!p)
		return false;
	p += 9;
	while (*p == ' ' || *p == '\t')
		p++;
	uint64_t mask = 0;
	for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
		mask = mask << 4 | (uint64_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
	return (mask >> (sig - 1)) & 1;
}

/* Waits until every signalled thread parked, or the deadline passed. */
/* A thread may block signals for a moment (glibc does, around thread
 * creation; so does a signal handler): only one that still blocks ours
 * after this long is given up on before the deadline. */
#define BLOCKED_GRACE_MS 100

static void wait_for_parking(struct lt_world *w, uint64_t deadline)
{
	uint64_t started = now_ms();
	for (;;) {
		uint32_t parked = atomic_load(&w->parked);
		if (waiting_for(w) == 0)
			return;
		uint64_t now = now_ms();
		if (now >= deadline)
			return;
		/* A thread that exited between listing and signalling never
		 * parks: notice it by its task directory going away. */
		for (unsigned i = 0; i < w->count; i++) {
			struct lt_stopped_thread *t = &w->threads[i];
			if (atomic_load(&t->state) != LT_THREAD_SIGNALLED)
				continue;
			if (syscall(SYS_tgkill, getpid(), t->tid, 0) != 0 || is_zombie(t->tid))
				atomic_store(&t->state, LT_THREAD_GONE);
			else if (now - started >= BLOCKED_GRACE_MS && blocks_signal(t->tid, stop_signal))
				atomic_store(&t->state, LT_THREAD_BLOCKING);
		}
		uint64_t left = deadline - now;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(left < 10 ? left : 10) * 1000000 };
		futex(&w->parked, FUTEX_WAIT_PRIVATE, parked, &ts);
	}
}

int lt_world_stop(struct lt_world *w, struct lt_stopped_thread *storage, unsigned capacity)
{
	pid_t self = (pid_t)syscall(SYS_gettid);
	memset(w, 0, sizeof(*w));
	w->threads = storage;
	w->capacity = capacity;
	w->self_tcb = (uintptr_t)__builtin_thread_pointer();
	if (!choose_signal()) {
		w->incomplete = true;
		return -1;
	}
	atomic_store(&release_word, 0);
	atomic_store(&current_world, w);
	/* Threads may start threads while we signal: list until no new
	 * one shows up, then wait for them all. */
	uint64_t deadline = now_ms() + PARK_TIMEOUT_MS;
	for (unsigned round = 0; round < MAX_ROUNDS; round++) {
		if (signal_new_threads(w, self) == 0)
			break;
		wait_for_parking(w, deadline);
	}
	wait_for_parking(w, deadline);
	for (unsigned i = 0; i < w->count; i++) {
		uint32_t st = atomic_load(&w->threads[i].state);
		if (st == LT_THREAD_SIGNALLED || st == LT_THREAD_BLOCKING)
			w->unstopped++;
	}
	return 0;
}

void lt_world_resume(struct lt_world *w)
{
	atomic_store_explicit(&release_word, 1, memory_order_release);
	futex(&release_word, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL);
	/* Wait (bounded) until the parked threads left the handler, so that
	 * the world can be forgotten safely. */
	uint64_t deadline = now_ms() + PARK_TIMEOUT_MS;
	for (unsigned i = 0; i < w->count; i++) {
		struct lt_stopped_thread *t = &w->threads[i];
		while (atomic_load(&t->state) == LT_THREAD_PARKED && now_ms() < deadline)
			sched_yield();
	}
	atomic_store(&current_world, NULL);
}
