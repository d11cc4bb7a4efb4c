/* The module robust-dlopen loads and unloads 1000 times: it allocates on
 * every call, frees on the next, and leaks once, on the call it is asked
 * to, so that the leak's frames lie in a module unloaded since. */
#include <stdlib.h>
#include <string.h>

static char *last;
/* Keeps the compiler from removing an allocation nothing reads. */
static char *volatile sink;

int plugin_work(int round, int leak_now);

__attribute__((visibility("default"))) int plugin_work(int round, int leak_now)
{
	free(last);
	last = NULL;
	char *p = malloc(32);
	memset(p, round & 0xff, 32);
	if (leak_now) {
		sink = p;
		sink = NULL;   /* the only pointer is dropped */
		return 1;
	}
	free(p);
	last = malloc(16);
	int r = (unsigned char)last[0] * 0 + round % 7;
	free(last);
	last = NULL;
	return r;
}
