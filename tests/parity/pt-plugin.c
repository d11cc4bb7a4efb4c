/* pt-plugin: the shared module the dlopen scenarios load (dlopen-open,
 * dlopen-closed). Built twice, like the programs.
 *
 *   plugin_keep(n)   allocates n bytes and keeps them in the module's own
 *                    global: still reachable while the module is loaded,
 *                    definitely lost once it is unloaded (its data segment
 *                    is gone)
 *   plugin_leak(n)   allocates n bytes (calloc) and drops them
 *   plugin_run(k, l) calls both, two frames deep */
#include "parity.h"

void *plugin_kept;

long plugin_run(size_t keep, size_t leak);

EX_FRAME static void *plugin_keep(size_t n)
{
	void *p = malloc(n); /* kept in plugin_kept */
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static long plugin_leak(size_t n)
{
	char *p = calloc(1, n); /* LEAK */
	ex_use(p);
	return p ? (long)n : -1;
}

EX_FRAME long plugin_run(size_t keep, size_t leak)
{
	plugin_kept = plugin_keep(keep);
	long r = plugin_leak(leak);
	ex_use(&r);
	return plugin_kept ? r : -1;
}
