/* Soak workload: THREADS threads allocate and free without pause for
 * SECONDS seconds, each keeping a ring of live blocks of varied sizes (the
 * oldest is freed as a new one comes), while leaktrace takes a report
 * every 100 ms (bench/soak.py). Each thread counts its own malloc and free
 * calls; at the end the program prints the totals, which the final
 * report's "total heap usage" must match (plus what the C library and the
 * thread start-up allocate, measured by a run with SECONDS = 0).
 *     soak SECONDS [THREADS]
 * Built with plain gcc by bench/soak.py. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 4096

struct worker {
	pthread_t thread;
	unsigned seed;
	unsigned long allocs, frees;
	void *ring[RING];
};

static atomic_bool stop;

static void *work(void *arg)
{
	struct worker *w = arg;
	size_t i = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		size_t slot = i++ % RING;
		if (w->ring[slot]) {
			free(w->ring[slot]);
			w->frees++;
		}
		size_t size = 16 + rand_r(&w->seed) % 2000;
		w->ring[slot] = malloc(size);
		w->allocs++;
		memset(w->ring[slot], (int)i, size < 64 ? size : 64);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 180;
	int threads = argc > 2 ? atoi(argv[2]) : 4;
	static struct worker workers[64];
	if (threads < 1 || threads > 64)
		return 2;
	for (int t = 0; t < threads; t++) {
		workers[t].seed = (unsigned)t + 1;
		pthread_create(&workers[t].thread, NULL, work, &workers[t]);
	}
	/* Wall-clock deadline: a report's signal handler may run on this
	 * thread, and nanosleep's remaining time leaves its duration out. */
	struct timespec now, end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)seconds;
	end.tv_nsec += (long)((seconds - (time_t)seconds) * 1e9);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	do {
		struct timespec nap = { 0, 10000000 };
		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	atomic_store(&stop, true);
	unsigned long allocs = 0, frees = 0;
	for (int t = 0; t < threads; t++) {
		pthread_join(workers[t].thread, NULL);
		allocs += workers[t].allocs;
		frees += workers[t].frees;
	}
	printf("soak: %lu allocs, %lu frees\n", allocs, frees);
	return 0;
}
