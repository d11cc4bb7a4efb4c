/* The report when the program ends without exit(): _exit and _Exit,
 * quick_exit, and death by a signal whose action is the default one
 * (SIGTERM, SIGSEGV, SIGABRT from abort, ...), as valgrind reports then.
 * Context: SIGNAL-SAFE. These ways out may be taken from a signal handler
 * or with the heap broken, so the report is made as on demand: the other
 * threads are paused, a frozen copy of the process is forked with the raw
 * system call and becomes the reporter; the program waits for it, for a
 * bounded time, and then ends exactly as it was going to: same status,
 * same signal, core dump included. The program's own handlers come first:
 * a signal it handles is never ours, and it sees SIG_DFL where it set
 * nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "preload-private.h"
#include "strbuf.h"
#include "view.h"

/* Signals whose default action ends the process. SIGURG, SIGCHLD,
 * SIGWINCH and SIGCONT are ignored by default; the stop signals stop;
 * glibc keeps 32 and 33 for itself; real-time signals are left to the
 * programs that use them. */
static const int fatal_signals[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE,
	SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT,
	SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSYS,
};

/* owned[sig]: our handler is installed where the program's disposition
 * is SIG_DFL; shown[sig] is the action the program believes it has. */
static _Atomic bool owned[NSIG];
static struct sigaction shown[NSIG];
static bool enabled;
/* The pid of this process as fork left it: a vfork child (or a child of
 * a raw clone) has another pid but shares our memory, and must not
 * report. */
static _Atomic pid_t own_pid;
/* Set on the way out: a second fatal signal, in the program or in the
 * frozen copy, only ends the process. */
static atomic_bool dying;

/* glibc's sigaction always hands the kernel its restorer, and the
 * kernel gives the flag back to later queries. */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

static void remember_shown(int sig, const struct sigaction *act)
{
	shown[sig] = *act;
	shown[sig].sa_flags |= SA_RESTORER;
}

static bool is_fatal_signal(int sig)
{
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		if (fatal_signals[i] == sig)
			return true;
	return false;
}

/* sa_handler and sa_sigaction share their storage: 0 is SIG_DFL whatever
 * the flags say, for the kernel as for glibc. */
static bool is_default(const struct sigaction *act)
{
	return act->sa_handler == SIG_DFL;
}

/* A vfork child (or a raw clone's) runs in our memory: it must not
 * report, nor mark the process as dying. */
static bool in_own_process(void)
{
	return (pid_t)syscall(SYS_getpid) == atomic_load(&own_pid);
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_timeout(void)
{
	char line[160];
	struct lt_strbuf sb;
	lt_strbuf_init(&sb, line, sizeof(line));
	lt_strbuf_puts(&sb, "the final report did not finish within ");
	lt_strbuf_putu(&sb, lt_opts.final_report_timeout);
	lt_strbuf_puts(&sb, " s (final_report_timeout): stopped");
	lt_log(line);
}

/* Waits for the reporter at most final_report_timeout seconds; kills it
 * after that. Returns its exit status, or -1. */
static int wait_reporter(pid_t child)
{
	int64_t deadline = monotonic_ms() + (int64_t)lt_opts.final_report_timeout * 1000;
	struct timespec nap = { .tv_nsec = 5 * 1000 * 1000 };
	int status = 0;
	for (;;) {
		long r = syscall(SYS_wait4, child, &status, __WALL | WNOHANG, NULL);
		if (r == child)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (monotonic_ms() >= deadline) {
			log_timeout();
			syscall(SYS_kill, child, SIGKILL);
			while (syscall(SYS_wait4, child, &status, __WALL, NULL) < 0 && errno == EINTR)
				;
			return -1;
		}
		nanosleep(&nap, NULL);
	}
}

/* The report itself, from the context uc of the thread that ends the
 * process. The other threads stay paused: the process ends next, and
 * natively they would not have run meanwhile. Returns the reporter's
 * exit status, or -1 when no report was made. */
static int report_final(const ucontext_t *uc)
{
	int saved = errno, status = -1;
	if (!lt_claim_final_report())
		return -1;
	if (!lt_report_trylock())
		return -1;   /* a report is under way, maybe the one that crashed */
	lt_self.depth++;
	pid_t pid = (pid_t)syscall(SYS_getpid), ppid = (pid_t)syscall(SYS_getppid);
	uint32_t sequence = lt_next_report_sequence();
	struct lt_world *w = lt_view_stop();
	pid_t child = lt_raw_fork();
	if (child == 0) {
		lt_report_in_copy(uc, LT_REASON_EXIT, pid, ppid, sequence, w);
		syscall(SYS_exit_group, 127);
	}
	if (child > 0)
		status = wait_reporter(child);
	else
		lt_log("cannot fork a copy of the process for the final report");
	errno = saved;
	return status;
}

/* The status to end with: the program's, or error_exitcode when the
 * reporter found leaks of the kinds that count (valgrind's
 * --error-exitcode); a report that could not be made fails the gate. */
static int exit_status(int program_status, int report_status)
{
	if (!lt_opts.error_exitcode || report_status == 0)
		return program_status;
	if (report_status != LT_REPORT_STATUS_ERRORS)
		lt_log("the report failed: exiting with error_exitcode");
	return (int)lt_opts.error_exitcode;
}

/* The report from the calling thread's own context. */
static LT_NOINLINE int report_from_here(void)
{
	ucontext_t uc;
	getcontext(&uc);
	return report_final(&uc);
}

static LT_NOINLINE void report_and_exit(int status)
{
	if (enabled && in_own_process() && !atomic_exchange(&dying, true)) {
		int report = report_from_here();
		if (report != -1 || lt_opts.error_exitcode)
			status = exit_status(status, report);
	}
	for (;;)
		syscall(SYS_exit_group, status);
}

/* _exit never returns and is async-signal-safe: so is this. */
LT_EXPORT void _exit(int status)
{
	report_and_exit(status);
	__builtin_unreachable();
}

LT_EXPORT void _Exit(int status)
{
	report_and_exit(status);
	__builtin_unreachable();
}

/* Registered first, so it runs after the program's at_quick_exit
 * functions; quick_exit then calls glibc's internal _exit, which does not
 * come through the one above. */
int __cxa_at_quick_exit(void (*fn)(void *), void *dso_handle);

static void at_quick_exit_report(void *unused)
{
	(void)unused;
	if (!in_own_process() || atomic_exchange(&dying, true))
		return;
	int report = report_from_here();
	if (lt_opts.error_exitcode && report != 0)
		syscall(SYS_exit_group, exit_status(0, report));
}

/* Ends the process by sig with the default action, as it would have
 * without us: the parent sees the same wait status, core dump included. */
static void die_by(int sig)
{
	struct sigaction dfl;
	sigset_t only;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	lt_sigaction(sig, &dfl, NULL);
	syscall(SYS_tgkill, (pid_t)syscall(SYS_getpid), (pid_t)syscall(SYS_gettid), sig);
	sigemptyset(&only);
	sigaddset(&only, sig);
	sigprocmask(SIG_UNBLOCK, &only, NULL);
	/* A signal the kernel would not deliver (it cannot be, for these):
	 * end as close to it as we can. */
	syscall(SYS_exit_group, 128 + sig);
}

static void on_fatal_signal(int sig, siginfo_t *info, void *context)
{
	(void)info;
	if (in_own_process() && !atomic_exchange(&dying, true)) {
		int report = report_final(context);
		(void)report;
	}
	die_by(sig);
}

static int install_ours(int sig, struct sigaction *previous)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal_signal;
	/* On the program's alternate stack if it has one: a stack overflow
	 * can then still be reported. */
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	return lt_sigaction(sig, &sa, previous);
}

