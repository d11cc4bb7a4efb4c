/* thread-exit: exit() called from a thread other than main while main
 * waits in pthread_join. The report must still be written, once.
 *
 * main allocates a 128-byte state block (its pointer stays in main's
 * stack, which is still live at exit) and starts a worker. The worker
 * stores a 56-byte result in a global, leaks a 72-byte block outright,
 * and calls exit(0).
 *
 * Expected loss records:
 *   128 bytes, malloc <- main                       still reachable
 *   56 bytes,  malloc <- make_result <- worker      still reachable
 *   72 bytes,  malloc <- make_garbage <- worker     definitely lost
 * plus the TLS vector glibc callocs for the new thread (see thread-leak).
 * Exit status 0; main never returns. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "example.h"

void *g_result;

EX_FRAME static void *make_result(void)
{
	void *p = malloc(56); /* reachable through g_result */
	ex_use(p);
	return p;
}

EX_FRAME static void make_garbage(void)
{
	char *p = malloc(72); /* LEAK: 72 bytes */
	ex_use(p);
	if (p)
		memset(p, 0, 72);
}

EX_FRAME static void *worker(void *state)
{
	g_result = make_result();
	make_garbage();
	ex_use(state);
	exit(0);
}

int main(void)
{
	char *state = malloc(128); /* reachable: main's frame is live */
	ex_use(state);
	pthread_t t;
	if (!state || pthread_create(&t, NULL, worker, state) != 0)
		return 2;
	pthread_join(t, NULL);
	/* Not reached: the worker exits the process. */
	ex_use(state);
	return 1;
}
