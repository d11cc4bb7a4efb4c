/* deep-helper: a direct leak made four calls below main.
 *
 *   main -> run_job -> parse_config -> load_section -> make_buffer -> malloc
 *
 * run_job runs twice; each time load_section keeps a 24-byte scratch block
 * (freed again) and the 48-byte buffer from make_buffer, whose address is
 * then dropped on the way back up.
 *
 * Expected: 96 bytes in 2 blocks, definitely lost, in one loss record
 * (two of 48 bytes at -O2, where gcc unrolls main's loop: the two calls of
 * run_job then return to different addresses of the same line):
 *     at malloc
 *     by make_buffer   (line marked LEAK)
 *     by load_section
 *     by parse_config
 *     by run_job
 *     by main
 * Heap: 4 allocs, 2 frees, 144 bytes allocated. No stdio, so no libc
 * buffers: leaktrace and valgrind must agree exactly. */
#include <stdlib.h>
#include <string.h>

#include "example.h"

EX_FRAME static char *make_buffer(size_t n)
{
	char *p = malloc(n); /* LEAK: 48 bytes, twice */
	ex_use(p);
	if (p) {
		memset(p, 'x', n - 1);
		p[n - 1] = '\0';
	}
	return p;
}

EX_FRAME static size_t load_section(int id)
{
	char *scratch = malloc(24); /* freed below */
	ex_use(scratch);
	char *buf = make_buffer(48);
	ex_use(buf);
	size_t len = buf ? strlen(buf) : 0;
	free(scratch);
	return len + (size_t)id; /* buf's address is lost here */
}

EX_FRAME static size_t parse_config(int id)
{
	size_t r = load_section(id);
	ex_use(&r);
	return r;
}

EX_FRAME static size_t run_job(int id)
{
	size_t r = parse_config(id);
	ex_use(&r);
	return r;
}

int main(void)
{
	size_t total = 0;
	for (int i = 0; i < 2; i++)
		total += run_job(i);
	return total == 2 * 47 + 1 ? 0 : 1;
}
