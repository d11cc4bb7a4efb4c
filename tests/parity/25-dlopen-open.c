/* dlopen-open: leaks inside a module loaded with dlopen and still loaded
 * at exit. The module's path is argv[1] (tests/parity/pt-plugin.c).
 *
 *   plugin_run(144, 56):
 *     144 bytes still reachable, kept in the module's global
 *       (malloc <- plugin_keep <- plugin_run <- call_plugin <- main)
 *     56 bytes definitely lost
 *       (calloc <- plugin_leak <- plugin_run <- call_plugin <- main)
 * dlopen itself allocates in ld.so (link map, names, scope arrays, ...):
 * still reachable from ld.so's data. Those stacks are deeper than the 12
 * frames kept, so they have no frame of the program: they are compared as
 * one group per allocation function. Some of them only valgrind's exit
 * clean-up frees: listed as explained.
 * Exit status 0 when the module loads and runs. */
#include <dlfcn.h>

#include "parity.h"

typedef long (*run_fn)(size_t, size_t);

EX_FRAME static long call_plugin(void *handle)
{
	run_fn run = (run_fn)dlsym(handle, "plugin_run");
	if (!run)
		return -1;
	long r = run(144, 56);
	ex_use(&r);
	return r;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	void *handle = dlopen(argv[1], RTLD_NOW);
	if (!handle)
		return 3;
	long r = call_plugin(handle);
	pt_scrub_stack();
	return r == 56 ? 0 : 1; /* the module stays loaded */
}
