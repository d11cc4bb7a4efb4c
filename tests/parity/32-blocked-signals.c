/* blocked-signals: threads that block every signal when the process
 * exits, so a tracer that stops threads with signals cannot pause them.
 *
 *   napper: blocks all signals, keeps 48 bytes in a local and sleeps in
 *     the kernel (nanosleep, 1000 s) 
 *   spinner: blocks all signals, keeps 80 bytes in a local and loops in
 *     user space on a volatile counter
 *   main: drops 32 bytes (definitely lost) and returns once both are ready
 *
 * leaktrace must not hang: it waits a bounded time for threads to pause,
 * then scans the stacks of those that did not, whole and conservatively
 * (their registers are unknown). The runner checks the traced run ends in
 * a few seconds, and the report's note naming 2 threads that could not be
 * paused. Both blocks are kept in stack memory (volatile locals), so the
 * conservative scan finds them, as valgrind does:
 *   48 bytes still reachable (malloc <- make_block <- napper)
 *   80 bytes still reachable (malloc <- make_block <- spinner)
 *   32 bytes definitely lost (malloc <- make_block <- main)
 *   two thread vectors (DTV): possibly lost (see root-thread-stack)
 * Heap: 5 allocs (with the DTVs), 0 frees. */
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "parity.h"

static volatile int ready;
static volatile unsigned long spins;

EX_FRAME static void *make_block(size_t n)
{
	void *p = malloc(n);
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

static void block_all_signals(void)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
}

EX_FRAME static void *napper(void *arg)
{
	block_all_signals();
	void *volatile held = make_block(48); /* still reachable */
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	struct timespec long_time = {1000, 0};
	for (;;)
		nanosleep(&long_time, NULL);
	ex_use(held);
	return arg;
}

EX_FRAME static void *spinner(void *arg)
{
	block_all_signals();
	void *volatile held = make_block(80); /* still reachable */
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	for (;;)
		spins++;
	ex_use(held);
	return arg;
}

EX_FRAME static int lose(void)
{
	void *p = make_block(32); /* LEAK */
	ex_use(p);
	return p ? 0 : 1;
}

int main(void)
{
	pthread_t a, b;
	if (pthread_create(&a, NULL, napper, NULL) != 0 ||
	    pthread_create(&b, NULL, spinner, NULL) != 0)
		return 1;
	int r = lose();
	pt_scrub_stack();
	struct timespec ms = {0, 1000000};
	while (ready < 2)
		nanosleep(&ms, NULL);
	return r;
}
