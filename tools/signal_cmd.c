/* `leaktrace signal PID`: asks a running traced program for a report, with
 * the report signal it was started with. It checks first that the process
 * has libleaktrace.so loaded: the same signal would end an untraced one.
 * Context: the leaktrace command. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static bool traced(pid_t pid)
{
	char path[64], line[4096];
	bool found = false;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "/libleaktrace.so") != NULL;
	fclose(f);
	return found;
}

/* The report signal in the options the process started with (its initial
 * environment, as /proc shows it). */
static unsigned report_signal_of(pid_t pid)
{
	char path[64];
	struct lt_options o;
	lt_options_defaults(&o);
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return o.report_signal;
	char *entry = NULL;
	size_t cap = 0;
	while (getdelim(&entry, &cap, '\0', f) > 0) {
		if (strncmp(entry, "LEAKTRACE_OPTIONS=", 18) == 0) {
			char err[256];
			lt_options_parse_list(&o, entry + 18, err, sizeof(err));
		}
	}
	free(entry);
	fclose(f);
	return o.report_signal;
}

int lt_signal_main(int argc, char **argv)
{
	char *end;
	if (argc != 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(argc == 2 ? stdout : stderr,
			"usage: leaktrace signal PID\n"
			"Asks the traced program PID for a report now (the report signal it was\n"
			"started with, SIGUSR2 by default); it goes on running.\n");
		return argc == 2 ? 0 : LT_EXIT_USAGE;
	}
	long pid = strtol(argv[1], &end, 10);
	if (*end || pid <= 0) {
		fprintf(stderr, "leaktrace: signal: '%s' is not a process id\n", argv[1]);
		return LT_EXIT_USAGE;
	}
	if (!traced((pid_t)pid)) {
		fprintf(stderr, "leaktrace: process %ld is not traced by leaktrace (no "
			"libleaktrace.so in it): no signal sent\n", pid);
		return 1;
	}
	unsigned sig = report_signal_of((pid_t)pid);
	if (!sig) {
		fprintf(stderr, "leaktrace: process %ld runs with report_signal=0: reports on "
			"demand are off in it\n", pid);
		return 1;
	}
	if (kill((pid_t)pid, (int)sig) != 0) {
		fprintf(stderr, "leaktrace: cannot signal process %ld: %s\n", pid, strerror(errno));
		return 1;
	}
	fprintf(stderr, "leaktrace: asked process %ld for a report (signal %u)\n", pid, sig);
	return 0;
}
