/* Start-up and exit: the constructor that configures the library before
 * main, the exit handler that reports what is left, and fork handling.
 * Context: cold. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mappings.h"
#include "preload-private.h"
#include "view.h"

int lt_stderr_fd = -1;
static dev_t stderr_dev;
static ino_t stderr_ino;
static atomic_flag exit_reported = ATOMIC_FLAG_INIT;

/* A private copy of stderr, high in the fd table where programs rarely
 * look, so the report reaches the user even if the program closes fd 2
 * or reuses it for a file of its own. */
static void keep_stderr(void)
{
	lt_stderr_fd = fcntl(2, F_DUPFD_CLOEXEC, 600);
	/* Under a descriptor limit below that: near its top, still far from
	 * the numbers the program is given first. */
	struct rlimit rl;
	if (lt_stderr_fd < 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 16)
		lt_stderr_fd = fcntl(2, F_DUPFD_CLOEXEC, (int)rl.rlim_cur - 8);
	if (lt_stderr_fd < 0)
		lt_stderr_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	struct stat st;
	if (lt_stderr_fd >= 0 && fstat(lt_stderr_fd, &st) == 0) {
		stderr_dev = st.st_dev;
		stderr_ino = st.st_ino;
	}
	lt_fd_reserve_fill();
}

/* A program that closes every descriptor closes our copy too, and its
 * number may then name a file of the program's: the report and our
 * messages must not land in it. */
int lt_private_stderr(void)
{
	struct stat st;
	if (lt_stderr_fd < 0 || fstat(lt_stderr_fd, &st) != 0 || st.st_dev != stderr_dev ||
	    st.st_ino != stderr_ino)
		return -1;
	return lt_stderr_fd;
}

int __cxa_atexit(void (*fn)(void *), void *arg, void *dso_handle);

/* Runs from exit() after every other exit handler, the program's atexit
 * functions and _dl_fini (which ran the destructors of every object)
 * included: it was registered before __libc_start_main registered
 * _dl_fini, and handlers run last-in first-out. It is registered with no
 * DSO handle so that our own destructor does not run it early.
 *
 * The exiting thread's stack is scanned from the frame that called exit
 * (main's caller when main returned): the frames of exit's machinery in
 * between hold stale copies of the program's pointers in slots they never
 * wrote, which valgrind, tracking definedness, ignores. */
static void lt_at_exit(void *unused)
{
	(void)unused;
	if (atomic_flag_test_and_set(&exit_reported))
		return;
	if (lt_api_checks_turned_off())
		return;
	uintptr_t sp = lt_first_foreign_frame_sp((const void *)exit);
	if (!sp)
		sp = (uintptr_t)__builtin_dwarf_cfa();
	int status = lt_report_now(LT_REASON_EXIT, sp);
	/* valgrind's --error-exitcode: the program's output is flushed as
	 * exit would, then the process ends with the requested status. A
	 * gate fails closed: a report that could not be made counts as one
	 * that found errors. */
	if (!lt_opts.error_exitcode || status == 0)
		return;
	if (status != LT_REPORT_STATUS_ERRORS)
		lt_log("the report failed: exiting with error_exitcode");
	fflush(NULL);
	_exit((int)lt_opts.error_exitcode);
}

void lt_exit_report_cancel(void)
{
	atomic_flag_test_and_set(&exit_reported);
}

bool lt_claim_final_report(void)
{
	return !atomic_flag_test_and_set(&exit_reported);
}

static void after_fork_in_child(void)
{
	lt_death_after_fork();
	/* Locks held by threads that do not exist in the child. */
	lt_modules_after_fork();
	lt_report_after_fork();
	lt_delta_state_after_fork();
	/* A forked child reports for itself at its own exit, unless asked
	 * to stay silent. */
	if (lt_opts.child_silent_after_fork)
		atomic_flag_test_and_set(&exit_reported);
	else
		atomic_flag_clear(&exit_reported);
}

/* glibc passes argc, argv and envp to constructors of shared objects. */
__attribute__((constructor)) static void lt_start(int argc, char **argv, char **envp)
{
	(void)argc;
	(void)argv;
	lt_init_core();
	lt_self.depth++;
	lt_config_load(envp);
	keep_stderr();
	lt_as_reserve_init();
	lt_modules_refresh();
	lt_static_tls_size();   /* asked now: a report may run in a signal handler */
	lt_delta_state_init();
	pthread_atfork(NULL, NULL, after_fork_in_child);
	lt_mappings_init();
	__cxa_atexit(lt_at_exit, NULL, NULL);
	lt_ondemand_init();
	lt_death_init();
	lt_config_scrub_environment();
	lt_self.depth--;
}
