/* root-dynamic-tls: blocks kept only in the dynamic TLS of a dlopen'ed
 * module (tests/parity/pt-tlsplugin.c, path in argv[1]), by the main
 * thread and by a thread alive (blocked) at exit.
 *
 * Each thread's block of the module's TLS is malloc'ed by glibc (8 bytes,
 * allocate_dtv_entry <- __tls_get_addr <- tls_keep) and pointed to from
 * the thread's DTV.
 *   main: the DTV glibc made for the main thread at start-up is outside
 *     the heap, so main's 8-byte TLS block and the 48 bytes it holds are
 *     still reachable (tls_make <- tls_keep <- main)
 *   worker: its DTV is a heap block that the live descriptor points 16
 *     bytes into (possibly lost, see root-thread-stack), so its 8-byte TLS
 *     block and the 80 bytes it holds are reached only through a possibly
 *     lost block: possibly lost (tls_make <- tls_keep <- worker)
 * dlopen's own blocks are still reachable (some freed by valgrind's exit
 * clean-up: listed as explained). */
#include <dlfcn.h>
#include <pthread.h>

#include "parity.h"

typedef int (*keep_fn)(size_t);

static keep_fn keep;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t never_cv = PTHREAD_COND_INITIALIZER;
static int ready;

EX_FRAME static void *worker(void *arg)
{
	int r = keep(80); /* possibly lost: through the worker's DTV */
	pt_scrub_stack();
	pthread_mutex_lock(&lock);
	ready = 1 + r;
	pthread_cond_signal(&ready_cv);
	for (;;)
		pthread_cond_wait(&never_cv, &lock);
	return arg;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	void *handle = dlopen(argv[1], RTLD_NOW);
	if (!handle)
		return 3;
	keep = (keep_fn)dlsym(handle, "tls_keep");
	if (!keep || keep(48) != 0) /* still reachable: main's TLS */
		return 4;
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
