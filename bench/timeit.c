/* timeit: runs a command and reports its wall time and peak RSS.
 *
 *     timeit RESULT_FILE [NAME=VALUE]... -- PROGRAM [ARG]...
 *
 * writes "pid PID" as soon as PROGRAM is started, then "wall_ns maxrss_kb
 * status" when it ends, to RESULT_FILE, where status is the wait status of
 * PROGRAM; exits 0 (1 if PROGRAM could not be run).
 * The NAME=VALUE pairs are set in PROGRAM's environment only, so that
 * LD_PRELOAD and the like apply to the program and not to timeit.
 *
 * Why not time the program from the Python harness directly: a child's
 * peak RSS (ru_maxrss) includes the RSS of the process it was forked from,
 * up to its exec, so every run forked from Python would start at Python's
 * ~20 MiB. Forked from this small program, the floor is about 1 MiB, and
 * the wall time excludes Python's own fork. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int prog = 2;
	while (prog < argc && strcmp(argv[prog], "--") != 0)
		prog++;
	if (prog + 1 >= argc) {
		fprintf(stderr, "usage: timeit RESULT_FILE [NAME=VALUE]... -- PROGRAM [ARG]...\n");
		return 1;
	}
	FILE *out = fopen(argv[1], "we");
	if (!out) {
		perror(argv[1]);
		return 1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		for (int i = 2; i < prog; i++)
			putenv(argv[i]);
		execvp(argv[prog + 1], argv + prog + 1);
		fprintf(stderr, "timeit: cannot run %s: %m\n", argv[prog + 1]);
		_exit(127);
	}
	fprintf(out, "pid %d\n", (int)pid);
	fflush(out);
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("wait4");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	fprintf(out, "%lld %ld %d\n", ns, ru.ru_maxrss, status);
	return fclose(out) == 0 ? 0 : 1;
}
