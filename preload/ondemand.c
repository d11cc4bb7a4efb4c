/* Reports while the program runs: on the report signal (`kill -USR2 PID`,
 * or `leaktrace signal PID`) and every `interval` seconds.
 * Context: SIGNAL-SAFE. The handler pauses the other threads, forks a
 * frozen copy of the process with the raw clone system call (no atfork
 * handlers, no SIGCHLD for the program), resumes the threads and returns:
 * the program is paused only for the stop and the fork. The copy scans,
 * writes the snapshot and becomes the reporter by exec; it never takes a
 * lock or calls the allocator, whose locks a paused thread may have held
 * when it was copied. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "preload-private.h"
#include "scan.h"
#include "strbuf.h"
#include "stw.h"
#include "view.h"

#define RED_ZONE 128

static int report_signal;
static atomic_bool taken_over;    /* the program installed its own handler */

/* fork without glibc: no atfork handlers (a paused thread may hold the
 * locks they take), and no signal to the parent when the child ends. */
pid_t lt_raw_fork(void)
{
	return (pid_t)syscall(SYS_clone, 0ul, NULL, NULL, NULL, 0ul);
}

/* In the frozen copy: the reporter's argv and environment, made of our
 * own memory and the program's environ. Then exec. */
static void become_reporter(int snap_fd)
{
	struct lt_reporter_exec x;

	/* The snapshot at fd 3, the program's original stderr at 2; nothing
	 * else of the program's stays open in the reporter. */
	if (snap_fd != 3) {
		if (syscall(SYS_dup2, snap_fd, 3) < 0)
			return;
		syscall(SYS_close, snap_fd);
	}
	int err_fd = lt_private_stderr();
	if (err_fd < 0)
		err_fd = (int)syscall(SYS_open, "/dev/null", O_WRONLY);
	if (err_fd >= 0 && err_fd != 2)
		syscall(SYS_dup2, err_fd, 2);
	/* The previous report's figures, for the deltas, at 4. */
	int state_fd = lt_delta_state_fd();
	if (state_fd >= 0 && syscall(SYS_dup2, state_fd, LT_DELTA_STATE_FD) < 0)
		state_fd = -1;
	syscall(SYS_close_range, state_fd >= 0 ? 5u : 4u, ~0u, 0u);

	if (lt_reporter_exec_prepare(&x, state_fd >= 0) == 0)
		syscall(SYS_execve, lt_tool_path, x.argv, x.envp);
}

void lt_report_in_copy(const ucontext_t *uc, enum lt_snap_reason reason,
		       pid_t pid, pid_t ppid, uint32_t sequence, const struct lt_world *w)
{
	struct lt_scan_result scan = { 0 };
	struct lt_snap_totals totals;
	struct lt_snapshot_context ctx = {
		.reason = reason,
		.sequence = sequence,
		.pid = pid,
		.ppid = ppid,
		.frozen = true,
	};
	uintptr_t regs[NGREG];
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP] - RED_ZONE;

	memcpy(regs, uc->uc_mcontext.gregs, sizeof(regs));
	lt_as_reserve_release();   /* the copy's own address space */
	lt_view_classify(w, &scan, &totals, sp, regs);
	int fd = lt_open_snapshot_file();
	if (fd < 0 || lt_snapshot_write(fd, &ctx, &scan, &totals) != 0) {
		lt_log("cannot write the snapshot of a report on demand");
		return;
	}
	if (lt_opts.raw_file[0])
		lt_keep_raw_copy(fd, lt_opts.raw_file, pid, sequence);
	become_reporter(fd);
	lt_log("cannot run the reporter for a report on demand");
}

/* kill(2) lets a user signal processes whose real or saved uid is theirs,
 * and root signal any: a signal sent by someone else (another uid that a
 * set-user-ID program of theirs runs as, say) must not make this process
 * write reports. The kernel's own signals and timers carry no sender. */
static bool sent_by_another_user(const siginfo_t *info)
{
	static atomic_bool said;
	if (!info || (info->si_code != SI_USER && info->si_code != SI_QUEUE &&
		      info->si_code != SI_TKILL))
		return false;
	uid_t from = info->si_uid;
	if (from == 0 || from == (uid_t)syscall(SYS_getuid) ||
	    from == (uid_t)syscall(SYS_geteuid))
		return false;
	if (!atomic_exchange(&said, true)) {
		char line[120];
		struct lt_strbuf sb;
		lt_strbuf_init(&sb, line, sizeof(line));
		lt_strbuf_puts(&sb, "ignored a report signal sent by another user (uid ");
		lt_strbuf_putu(&sb, (uint64_t)from);
		lt_strbuf_puts(&sb, ")");
		lt_log(line);
	}
	return true;
}

