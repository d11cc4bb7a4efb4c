/* main-pthread-exit: main leaves with pthread_exit while a worker runs;
 * the process ends when the worker, the last thread, returns (glibc then
 * calls exit(0)). main's stack is unwound by pthread_exit, so its locals
 * are dead; main's TLS stays.
 *
 *   main: a 120-byte block in a local: definitely lost (its frame is
 *     gone); a 64-byte block in its __thread t_main: still reachable
 *   worker: returns a 88-byte block (kept as the thread's result, in its
 *     descriptor: still reachable), keeps 16 bytes in a global (still
 *     reachable), drops 40 bytes (definitely lost)
 *   the worker's DTV: possibly lost (see root-thread-stack)
 * pthread_exit loads libgcc_s with dlopen to unwind main's stack; what
 * that allocates valgrind frees at exit (__libc_freeres): listed as
 * explained.
 * Exit status 0. */
#include <pthread.h>
#include <time.h>

#include "parity.h"

/* Not static: a static __thread that nothing reads is optimised away. */
__thread void *t_main;
void *g_keep;

EX_FRAME static void *make_block(size_t n)
{
	void *p = malloc(n);
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static void *worker(void *arg)
{
	void *result = make_block(88); /* reachable: the thread's result */
	g_keep = make_block(16);       /* reachable */
	void *dropped = make_block(40); /* LEAK */
	ex_use(dropped);
	pt_scrub_stack();
	struct timespec ms = {0, 20000000};
	nanosleep(&ms, NULL); /* let main finish pthread_exit first */
	return arg ? arg : result;
}

int main(void)
{
	void *volatile in_main = make_block(120); /* LEAK: main's frame dies */
	t_main = make_block(64);                  /* reachable: main's TLS */
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0)
		return 1;
	ex_use(in_main);
	pthread_exit(NULL);
}