void lt_death_init(void)
{
	atomic_store(&own_pid, (pid_t)syscall(SYS_getpid));
	if (!lt_opts.final_report)
		return;
	enabled = true;
	__cxa_at_quick_exit(at_quick_exit_report, NULL);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
		int sig = fatal_signals[i];
		struct sigaction old;
		/* Ignored (nohup) or already handled: the program's. */
		if (lt_sigaction(sig, NULL, &old) != 0 || !is_default(&old))
			continue;
		shown[sig] = old;
		if (lt_ondemand_owns_signal(sig))
			continue;
		if (install_ours(sig, NULL) == 0)
			atomic_store(&owned[sig], true);
	}
}

void lt_death_after_fork(void)
{
	atomic_store(&own_pid, (pid_t)syscall(SYS_getpid));
}

bool lt_death_handles(int sig)
{
	return sig > 0 && sig < NSIG &&
	       ((enabled && is_fatal_signal(sig)) || lt_ondemand_owns_signal(sig));
}

/* The program's sigaction on one of our signals. Returns true when it was
 * answered here (*rc holds the result); false when glibc's should run. */
bool lt_death_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int *rc)
{
	if (!lt_death_handles(sig))
		return false;
	/* act and old may be the same structure: read act first. */
	struct sigaction wanted;
	if (act) {
		wanted = *act;
		act = &wanted;
	}
	if (lt_ondemand_owns_signal(sig)) {
		/* The report signal's handler is the report's until the
		 * program installs one (interpose.c): until then the program
		 * sees what it set. */
		struct sigaction previous = shown[sig];
		*rc = 0;
		if (act && !is_default(act)) {
			lt_ondemand_yield_signal(sig);
			*rc = lt_sigaction(sig, act, NULL);
		} else if (act) {
			remember_shown(sig, act);
		}
		if (old && *rc == 0)
			*old = previous;
		return true;
	}
	if (atomic_load(&owned[sig])) {
		if (old)
			*old = shown[sig];
		if (act && is_default(act)) {
			remember_shown(sig, act);
		} else if (act) {
			/* The program's handler, or SIG_IGN: really its own. */
			atomic_store(&owned[sig], false);
			*rc = lt_sigaction(sig, act, NULL);
			if (*rc != 0)
				atomic_store(&owned[sig], true);
			return true;
		}
		*rc = 0;
		return true;
	}
	if (!act || !is_default(act))
		return false;
	/* Back to SIG_DFL (a handler that re-raises its signal to die does
	 * this): the death is reported again. */
	struct sigaction previous;
	*rc = install_ours(sig, &previous);
	if (*rc == 0) {
		remember_shown(sig, act);
		atomic_store(&owned[sig], true);
		if (old)
			*old = previous;
	}
	return true;
}
