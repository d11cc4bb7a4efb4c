/* Shared by the hostile programs of tests/robust: each program holds a few
 * scenarios, chosen by name on the command line, and prints what it
 * observes (return values, errno names, alignments) so that any change of
 * behaviour under the tracer shows in its output. */
#ifndef ROBUST_H
#define ROBUST_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scenario {
	const char *name;
	int (*run)(int argc, char **argv);
};

/* An errno value by name, so that outputs read well. */
static inline const char *err_name(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : (e == 0 ? "0" : "?");
}

/* A block of exactly n bytes that nothing points to once this returns:
 * the figure each scenario expects in "definitely lost". */
__attribute__((noinline, unused)) static void leak(size_t n)
{
	volatile char *p = malloc(n);
	if (p)
		p[0] = 1;
	p = NULL;
}

static inline int run_scenario(const struct scenario *list, int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s SCENARIO [ARGS]\n", argv[0]);
		return 2;
	}
	for (const struct scenario *s = list; s->name; s++)
		if (strcmp(s->name, argv[1]) == 0)
			return s->run(argc, argv);
	fprintf(stderr, "%s: no scenario '%s'\n", argv[0], argv[1]);
	return 2;
}

#endif
