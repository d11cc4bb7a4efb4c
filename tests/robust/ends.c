/* Every way out of a process: _exit, _Exit, quick_exit, abort, death by
 * SIGTERM (raised, or sent while other threads allocate), by SIGSEGV (also
 * with the allocator's own data corrupted), a handler of the program's that
 * exits or re-raises its signal, an ignored SIGTERM, exit while threads
 * still run, and allocations made in atexit handlers and late destructors.
 * Each leaks one block of a known size before it ends: the tracer must
 * report it and the process must end exactly as it does untraced. */
#include "robust.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

static int do_exit_(int argc, char **argv)
{
	leak(21);
	printf("calling _exit(4)\n");
	fflush(stdout);
	_exit(4);
}

static int do_Exit(int argc, char **argv)
{
	leak(22);
	printf("calling _Exit(5)\n");
	fflush(stdout);
	_Exit(5);
}

static void said_at_quick_exit(void)
{
	printf("at_quick_exit handler ran\n");
	fflush(stdout);
}

static int do_quick_exit(int argc, char **argv)
{
	at_quick_exit(said_at_quick_exit);
	leak(23);
	quick_exit(6);
}

static int do_abort(int argc, char **argv)
{
	leak(24);
	printf("calling abort\n");
	fflush(stdout);
	abort();
}

static int do_sigterm(int argc, char **argv)
{
	struct sigaction old;
	sigaction(SIGTERM, NULL, &old);
	printf("SIGTERM action before: %s, flags 0x%x\n",
	       old.sa_handler == SIG_DFL ? "SIG_DFL" : "not SIG_DFL", (unsigned)old.sa_flags);
	leak(25);
	fflush(stdout);
	raise(SIGTERM);
	printf("still alive after SIGTERM\n");
	return 1;
}

static atomic_bool stop_churn;

static void *churn(void *arg)
{
	while (!atomic_load(&stop_churn)) {
		void *p = malloc(64 + (size_t)arg);
		free(p);
	}
	return NULL;
}

static void *send_sigterm(void *arg)
{
	usleep(20000);
	kill(getpid(), SIGTERM);
	return NULL;
}

static void start_churn(int n)
{
	pthread_t t;
	for (int i = 0; i < n; i++)
		pthread_create(&t, NULL, churn, (void *)(intptr_t)i);
}

static int do_sigterm_threads(int argc, char **argv)
{
	pthread_t t;
	leak(26);
	start_churn(3);
	pthread_create(&t, NULL, send_sigterm, NULL);
	for (;;)
		pause();
	return 1;
}

/* A store to an address that is never mapped. */
static void crash(void)
{
	volatile int *volatile nowhere = (volatile int *)16;
	*nowhere = 1;
}

static int do_segv(int argc, char **argv)
{
	leak(27);
	printf("about to crash\n");
	fflush(stdout);
	crash();
	return 1;
}

/* The allocator's free list points into nowhere: any malloc of that size
 * would crash. Then the program crashes elsewhere. The report must come
 * out anyway, and must not take the allocator. */
static int do_segv_corrupt_heap(int argc, char **argv)
{
	leak(28);
	void **p = malloc(40);
	free(p);
	p[0] = (void *)0x4141414141414141ul;   /* tcache's next pointer */
	p[1] = (void *)0x4242424242424242ul;
	printf("heap corrupted, about to crash\n");
	fflush(stdout);
	crash();
	return 1;
}

static void *crash_in_thread(void *arg)
{
	usleep(20000);
	crash();
	return NULL;
}

static int do_segv_in_thread(int argc, char **argv)
{
	pthread_t t;
	leak(29);
	start_churn(2);
	pthread_create(&t, NULL, crash_in_thread, NULL);
	pthread_join(t, NULL);
	return 1;
}

/* Natively and traced, the kernel finds no stack to run a handler on: the
 * process dies of SIGSEGV either way, and no report can be made. */
