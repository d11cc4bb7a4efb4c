/* How long a report on demand pauses the program, seen from inside it.
 * The program allocates BLOCKS live blocks of SIZE bytes (default 1M
 * blocks of 1 KiB: a 1 GiB heap), starts a thread that spins on
 * clock_gettime and notes every gap of more than 100 us, then asks for
 * REPORTS reports on demand (SIGUSR2 to itself, handled on the main
 * thread, so kill returns when the program has been let go), a few
 * seconds apart so each reporter has finished before the next pause.
 * For each report it prints the time kill took (the asking thread's
 * pause) and the longest gap of the spinning thread inside that window
 * (another thread's pause), in milliseconds.
 *     pause [BLOCKS [SIZE [REPORTS [SECONDS_BETWEEN]]]]
 *     pause BLOCKS SIZE fork      (a plain fork of that heap, timed)
 * Run by bench/pause.py under leaktrace. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define GAPS 65536

struct gap {
	double start, end;
};

static struct gap gaps[GAPS];
static atomic_uint ngaps;
static atomic_bool stop;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *spin(void *arg)
{
	/* The report signal goes to the main thread, not here. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	double last = now_ms();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		double t = now_ms();
		if (t - last > 0.1) {
			unsigned i = atomic_load(&ngaps);
			if (i < GAPS) {
				gaps[i] = (struct gap){ last, t };
				atomic_store(&ngaps, i + 1);
			}
		}
		last = t;
	}
	return arg;
}

/* The longest gap of the spinning thread that overlaps [from, to]. */
static double longest_gap(double from, double to)
{
	double best = 0;
	unsigned n = atomic_load(&ngaps);
	for (unsigned i = 0; i < n; i++)
		if (gaps[i].end >= from && gaps[i].start <= to &&
		    gaps[i].end - gaps[i].start > best)
			best = gaps[i].end - gaps[i].start;
	return best;
}

int main(int argc, char **argv)
{
	long blocks = argc > 1 ? atol(argv[1]) : 1L << 20;
	long size = argc > 2 ? atol(argv[2]) : 1024;
	int reports = argc > 3 ? atoi(argv[3]) : 5;
	double between = argc > 4 ? atof(argv[4]) : 4;
	void **live = malloc(blocks * sizeof(*live));
	for (long i = 0; i < blocks; i++) {
		live[i] = malloc(size);
		memset(live[i], 0, size);   /* resident, as a real heap is */
	}
	/* "fork": the floor of any fork-based report, a plain fork of this
	 * heap (no leaktrace needed), three times. */
	if (argc > 3 && strcmp(argv[3], "fork") == 0) {
		for (int r = 0; r < 3; r++) {
			double t0 = now_ms();
			pid_t c = fork();
			if (c == 0)
				_exit(0);
			double t1 = now_ms();
			waitpid(c, NULL, 0);
			printf("fork %.1f ms\n", t1 - t0);
		}
		return 0;
	}
	pthread_t t;
	pthread_create(&t, NULL, spin, NULL);
	usleep(200000);
	for (int r = 1; r <= reports; r++) {
		double t0 = now_ms();
		kill(getpid(), SIGUSR2);
		double t1 = now_ms();
		usleep(20000);
		printf("report %d: asking thread paused %.1f ms, other thread %.1f ms\n", r,
		       t1 - t0, longest_gap(t0, t1));
		fflush(stdout);
		usleep((useconds_t)(between * 1e6));
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	return 0;
}
