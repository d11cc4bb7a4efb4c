/* leakplugin: the shared module that dlopen-leak loads, leaks in, and
 * unloads. Its frames must still resolve in a report written after its
 * dlclose (valgrind needs --keep-debuginfo=yes for that).
 *
 * plugin_run(n) keeps a cache of n bytes in a static variable of this
 * module (reachable while loaded; once dlclose unmaps the module nothing
 * points to it) and leaks a 32-byte note outright. */
#include <stdlib.h>
#include <string.h>

#include "example.h"

int plugin_run(int n);

static char *cache;

EX_FRAME static char *plugin_make_cache(size_t n)
{
	char *p = malloc(n); /* LEAK: n bytes, lost after dlclose */
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static void plugin_note(void)
{
	char *note = calloc(1, 32); /* LEAK: 32 bytes */
	ex_use(note);
}

__attribute__((visibility("default"))) EX_FRAME int plugin_run(int n)
{
	cache = plugin_make_cache((size_t)n);
	plugin_note();
	ex_use(cache);
	return cache ? 0 : -1;
}