/* The first copy only forks the reporter and exits, but its exit (the
 * teardown of a copy of the whole address space) takes as long as the
 * fork: the handler does not wait for it. Copies are reaped at the next
 * report, without waiting unless too many are still running. They end
 * without a signal to the program (exit_signal 0), and only wait calls
 * with __WALL see them. */
#define MAX_COPIES 8
static pid_t copies[MAX_COPIES];

static void reap_copies(int how)
{
	for (int i = 0; i < MAX_COPIES; i++) {
		if (!copies[i])
			continue;
		long rc;
		while ((rc = syscall(SYS_wait4, copies[i], NULL, __WALL | how, NULL)) < 0 &&
		       errno == EINTR)
			;
		if (rc != 0)      /* reaped, or not ours any more (ECHILD) */
			copies[i] = 0;
	}
}

static void remember_copy(pid_t child)
{
	reap_copies(WNOHANG);
	for (int i = 0; i < MAX_COPIES; i++)
		if (!copies[i]) {
			copies[i] = child;
			return;
		}
	reap_copies(0);
	copies[0] = child;
}

static void on_report_signal(int sig, siginfo_t *info, void *context)
{
	int saved = errno;
	if (sent_by_another_user(info)) {
		errno = saved;
		return;
	}
	enum lt_snap_reason reason =
		info && info->si_code == SI_TIMER ? LT_REASON_INTERVAL : LT_REASON_SIGNAL;
	(void)sig;

	/* A report already under way (this one, or the one at exit) makes
	 * this signal moot. */
	if (!lt_report_trylock()) {
		errno = saved;
		return;
	}
	lt_self.depth++;
	pid_t pid = (pid_t)syscall(SYS_getpid), ppid = (pid_t)syscall(SYS_getppid);
	uint32_t sequence = lt_next_report_sequence();
	struct lt_world *w = lt_view_stop();
	pid_t child = lt_raw_fork();
	if (child == 0) {
		/* The copy forks once more and exits at once, so the
		 * reporter, orphaned, is reaped by init rather than left as
		 * the program's child (the copy is reaped later). */
		if (lt_raw_fork() == 0)
			lt_report_in_copy(context, reason, pid, ppid, sequence, w);
		syscall(SYS_exit_group, 0);
	}
	lt_view_resume(w);
	if (child > 0)
		remember_copy(child);
	else
		lt_log("cannot fork a copy of the process for a report on demand");
	lt_fd_reserve_fill();
	lt_self.depth--;
	lt_report_unlock();
	errno = saved;
}

static void start_interval_timer(void)
{
	struct sigevent ev = {
		.sigev_notify = SIGEV_SIGNAL,
		.sigev_signo = report_signal,
	};
	/* interval_ms, when set, is the finer of the two. */
	struct timespec every = { .tv_sec = lt_opts.interval };
	if (lt_opts.interval_ms)
		every = (struct timespec){ .tv_sec = lt_opts.interval_ms / 1000,
					   .tv_nsec = (long)(lt_opts.interval_ms % 1000) * 1000000 };
	struct itimerspec spec = { .it_value = every, .it_interval = every };
	timer_t timer;
	if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0 ||
	    timer_settime(timer, 0, &spec, NULL) != 0)
		lt_log("cannot start the interval timer: periodic reports are off");
}

void lt_ondemand_init(void)
{
	struct sigaction old, sa;
	if (!lt_opts.report_signal)
		return;
	if (lt_opts.report_signal >= (unsigned)NSIG || lt_opts.report_signal == SIGKILL ||
	    lt_opts.report_signal == SIGSTOP) {
		lt_log("report_signal: not a signal that can be handled; reports on demand are off");
		return;
	}
	/* A handler inherited through exec does not exist; an ignored
	 * signal is ours to take, a handled one is the program's. */
	if (lt_sigaction((int)lt_opts.report_signal, NULL, &old) != 0 ||
	    ((old.sa_flags & SA_SIGINFO) ? old.sa_sigaction != NULL
					 : (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_report_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (lt_sigaction((int)lt_opts.report_signal, &sa, NULL) != 0)
		return;
	report_signal = (int)lt_opts.report_signal;
	if (lt_opts.interval || lt_opts.interval_ms)
		start_interval_timer();
}

bool lt_ondemand_owns_signal(int sig)
{
	return report_signal && sig == report_signal;
}

/* The program installs a handler of its own: it keeps working, and we say
 * once that reports on demand need another signal. */
bool lt_ondemand_yield_signal(int sig)
{
	if (!report_signal || sig != report_signal)
		return false;
	if (!atomic_exchange(&taken_over, true)) {
		char line[200];
		struct lt_strbuf sb;
		lt_strbuf_init(&sb, line, sizeof(line));
		lt_strbuf_puts(&sb, "the program handles signal ");
		lt_strbuf_putu(&sb, (uint64_t)sig);
		lt_strbuf_puts(&sb, " itself: reports on demand are off (choose another with report_signal=)");
		lt_log(line);
	}
	report_signal = 0;
	return true;
}
