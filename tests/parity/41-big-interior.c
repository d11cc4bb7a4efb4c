/* big-interior: blocks of hundreds of KiB, reached through their middle.
 * The scan finds a word pointing into a block covering whole 64 KiB
 * chunks without a search; these check that it still finds the right
 * block and the same kinds as valgrind.
 *
 *   g_big points at a 1 MiB block (make_holder), still reachable. At
 *     600 KiB into it sits a pointer into the middle of a 256 KiB block
 *     (make_middle, 200 KiB in): reached only from inside a reachable
 *     block, through its interior -> possibly lost, 262,144 bytes.
 *     At 900 KiB sits the start of a 300 KiB block (make_far): still
 *     reachable.
 *   g_edge points at the last byte of a 640 KiB block (make_edge):
 *     interior, in a chunk the block only partly covers -> possibly
 *     lost, 655,360 bytes.
 *   A 512 KiB block (make_lost) whose start sits at 100 KiB into a lost
 *     block of 384 KiB (make_lost_holder), itself pointed at by nothing:
 *     definitely lost 393,216 bytes, indirectly lost 524,288 bytes.
 * Heap: 6 allocs, 0 frees. */
#include "parity.h"

#define KIB 1024u

char *g_big;
char *g_edge;

EX_FRAME static char *block(size_t size)
{
	char *p = malloc(size);
	ex_use(p);
	if (p)
		memset(p, 0, size);
	return p;
}

EX_FRAME static char *make_holder(void)
{
	return block(1024 * KIB); /* still reachable */
}

EX_FRAME static char *make_middle(void)
{
	return block(256 * KIB); /* possibly lost */
}

EX_FRAME static char *make_far(void)
{
	return block(300 * KIB); /* still reachable */
}

EX_FRAME static char *make_edge(void)
{
	return block(640 * KIB); /* possibly lost */
}

EX_FRAME static char *make_lost_holder(void)
{
	return block(384 * KIB); /* LEAK: definitely lost */
}

EX_FRAME static char *make_lost(void)
{
	return block(512 * KIB); /* LEAK: indirectly lost */
}

EX_FRAME static void build(void)
{
	g_big = make_holder();
	char *middle = make_middle(), *far = make_far();
	char *edge = make_edge();
	char *holder = make_lost_holder(), *lost = make_lost();
	if (!g_big || !middle || !far || !edge || !holder || !lost)
		exit(1);
	char *into_middle = middle + 200 * KIB;
	memcpy(g_big + 600 * KIB, &into_middle, sizeof(into_middle));
	memcpy(g_big + 900 * KIB, &far, sizeof(far));
	g_edge = edge + 640 * KIB - 1;
	memcpy(holder + 100 * KIB, &lost, sizeof(lost));
}

int main(void)
{
	build();
	pt_scrub_stack();
	return 0;
}
