// leaktrace.h from C++: every call compiles, links without the library
// and does nothing then; with the library each returns its documented
// value. Prints them in one line.
#include <cstdio>
#include <new>

#include "leaktrace.h"

static char region[64];

int main()
{
	int *block = new int[4]();
	int running = leaktrace_running();
	int ignore = leaktrace_ignore(block);
	int ignore_bad = leaktrace_ignore(region + 1);
	leaktrace_disable();
	leaktrace_enable();
	int add = leaktrace_root_add(region, sizeof(region));
	int add_empty = leaktrace_root_add(region, 0);
	int remove = leaktrace_root_remove(region, sizeof(region));
	int remove_again = leaktrace_root_remove(region, sizeof(region));
	delete[] block;
	std::printf("running=%d ignore=%d ignore_bad=%d add=%d add_empty=%d remove=%d "
		    "remove_again=%d\n", running, ignore, ignore_bad, add, add_empty, remove,
		    remove_again);
	return 0;
}
