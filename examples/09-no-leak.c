/* no-leak: allocates with every allocator and frees everything.
 *
 * Expected: "in use at exit: 0 bytes in 0 blocks", no loss record.
 * Writes its one line with write(2), not stdio, so that libc keeps no
 * buffer of its own either. Heap: 7 allocs, 7 frees (realloc counts as
 * one of each), 32 + 40 + 80 + 64 + 128 + 16 + 35 = 395 bytes allocated. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "example.h"

EX_FRAME static int churn(void)
{
	char *a = malloc(32);
	char *b = calloc(5, 8);
	ex_use(a);
	ex_use(b);
	a = realloc(a, 80);
	ex_use(a);
	void *c = NULL;
	int r = posix_memalign(&c, 64, 64);
	void *d = aligned_alloc(64, 128);
	void *e = memalign(16, 16);
	char *f = strdup("not leaked, not leaked, not leaked");
	ex_use(c);
	ex_use(d);
	ex_use(e);
	ex_use(f);
	int ok = a && b && r == 0 && c && d && e && f;
	free(f);
	free(e);
	free(d);
	free(c);
	free(b);
	free(a);
	return ok;
}

int main(void)
{
	static const char msg[] = "no-leak: every block freed\n";
	int ok = churn();
	if (write(1, msg, sizeof(msg) - 1) < 0)
		return 1;
	return ok ? 0 : 1;
}
