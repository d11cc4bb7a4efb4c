/* exit-code: a program whose exit status, standard output and standard
 * error the tracer must leave alone.
 *
 * Writes "exit-code: main started" first (with write(2), before any
 * allocation, so a test can tell whether main ran), prints three lines with
 * printf, leaks one 20-byte block, and exits with status 3.
 * With the argument --close-stderr it closes file descriptor 2 first: the
 * report must still reach the user (leaktrace keeps its own duplicate).
 *
 * Expected: 20 bytes in 1 blocks, definitely lost, at malloc <- remember
 * <- main; plus printf's stdout buffer (freed only under valgrind). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "example.h"

EX_FRAME static char *remember(const char *what)
{
	char *p = malloc(20); /* LEAK: 20 bytes */
	ex_use(p);
	if (p)
		snprintf(p, 20, "%s", what);
	return p;
}

int main(int argc, char **argv)
{
	static const char hello[] = "exit-code: main started\n";
	if (write(1, hello, sizeof(hello) - 1) < 0)
		return 1;
	int close_stderr = argc > 1 && strcmp(argv[1], "--close-stderr") == 0;
	for (int i = 1; i <= 3; i++)
		printf("line %d of 3\n", i);
	char *p = remember("forgotten");
	ex_use(p);
	if (close_stderr)
		close(2);
	return 3;
}
