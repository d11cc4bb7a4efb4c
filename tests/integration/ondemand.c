/* A small service for the report-on-demand tests: it leaks one 100-byte
 * block every 10 ms for about RUN_MS milliseconds, while a worker thread
 * allocates and frees without pause. With "own-handler" it installs its
 * own SIGUSR2 handler and raises the signal: the handler must run. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void *volatile sink;
static volatile int stop;
static volatile sig_atomic_t handled;

static void *churn(void *arg)
{
	while (!stop) {
		void *p = malloc(64);
		memset(p, 1, 64);
		free(p);
	}
	return arg;
}

static void on_usr2(int sig)
{
	handled = sig;
}

int main(int argc, char **argv)
{
	long run_ms = argc > 1 ? atol(argv[1]) : 1500;
	if (argc > 2 && strcmp(argv[2], "own-handler") == 0) {
		signal(SIGUSR2, on_usr2);
		raise(SIGUSR2);
		printf("own handler ran: %s\n", handled == SIGUSR2 ? "yes" : "no");
		return 0;
	}
	pthread_t t;
	pthread_create(&t, NULL, churn, NULL);
	/* Runs for run_ms of wall time, not a count of sleeps: on a loaded
	 * machine the sleeps overrun and the interval timer would fire once
	 * more than the test expects. */
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		sink = malloc(100);   /* each overwrites the last: lost */
		usleep(10000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < run_ms);
	stop = 1;
	pthread_join(t, NULL);
	printf("done\n");
	return 4;
}
