/* libc-allocators: blocks that libc functions allocate for the program:
 * strdup, strndup, asprintf, and getdelim on a memory stream. The records'
 * first frames are libc's; the program's own frames decide the match.
 *
 *   strdup("...", 23 chars): 24 bytes definitely lost
 *     (malloc <- strdup <- use_libc <- main)
 *   strndup(s, 5): 6 bytes definitely lost (malloc <- strndup <- ...)
 *   asprintf("%s-%d", "parity", 42): 10 bytes definitely lost (glibc
 *     builds the string in a buffer of its own and allocates the result;
 *     the HEAP SUMMARY counts every step in both tools)
 *   getline on fmemopen: the 120-byte line buffer getline mallocs is kept
 *     in a global: still reachable; the stream is closed (its FILE freed).
 * Exit status 0 when every call succeeds. */
#define _GNU_SOURCE
#include <stdio.h>

#include "parity.h"

char *g_line;

EX_FRAME static int use_libc(void)
{
	static char text[] = "alpha beta\ngamma\n";
	char *a = strdup("twenty-three characters"); /* LEAK */
	char *b = strndup(text, 5);                  /* LEAK */
	char *c = NULL;
	int n = asprintf(&c, "%s-%d", "parity", 42);  /* LEAK */
	ex_use(a);
	ex_use(b);
	ex_use(c);
	FILE *f = fmemopen(text, sizeof(text) - 1, "r");
	if (!a || !b || n < 0 || !f)
		return 1;
	size_t cap = 0;
	ssize_t len = getline(&g_line, &cap, f); /* reachable */
	fclose(f);
	return len == 11 ? 0 : 1;
}

int main(void)
{
	int r = use_libc();
	pt_scrub_stack();
	return r;
}
