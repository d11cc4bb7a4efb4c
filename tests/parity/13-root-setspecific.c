/* root-setspecific: blocks kept only as pthread_setspecific values, of the
 * main thread and of a thread alive (blocked) at exit.
 *
 * 33 keys are created (none with a destructor). glibc keeps the values of
 * keys 0..31 inside the thread descriptor and, from key 32 on, in a
 * second-level array it callocs on first use (from pthread_setspecific).
 *
 *   main: key 0 -> 48-byte block, still reachable
 *     (malloc <- make_value <- main)
 *   worker: key 0 -> 80 bytes, key 32 -> 88 bytes: still reachable
 *     (malloc <- make_value <- worker <- start_thread, two lines); the
 *     88-byte one through glibc's second-level array, itself still
 *     reachable from the live descriptor (calloc <- pthread_setspecific
 *     <- worker)
 *   the worker's thread vector (DTV): possibly lost (see root-thread-stack)
 * Heap: 5 allocs, 0 frees. */
#include <pthread.h>

#include "parity.h"

#define NKEYS 33

static pthread_key_t keys[NKEYS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t never_cv = PTHREAD_COND_INITIALIZER;
static int ready;

EX_FRAME static void *make_value(size_t n)
{
	void *p = malloc(n); /* still reachable: a thread-specific value */
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static void *worker(void *arg)
{
	int r = pthread_setspecific(keys[0], make_value(80));
	r |= pthread_setspecific(keys[NKEYS - 1], make_value(88));
	pt_scrub_stack();
	pthread_mutex_lock(&lock);
	ready = r == 0 && pthread_getspecific(keys[NKEYS - 1]) ? 1 : 2;
	pthread_cond_signal(&ready_cv);
	for (;;)
		pthread_cond_wait(&never_cv, &lock);
	return arg;
}

int main(void)
{
	for (int i = 0; i < NKEYS; i++)
		if (pthread_key_create(&keys[i], NULL) != 0)
			return 1;
	if (pthread_setspecific(keys[0], make_value(48)) != 0)
		return 1;
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0)
		return 1;
	pt_scrub_stack();
	pthread_mutex_lock(&lock);
	while (!ready)
		pthread_cond_wait(&ready_cv, &lock);
	int r = ready == 1 ? 0 : 1;
	pthread_mutex_unlock(&lock);
	return r;
}
