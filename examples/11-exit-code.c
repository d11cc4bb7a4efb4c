/* exit-code: a program whose exit status, standard output and standard
 * error the tracer must leave alone.
 *
 * Writes "exit-code: main started" first (with write(2), before any
 * allocation, so a test can tell whether main ran), prints three lines with
 * printf, leaks one 20-byte block, and exits with status 3.
 *
 *   exit-code --close-stderr         closes file descriptor 2 before exit:
 *                                    the report must still reach the user
 *                                    (the tracer keeps its own duplicate).
 *   exit-code --close-stderr FILE    then opens FILE, which gets descriptor
 *                                    2, and writes one line to it: the
 *                                    report must not land in FILE.
 *
 * Expected: 20 bytes in 1 blocks, definitely lost, at malloc <- remember
 * <- main; plus printf's stdout buffer (freed only under valgrind). */
#include <fcntl.h>
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

static int write_str(int fd, const char *s)
{
	size_t n = strlen(s);
	return write(fd, s, n) == (ssize_t)n ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (write_str(1, "exit-code: main started\n") != 0)
		return 1;
	int close_stderr = argc > 1 && strcmp(argv[1], "--close-stderr") == 0;
	for (int i = 1; i <= 3; i++)
		printf("line %d of 3\n", i);
	char *p = remember("forgotten");
	ex_use(p);
	if (close_stderr) {
		close(2);
		if (argc > 2) {
			int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd != 2 || write_str(fd, "exit-code: program data\n") != 0)
				return 1;
			/* Left open: whatever else writes to fd 2 lands here. */
		}
	}
	return 3;
}
