/* Start-up and exit: the constructor that configures the library before
 * main, the exit handler that reports what is left, and fork handling.
 * Context: cold. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "preload-private.h"
#include "view.h"

int lt_stderr_fd = -1;
static atomic_flag exit_reported = ATOMIC_FLAG_INIT;

/* A private copy of stderr, high in the fd table where programs rarely
 * look, so the report reaches the user even if the program closes fd 2
 * or reuses it for a file of its own. */
static void keep_stderr(void)
{
	lt_stderr_fd = fcntl(2, F_DUPFD_CLOEXEC, 600);
	if (lt_stderr_fd < 0)
		lt_stderr_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	lt_fd_reserve_fill();
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

static void after_fork_in_child(void)
{
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
	lt_modules_refresh();
	lt_static_tls_size();   /* asked now: a report may run in a signal handler */
	lt_delta_state_init();
	pthread_atfork(NULL, NULL, after_fork_in_child);
	__cxa_atexit(lt_at_exit, NULL, NULL);
	lt_ondemand_init();
	lt_config_scrub_environment();
	lt_self.depth--;
}
