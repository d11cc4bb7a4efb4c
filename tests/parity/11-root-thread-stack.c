/* root-thread-stack: a block kept only in the stack of another thread that
 * is still alive, blocked in pthread_cond_wait, when main returns.
 *
 * The holder thread keeps a 96-byte block in a local (make_held), drops a
 * 40-byte block (lose_in_thread), scrubs its dead stack, tells main it is
 * ready and waits on a condition variable that is never signalled. main
 * then returns 0: exit() runs with the holder still blocked.
 *
 * Expected:
 *   96 bytes in 1 blocks still reachable
 *     (malloc <- make_held <- holder <- start_thread)
 *   40 bytes in 1 blocks definitely lost
 *     (malloc <- lose_in_thread <- holder <- start_thread)
 *   the holder's thread vector (DTV: calloc in ld.so's allocate_dtv, from
 *     pthread_create <- main): possibly lost, in both tools: the live
 *     thread's descriptor points 16 bytes into it (glibc keeps dtv + 1).
 * Heap: 3 allocs (with the DTV), 0 frees. */
#include <pthread.h>

#include "parity.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t never_cv = PTHREAD_COND_INITIALIZER;
static int ready;

EX_FRAME static void *make_held(void)
{
	void *p = malloc(96); /* still reachable: the holder's stack */
	ex_use(p);
	if (p)
		memset(p, 0, 96);
	return p;
}

EX_FRAME static int lose_in_thread(void)
{
	void *p = malloc(40); /* LEAK */
	ex_use(p);
	return p ? 0 : 1;
}

EX_FRAME static void *holder(void *arg)
{
	void *volatile held = make_held();
	int r = lose_in_thread();
	pt_scrub_stack();
	pthread_mutex_lock(&lock);
	ready = 1 + r;
	pthread_cond_signal(&ready_cv);
	for (;;) /* never signalled: blocked when the process exits */
		pthread_cond_wait(&never_cv, &lock);
	ex_use(held);
	return arg;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, holder, NULL) != 0)
		return 1;
	pthread_mutex_lock(&lock);
	while (!ready)
		pthread_cond_wait(&ready_cv, &lock);
	int r = ready == 1 ? 0 : 1;
	pthread_mutex_unlock(&lock);
	return r;
}
