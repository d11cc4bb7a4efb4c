/* root-tls: blocks kept only in __thread variables: the main thread's, and
 * those of another thread that is alive (blocked) at exit.
 *
 *   main sets its t_slot to a 72-byte block (main's static TLS is set up
 *     by ld.so, outside the heap): still reachable,
 *     malloc <- make_tls_block <- main
 *   the worker sets its t_slot to a 112-byte block and its t_list to the
 *     head of a 2-node chain (32 bytes each): still reachable,
 *     malloc <- make_tls_block <- worker <- start_thread (112 bytes),
 *     malloc <- make_node <- worker <- start_thread (64 bytes in 2 blocks,
 *     two records: worker calls make_node from two lines)
 *   the worker's thread vector (DTV): possibly lost (see root-thread-stack)
 * The worker then blocks in pthread_cond_wait; main returns.
 * Heap: 5 allocs (with the DTV), 0 frees. */
#include <pthread.h>

#include "parity.h"

struct tnode {
	struct tnode *next;
	long v[3];
};

static __thread void *t_slot;
static __thread struct tnode *t_list;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t never_cv = PTHREAD_COND_INITIALIZER;
static int ready;

EX_FRAME static void *make_tls_block(size_t n)
{
	void *p = malloc(n); /* still reachable: a __thread variable */
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static struct tnode *make_node(struct tnode *next)
{
	struct tnode *n = malloc(sizeof(*n)); /* still reachable: chain */
	ex_use(n);
	if (n) {
		memset(n, 0, sizeof(*n));
		n->next = next;
	}
	return n;
}

EX_FRAME static void *worker(void *arg)
{
	t_slot = make_tls_block(112);
	t_list = make_node(NULL);
	t_list = make_node(t_list);
	ex_use(t_list);
	pt_scrub_stack();
	pthread_mutex_lock(&lock);
	ready = t_slot && t_list ? 1 : 2;
	pthread_cond_signal(&ready_cv);
	for (;;)
		pthread_cond_wait(&never_cv, &lock);
	return arg;
}

int main(void)
{
	t_slot = make_tls_block(72);
	ex_use(t_slot);
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0)
		return 1;
	pt_scrub_stack();
	pthread_mutex_lock(&lock);
	while (!ready)
		pthread_cond_wait(&ready_cv, &lock);
	int r = ready == 1 && t_slot ? 0 : 1;
	pthread_mutex_unlock(&lock);
	return r;
}
