/* exit-from-thread: exit() called from a thread other than main, while
 * other threads run: one blocked in a condition variable, one busy
 * computing, and main waiting in pthread_join.
 *
 *   sleeper: keeps 88 bytes in a local, blocks on a condition variable:
 *     still reachable (malloc <- make_block <- sleeper <- start_thread)
 *   busy: keeps 120 bytes in a local, loops on a volatile counter:
 *     still reachable (malloc <- make_block <- busy <- start_thread)
 *   quitter: keeps 64 bytes in a local (live frame when it exits: still
 *     reachable), drops 40 bytes (definitely lost), then calls exit(0)
 *     once the other two are running
 *   main: keeps 24 bytes in a local, waits in pthread_join(quitter):
 *     still reachable (malloc <- make_block <- main)
 *   three thread vectors (DTV): possibly lost, as valgrind says (the live
 *     descriptor points 16 bytes into each)
 * Exit status 0; main never returns. */
#include <pthread.h>
#include <time.h>

#include "parity.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int started;
static volatile unsigned long spins;

EX_FRAME static void *make_block(size_t n)
{
	void *p = malloc(n);
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static void *sleeper(void *arg)
{
	void *volatile held = make_block(88); /* still reachable */
	pthread_mutex_lock(&lock);
	started++;
	pthread_cond_broadcast(&cv);
	for (;;) /* nobody wakes it */
		pthread_cond_wait(&cv, &lock);
	ex_use(held);
	return arg;
}

EX_FRAME static void *busy(void *arg)
{
	void *volatile held = make_block(120); /* still reachable */
	pthread_mutex_lock(&lock);
	started++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&lock);
	for (;;) {
		spins++;
		if ((spins & 0xfff) == 0)
			sched_yield();
	}
	ex_use(held);
	return arg;
}

EX_FRAME static void *quitter(void *arg)
{
	void *volatile held = make_block(64); /* still reachable */
	void *dropped = make_block(40);       /* LEAK */
	ex_use(dropped);
	dropped = NULL;
	pt_scrub_stack();
	pthread_mutex_lock(&lock);
	while (started < 2)
		pthread_cond_wait(&cv, &lock);
	pthread_mutex_unlock(&lock);
	exit(held ? 0 : 1);
	return arg;
}

int main(void)
{
	void *volatile mine = make_block(24); /* still reachable */
	pthread_t s, b, q;
	if (pthread_create(&s, NULL, sleeper, NULL) != 0 ||
	    pthread_create(&b, NULL, busy, NULL) != 0 ||
	    pthread_create(&q, NULL, quitter, NULL) != 0)
		return 1;
	pthread_join(q, NULL);
	return mine ? 2 : 3; /* not reached: quitter exits */
}
