/* Start-up and exit: the constructor that configures the library before
 * main, the destructor that reports what is left, and fork handling.
 * Context: cold. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "preload-private.h"

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
}

static void after_fork_in_child(void)
{
	/* A forked child reports for itself at its own exit. */
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
	pthread_atfork(NULL, NULL, after_fork_in_child);
	lt_config_scrub_environment();
	lt_self.depth--;
}

/* Runs from _dl_fini: after the program's atexit handlers and the
 * destructors of every object loaded after us, whichever thread called
 * exit. */
__attribute__((destructor)) static void lt_finish(void)
{
	if (atomic_flag_test_and_set(&exit_reported))
		return;
	/* What lies below this frame is exit's and ours, not the program's. */
	lt_report_now(LT_REASON_EXIT, (uintptr_t)__builtin_frame_address(0));
}
