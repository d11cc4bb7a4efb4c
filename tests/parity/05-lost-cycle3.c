/* lost-cycle3: a ring of three blocks (a -> b -> c -> a), unreferenced,
 * plus a fourth block d that hangs off c and is not part of the ring.
 *
 * The three ring blocks are 48 bytes each, from three stacks (make_a,
 * make_b, make_c); d is 16 bytes from make_tail. valgrind calls one ring
 * block "definitely lost" (the one it meets first, by address) and the
 * rest, d included, "indirectly lost". Totals over the ring's stacks
 * (compare_valgrind.py --cycle make_a,make_b,make_c):
 *   definitely lost: "160 (48 direct, 112 indirect) bytes in 1 blocks"
 *   indirectly lost: 96 bytes in 2 blocks
 * and d on its own stack: 16 bytes in 1 blocks, indirectly lost, whatever
 * the ring's head.
 * Heap: 4 allocs, 0 frees, 160 bytes allocated. */
#include "parity.h"

struct ring {
	struct ring *next;
	void *tail;
	long pad[4];
};

EX_FRAME static struct ring *make_a(void)
{
	struct ring *r = calloc(1, sizeof(*r)); /* LEAK: ring member */
	ex_use(r);
	return r;
}

EX_FRAME static struct ring *make_b(void)
{
	struct ring *r = calloc(1, sizeof(*r)); /* LEAK: ring member */
	ex_use(r);
	return r;
}

EX_FRAME static struct ring *make_c(void)
{
	struct ring *r = calloc(1, sizeof(*r)); /* LEAK: ring member */
	ex_use(r);
	return r;
}

EX_FRAME static void *make_tail(void)
{
	void *t = calloc(2, 8); /* LEAK: hangs off the ring */
	ex_use(t);
	return t;
}

EX_FRAME static int make_ring(void)
{
	struct ring *a = make_a(), *b = make_b(), *c = make_c();
	ex_use(a);
	ex_use(b);
	ex_use(c);
	if (!a || !b || !c)
		return 1;
	a->next = b;
	b->next = c;
	c->next = a;
	c->tail = make_tail();
	ex_use(c->tail);
	return a->next->next->next == a ? 0 : 1;
}

int main(void)
{
	int r = make_ring();
	pt_scrub_stack();
	return r;
}
