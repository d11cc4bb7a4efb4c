/* allocator-memory: the allocator's own mappings are not roots. glibc
 * serves a request above its mmap threshold with a mapping of its own
 * (main lowers the threshold to 4 KiB with mallopt, and the top pad to 0
 * so that the heap's top never has room for such a request; under
 * valgrind mallopt does nothing), and a thread's requests from an arena of
 * its own, also mmap'ed. Those mappings hold heap blocks, not roots: a
 * block they hold must be reached like any other.
 *
 *   main: an 8 KiB block (its own mapping, under glibc) holding the only
 *     pointer to a 40-byte block, which holds the only one to a 24-byte
 *     block, dropped: "8,256 (8,192 direct, 64 indirect)" definitely lost
 *     (calloc <- make_zeroed <- lose_big <- main), the two indirectly lost
 *   worker (joined before exit), from its arena: a lost list of 5 nodes
 *     (head definitely lost, 4 nodes indirectly lost), and an 8 KiB block
 *     holding the only pointer to a 56-byte block, dropped:
 *     "8,248 (8,192 direct, 56 indirect)" definitely lost
 *   main keeps a 32-byte block in a global: still reachable
 * The joined worker's DTV: see exited-thread (explained).
 * Why not bigger blocks, above glibc's default threshold: under valgrind,
 * heap blocks sit at low addresses (around 0x4a00000), and ld.so keeps the
 * time its relocation took, in CPU cycles, in a variable (relocate_time)
 * whose value under valgrind is of the same order: a block of a megabyte
 * then contains that "pointer" in some runs and turns possibly lost.
 * Heap: 12 allocs (with the DTV), 0 frees (valgrind's exit clean-up frees
 * the DTV). */
#include <malloc.h>
#include <pthread.h>

#include "parity.h"

struct node {
	struct node *next;
	long v[5];
};

void *g_kept;

EX_FRAME static void *make_block(size_t n)
{
	void *p = malloc(n);
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

/* calloc, not malloc + memset: no pointer into the big block's middle
 * (see lose_big). */
EX_FRAME static void *make_zeroed(size_t n)
{
	void *p = calloc(1, n);
	ex_use(p);
	return p;
}

EX_FRAME static int lose_list(int n)
{
	struct node *head = NULL;
	for (int i = 0; i < n; i++) {
		struct node *x = make_block(sizeof(*x)); /* LEAK: list */
		if (!x)
			return 1;
		x->next = head;
		head = x;
	}
	ex_use(head);
	return 0;
}

/* The only pointer to the first child sits in the big block's first word,
 * to the second child in the first child's: an address computed into the
 * middle of the big block (&big[k]) can stay behind in a register or a
 * stack slot, which valgrind then finds, or not, from run to run. */
EX_FRAME static int lose_big(size_t size, size_t a, size_t b)
{
	void **big = make_zeroed(size); /* LEAK: in glibc's own mapping */
	if (!big)
		return 1;
	void **child = make_block(a);  /* LEAK: indirectly */
	big[0] = child;
	if (child && b)
		child[0] = make_block(b); /* LEAK: indirectly */
	return 0;
}

EX_FRAME static void *worker(void *arg)
{
	int r = lose_list(5) + lose_big(8192, 56, 0);
	pt_scrub_stack();
	return r ? arg : NULL;
}

int main(void)
{
	mallopt(M_TOP_PAD, 0);
	mallopt(M_MMAP_THRESHOLD, 4096);
	g_kept = make_block(32); /* reachable */
	int r = lose_big(8192, 40, 24);
	pthread_t t;
	void *res = &r;
	if (pthread_create(&t, NULL, worker, &r) != 0 || pthread_join(t, &res) != 0)
		return 1;
	pt_scrub_stack();
	return r || res ? 1 : 0;
}
