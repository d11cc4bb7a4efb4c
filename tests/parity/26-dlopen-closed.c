/* dlopen-closed: leaks inside a module that is dlclosed before exit. The
 * module's path is argv[1] (tests/parity/pt-plugin.c).
 *
 *   plugin_run(144, 56), then dlclose:
 *     144 bytes definitely lost: the module's global that held them is
 *       unmapped with the module
 *       (malloc <- plugin_keep <- plugin_run <- call_plugin <- main)
 *     56 bytes definitely lost
 *       (calloc <- plugin_leak <- plugin_run <- call_plugin <- main)
 * The frames inside the unloaded module must still be named (valgrind
 * needs --keep-debuginfo=yes for that; the runner passes it).
 * What dlopen allocates and dlclose does not give back is freed at exit
 * only under valgrind (__libc_freeres): listed as explained.
 * Exit status 0 when the module loads, runs and unloads. */
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
	if (dlclose(handle) != 0)
		return 4;
	pt_scrub_stack();
	return r == 56 ? 0 : 1;
}
