/* dlopen-leak: a leak inside a shared library that is dlclosed before exit.
 *
 * Loads the leakplugin module (path in argv[1], else the LEAKPLUGIN file
 * next to this executable, found through /proc/self/exe), calls
 * plugin_run(200) and unloads the module again.
 *
 * Expected (frames inside the unloaded module must still be named):
 *   200 bytes in 1 blocks, definitely lost:
 *     malloc <- plugin_make_cache <- plugin_run <- call_plugin <- main
 *   32 bytes in 1 blocks, definitely lost:
 *     calloc <- plugin_note <- plugin_run <- call_plugin <- main
 * dlopen itself allocates in ld.so; what dlclose does not give back, glibc
 * frees at exit only under valgrind (__libc_freeres). */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "example.h"

#ifndef LEAKPLUGIN
#define LEAKPLUGIN "leakplugin.so"
#endif

static int plugin_path(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	slash[1] = '\0';
	int w = snprintf(out, len, "%s%s", exe, LEAKPLUGIN);
	return w > 0 && (size_t)w < len ? 0 : -1;
}

EX_FRAME static int call_plugin(void *handle)
{
	int (*run)(int) = (int (*)(int))dlsym(handle, "plugin_run");
	if (!run)
		return -1;
	int r = run(200);
	ex_use(&r);
	return r;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	if (argc > 1)
		snprintf(path, sizeof(path), "%s", argv[1]);
	else if (plugin_path(path, sizeof(path)) != 0)
		return 2;
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		/* Only on failure: stdio allocates. */
		fprintf(stderr, "dlopen-leak: %s\n", dlerror());
		return 2;
	}
	int r = call_plugin(handle);
	if (dlclose(handle) != 0)
		return 2;
	return r == 0 ? 0 : 1;
}
