/* exited-thread: blocks of a thread that has already exited (joined) when
 * the process exits, kept only in that thread's own storage.
 *
 *   t_cache (__thread) -> 48 bytes: the thread is gone; its TLS lies in
 *     its cached stack, which is not a live root. valgrind (with its
 *     default __libc_freeres, which unmaps the stack cache) reports
 *     definitely lost; so does leaktrace (dead threads' stacks are not
 *     roots). (malloc <- make_block <- worker <- start_thread)
 *   pthread_setspecific(key, 56 bytes), key without destructor: glibc
 *     clears the value at thread exit: definitely lost (second line)
 *   a 64-byte block dropped by the thread: definitely lost (third line)
 *   a 32-byte result the thread returns, which main keeps in a global:
 *     still reachable (fourth line)
 * The dead thread's vector (DTV) is glibc's: valgrind frees it at exit
 * (__libc_freeres; without that it calls it possibly lost), and leaktrace
 * keeps it, on purpose, as still reachable (libc's bookkeeping, not the
 * program's leak): listed as explained.
 * Heap: 5 allocs (with the DTV), 0 frees. */
#include <pthread.h>

#include "parity.h"

static __thread void *t_cache;
static pthread_key_t key;
void *g_result;

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
	t_cache = make_block(48);                    /* LEAK: dead TLS */
	int r = pthread_setspecific(key, make_block(56)); /* LEAK */
	void *dropped = make_block(64);              /* LEAK */
	ex_use(dropped);
	void *result = make_block(32);               /* reachable: g_result */
	ex_use(result);
	pt_scrub_stack();
	return r == 0 && t_cache ? result : arg;
}

int main(void)
{
	pthread_t t;
	if (pthread_key_create(&key, NULL) != 0)
		return 1;
	if (pthread_create(&t, NULL, worker, NULL) != 0)
		return 1;
	if (pthread_join(t, &g_result) != 0)
		return 1;
	pt_scrub_stack();
	return g_result ? 0 : 1;
}
