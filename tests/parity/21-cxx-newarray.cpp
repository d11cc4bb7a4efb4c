/* cxx-newarray: new[] of objects with destructors, where only the pointer
 * new[] returned survives. That pointer is 8 bytes into the block
 * (libstdc++ stores the element count first), so it is an interior
 * pointer; valgrind's "newarray" heuristic (on by default) recognises it
 * and calls the block still reachable, not possibly lost.
 *
 *   g_items = new Item[4] (Item: 24 bytes, destructor): 8 + 96 = 104
 *     bytes still reachable, via the newarray heuristic
 *     (operator new[] <- make_items <- main)
 *   g_third = &(new Item[3])[2]: points at the third element, not just
 *     past the count: no heuristic applies: 8 + 72 = 80 bytes possibly
 *     lost (operator new[] <- make_items <- main, second line)
 *   g_pods = new Pod[4] (no destructor: no count, the pointer is the
 *     block's start): 64 bytes still reachable, no heuristic
 * LEAK SUMMARY: "of which reachable via heuristic: newarray : 104 bytes
 * in 1 blocks".
 * Heap: 4 allocs (with libstdc++'s emergency pool, explained), 0 frees. */
#include "parity.h"

struct Item {
	long a, b, c;
	Item() : a(1), b(2), c(3) {}
	~Item() { a = 0; }
};

struct Pod {
	long a, b;
};

Item *g_items;
Item *g_third;
Pod *g_pods;

EX_FRAME static int make_items(void)
{
	g_items = new Item[4]; /* reachable via newarray */
	ex_use(g_items);
	Item *three = new Item[3]; /* possibly lost */
	ex_use(three);
	g_third = &three[2];
	g_pods = new Pod[4](); /* reachable */
	ex_use(g_pods);
	return (int)(g_items[3].c + g_third->b + g_pods[0].a);
}

int main()
{
	int r = make_items();
	pt_scrub_stack();
	return r == 5 ? 0 : 1;
}
