/* dead-frame: a block whose only pointer is left in a stack frame that
 * has returned, in a thread that is alive (blocked) at exit. Stacks are
 * scanned from the stack pointer up, so the dead copy below it keeps
 * nothing alive.
 *
 * The worker calls deep_store(), whose 2 KiB local array holds the only
 * copy of a 72-byte block's address near its bottom (far below the
 * worker's stack pointer once deep_store returns, well past the 128-byte
 * red zone valgrind still treats as valid), then blocks in
 * pthread_cond_wait with a shallow stack.
 *   72 bytes definitely lost (malloc <- make_block <- deep_store <-
 *     worker <- start_thread)
 *   main keeps 16 bytes in a global: still reachable
 *   the worker's DTV: possibly lost (see root-thread-stack)
 * Heap: 3 allocs (with the DTV), 0 frees. */
#include <pthread.h>

#include "parity.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t never_cv = PTHREAD_COND_INITIALIZER;
static int ready;
void *g_kept;

EX_FRAME static void *make_block(size_t n)
{
	void *p = malloc(n);
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static int deep_store(void)
{
	void *volatile slots[256];
	for (int i = 0; i < 256; i++)
		slots[i] = NULL;
	slots[0] = make_block(72); /* LEAK: only copy in a dying frame */
	return slots[0] ? 0 : 1;
}

EX_FRAME static void *worker(void *arg)
{
	int r = deep_store();
	pthread_mutex_lock(&lock);
	ready = 1 + r;
	pthread_cond_signal(&ready_cv);
	for (;;)
		pthread_cond_wait(&never_cv, &lock);
	return arg;
}

int main(void)
{
	g_kept = make_block(16); /* reachable */
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0)
		return 1;
	pthread_mutex_lock(&lock);
	while (!ready)
		pthread_cond_wait(&ready_cv, &lock);
	int r = ready == 1 ? 0 : 1;
	pthread_mutex_unlock(&lock);
	return r;
}
