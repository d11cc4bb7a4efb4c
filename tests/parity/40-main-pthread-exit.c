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
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

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

/* True once the main thread has finished pthread_exit: it stays a zombie
 * task until the process ends. No allocation (snprintf of an int). */
static int main_thread_gone(void)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)getpid());
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')'); /* "tid (comm) S ..." */
	return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

EX_FRAME static void *worker(void *arg)
{
	void *result = make_block(88); /* reachable: the thread's result */
	g_keep = make_block(16);       /* reachable */
	void *dropped = make_block(40); /* LEAK */
	ex_use(dropped);
	pt_scrub_stack();
	/* The worker must be the last thread: wait (up to 10 s) until main
	 * has finished pthread_exit. */
	struct timespec ms = {0, 10000000};
	for (int i = 0; i < 1000 && !main_thread_gone(); i++)
		nanosleep(&ms, NULL);
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
