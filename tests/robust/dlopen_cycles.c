/* 1000 dlopen and dlclose cycles of a module that allocates, leaking once
 * from inside it. */
#include "robust.h"

#include <dlfcn.h>

static int do_cycles(int argc, char **argv)
{
	const char *path = argv[2];
	long sum = 0;
	for (int i = 0; i < 1000; i++) {
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			printf("dlopen failed at cycle %d: %s\n", i, dlerror());
			return 1;
		}
		int (*work)(int, int) = (int (*)(int, int))dlsym(h, "plugin_work");
		sum += work(i, i == 500);
		if (dlclose(h) != 0) {
			printf("dlclose failed at cycle %d\n", i);
			return 1;
		}
	}
	printf("1000 cycles, sum %ld\n", sum);
	return 0;
}

static const struct scenario scenarios[] = {
	{ "cycles", do_cycles },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return run_scenario(scenarios, argc, argv);
}