__attribute__((noinline)) static unsigned long overflow(volatile char *up, unsigned long depth)
{
	volatile char frame[512];
	frame[0] = up ? up[0] : 0;
	if (depth == ~0ul)   /* never: the stack ends long before */
		return 0;
	return overflow(frame, depth + 1) + frame[1];
}

static int do_stack_overflow(int argc, char **argv)
{
	leak(36);
	return (int)overflow(NULL, 0);
}

static void exit_from_handler(int sig)
{
	static const char msg[] = "program's SIGTERM handler: _exit(9)\n";
	write(1, msg, sizeof(msg) - 1);
	_exit(9);
}

static int do_own_handler_exit(int argc, char **argv)
{
	signal(SIGTERM, exit_from_handler);
	leak(30);
	raise(SIGTERM);
	return 1;
}

static void reraise(int sig)
{
	static const char msg[] = "program's SIGTERM handler: back to SIG_DFL and raise\n";
	write(1, msg, sizeof(msg) - 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int do_handler_reraise(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = reraise };
	struct sigaction old;
	sigaction(SIGTERM, &sa, &old);
	printf("old action: %s\n", old.sa_handler == SIG_DFL ? "SIG_DFL" : "other");
	fflush(stdout);
	leak(31);
	raise(SIGTERM);
	return 1;
}

static int do_sigterm_ignored(int argc, char **argv)
{
	printf("previous: %s\n", signal(SIGTERM, SIG_IGN) == SIG_DFL ? "SIG_DFL" : "other");
	raise(SIGTERM);
	printf("SIGTERM ignored, still here\n");
	printf("previous: %s\n", signal(SIGTERM, SIG_DFL) == SIG_IGN ? "SIG_IGN" : "other");
	leak(32);
	return 0;
}

static void *kept_by_atexit;

static void allocate_at_exit(void)
{
	leak(33);
	kept_by_atexit = malloc(1000);
	printf("atexit handler allocated\n");
}

static int do_atexit_alloc(int argc, char **argv)
{
	atexit(allocate_at_exit);
	return 0;
}

static bool late_destructor_wanted;
static void *kept_by_destructor;

__attribute__((destructor)) static void late_destructor(void)
{
	if (!late_destructor_wanted)
		return;
	leak(34);
	kept_by_destructor = malloc(2000);
	static const char msg[] = "late destructor allocated\n";
	write(1, msg, sizeof(msg) - 1);
}

static int do_late_destructor(int argc, char **argv)
{
	late_destructor_wanted = true;
	return 0;
}

static void *blocked_reader(void *arg)
{
	int fds[2];
	char c;
	if (pipe(fds) == 0)
		read(fds[0], &c, 1);   /* never returns */
	return NULL;
}

static int do_exit_threads_running(int argc, char **argv)
{
	pthread_t t;
	leak(35);
	start_churn(3);
	pthread_create(&t, NULL, blocked_reader, NULL);
	usleep(20000);
	printf("exit while 4 threads run\n");
	exit(7);
}

static const struct scenario scenarios[] = {
	{ "_exit", do_exit_ },
	{ "_Exit", do_Exit },
	{ "quick_exit", do_quick_exit },
	{ "abort", do_abort },
	{ "sigterm", do_sigterm },
	{ "sigterm-threads", do_sigterm_threads },
	{ "segv", do_segv },
	{ "segv-corrupt-heap", do_segv_corrupt_heap },
	{ "segv-in-thread", do_segv_in_thread },
	{ "stack-overflow", do_stack_overflow },
	{ "own-handler-exit", do_own_handler_exit },
	{ "handler-reraise", do_handler_reraise },
	{ "sigterm-ignored", do_sigterm_ignored },
	{ "atexit-alloc", do_atexit_alloc },
	{ "late-destructor", do_late_destructor },
	{ "exit-threads-running", do_exit_threads_running },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return run_scenario(scenarios, argc, argv);
}
