/* Threads: a storm of short-lived threads whose TLS destructors free what
 * they allocated, thread cancellation with cleanup handlers that free,
 * pthread_exit from main while another thread runs on, and threads with
 * the smallest stacks the system allows that allocate. */
#include "robust.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

static pthread_key_t key;
static __thread char *tls_buffer;

static void free_value(void *v)
{
	free(v);
}

static void *storm_thread(void *arg)
{
	pthread_setspecific(key, malloc(100 + (uintptr_t)arg % 50));
	tls_buffer = malloc(64);
	snprintf(tls_buffer, 64, "thread %lu", (unsigned long)(uintptr_t)arg);
	free(tls_buffer);
	return NULL;
}

static int do_tls_storm(int argc, char **argv)
{
	enum { BATCH = 50, ROUNDS = 8 };
	pthread_key_create(&key, free_value);
	for (int r = 0; r < ROUNDS; r++) {
		pthread_t t[BATCH];
		for (int i = 0; i < BATCH; i++)
			if (pthread_create(&t[i], NULL, storm_thread, (void *)(uintptr_t)(r * BATCH + i)))
				return 1;
		for (int i = 0; i < BATCH; i++)
			pthread_join(t[i], NULL);
	}
	/* Detached ones too: their ends are not waited for. */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < BATCH; i++) {
		pthread_t t;
		pthread_create(&t, &attr, storm_thread, (void *)(uintptr_t)i);
	}
	usleep(100000);
	printf("%d threads made and ended\n", BATCH * ROUNDS + BATCH);
	leak(61);
	return 0;
}

static void cleanup_free(void *p)
{
	free(p);
}

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void unlock_mutex(void *m)
{
	pthread_mutex_unlock(m);
}

static void *cancellable(void *arg)
{
	char *buf = malloc(500);
	pthread_cleanup_push(cleanup_free, buf);
	if ((uintptr_t)arg) {
		pthread_mutex_lock(&mutex);
		pthread_cleanup_push(unlock_mutex, &mutex);
		for (;;)
			pthread_cond_wait(&never, &mutex);
		pthread_cleanup_pop(1);
	} else {
		for (;;) {
			void *p = malloc(32);   /* allocation inside the cancellation loop */
			free(p);
			pthread_testcancel();
		}
	}
	pthread_cleanup_pop(1);
	return NULL;
}

static int do_cancel(int argc, char **argv)
{
	for (int round = 0; round < 20; round++) {
		pthread_t a, b;
		void *ra, *rb;
		pthread_create(&a, NULL, cancellable, (void *)1);
		pthread_create(&b, NULL, cancellable, (void *)0);
		usleep(1000);
		pthread_cancel(a);
		pthread_cancel(b);
		pthread_join(a, &ra);
		pthread_join(b, &rb);
		if (ra != PTHREAD_CANCELED || rb != PTHREAD_CANCELED)
			printf("round %d: not cancelled\n", round);
	}
	printf("20 rounds of 2 cancelled threads\n");
	leak(62);
	return 0;
}

static void *outlives_main(void *arg)
{
	usleep(30000);
	leak(63);
	printf("the last thread returns: the process exits 0\n");
	fflush(stdout);
	return NULL;
}

static int do_main_pthread_exit(int argc, char **argv)
{
	pthread_t t;
	pthread_create(&t, NULL, outlives_main, NULL);
	printf("main calls pthread_exit\n");
	fflush(stdout);
	pthread_exit(NULL);
}

static int depth_allocate(int depth)
{
	char *p = malloc(24);
	int r = depth ? depth_allocate(depth - 1) + 1 : 0;
	free(p);
	return r;
}

static void *small_stack_thread(void *arg)
{
	int got = depth_allocate(20);
	leak(8);
	return (void *)(intptr_t)got;
}

static int do_tiny_stacks(int argc, char **argv)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	int rc = pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
	printf("stack size PTHREAD_STACK_MIN (%d): %s\n", (int)PTHREAD_STACK_MIN, err_name(rc));
	for (int i = 0; i < 20; i++) {
		pthread_t t;
		void *r;
		rc = pthread_create(&t, &attr, small_stack_thread, NULL);
		if (rc) {
			printf("pthread_create: %s\n", err_name(rc));
			return 1;
		}
		pthread_join(t, &r);
		if ((intptr_t)r != 20)
			printf("thread %d: depth %ld\n", i, (long)(intptr_t)r);
	}
	printf("20 threads on minimal stacks\n");
	return 0;
}

static const struct scenario scenarios[] = {
	{ "tls-storm", do_tls_storm },
	{ "cancel", do_cancel },
	{ "main-pthread-exit", do_main_pthread_exit },
	{ "tiny-stacks", do_tiny_stacks },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return run_scenario(scenarios, argc, argv);
}
