/* cxx-multiple-inheritance: an object of a class with two polymorphic
 * bases, reached only through a pointer to its second base, which lies
 * 16 bytes into the block. valgrind's "multipleinheritance" heuristic (on
 * by default: the pointed-to word and the block's first word are both
 * vtable pointers) calls it still reachable, not possibly lost.
 *
 *   g_second = new Both (Both : First, Second; 40 bytes): still reachable
 *     via multipleinheritance (operator new <- make_both <- main)
 *   g_first = new Both (pointer to the first base = the block's start):
 *     still reachable, no heuristic (second line of make_both)
 *   a third new Both reached only through a pointer into its `extra`
 *     member (offset 32, not a vtable pointer): possibly lost (third line)
 * LEAK SUMMARY: "of which reachable via heuristic: multipleinheritance :
 * 40 bytes in 1 blocks".
 * Heap: 4 allocs (with libstdc++'s emergency pool, explained), 0 frees. */
#include "parity.h"

struct First {
	long f = 1;
	virtual ~First();
	virtual long get() const { return f; }
};
First::~First() {}

struct Second {
	long s = 2;
	virtual ~Second();
	virtual long other() const { return s; }
};
Second::~Second() {}

struct Both : First, Second {
	long extra = 3;
	~Both() override;
};
Both::~Both() {}

Second *g_second;
First *g_first;
long *g_extra;

EX_FRAME static long make_both(void)
{
	g_second = new Both; /* reachable via multipleinheritance */
	ex_use(g_second);
	g_first = new Both; /* reachable */
	ex_use(g_first);
	Both *third = new Both; /* possibly lost */
	ex_use(third);
	g_extra = &third->extra;
	return g_second->other() + g_first->get() + *g_extra;
}

int main()
{
	long r = make_both();
	pt_scrub_stack();
	return r == 6 ? 0 : 1;
}
