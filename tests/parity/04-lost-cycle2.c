/* lost-cycle2: two blocks that point at each other, and nothing else
 * points at either.
 *
 * make_a and make_b each allocate 40 bytes; a->peer = b, b->peer = a; both
 * addresses are then dropped.
 *
 * valgrind makes one block of an unreferenced cycle "definitely lost" and
 * the other "indirectly lost", choosing by address (it walks blocks in
 * address order), so which stack gets which kind is not a property of the
 * program. The blocks are the same size, so the kind totals over the
 * cycle are fixed:
 *   definitely lost: "80 (40 direct, 40 indirect) bytes in 1 blocks"
 *   indirectly lost: 40 bytes in 1 blocks
 * The test compares those totals over both stacks (compare_valgrind.py
 * --cycle make_a,make_b), not which block is which.
 * Heap: 2 allocs, 0 frees, 80 bytes allocated. */
#include "parity.h"

struct cell {
	struct cell *peer;
	long tag[4];
};

EX_FRAME static struct cell *make_a(void)
{
	struct cell *c = calloc(1, sizeof(*c)); /* LEAK: cycle member */
	ex_use(c);
	return c;
}

EX_FRAME static struct cell *make_b(void)
{
	struct cell *c = calloc(1, sizeof(*c)); /* LEAK: cycle member */
	ex_use(c);
	return c;
}

EX_FRAME static int make_cycle(void)
{
	struct cell *a = make_a();
	struct cell *b = make_b();
	ex_use(a);
	ex_use(b);
	if (!a || !b)
		return 1;
	a->peer = b;
	b->peer = a;
	a->tag[0] = 1;
	b->tag[0] = 2;
	return a->peer->peer == a ? 0 : 1; /* both addresses are dropped */
}

int main(void)
{
	int r = make_cycle();
	pt_scrub_stack();
	return r;
}
