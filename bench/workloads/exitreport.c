/* exitreport MODE: one million blocks live at exit, for the cost of the
 * exit report (target: under 2 s for a million blocks).
 *
 *   reachable  the blocks are the nodes of a chained hash table held by a
 *              global: all still reachable, found by following pointers.
 *   leaked     the blocks are dropped without a free: all definitely lost,
 *              each loss record symbolized and written.
 *
 * The blocks come from about a thousand distinct call stacks (recursion
 * through four functions in a pattern set by the call site), as a large
 * program's blocks do. */
#include <string.h>

#include "bench.h"

#define BLOCKS 1000000L
#define BUCKETS (1L << 18)

struct node {
	struct node *next;
	uint64_t key;
	uint64_t payload[2];
};

struct node **table;   /* the root in "reachable" mode */

typedef struct node *(*maker)(unsigned depth, unsigned site);
static maker makers[4];

static NOINLINE struct node *new_node(unsigned site)
{
	struct node *n = malloc(sizeof(*n) + (site & 3) * 8);
	n->next = NULL;
	n->key = site;
	n->payload[0] = n->payload[1] = 0;
	return n;
}

#define MAKER(k)                                                          \
	static NOINLINE struct node *make##k(unsigned depth, unsigned site) \
	{                                                                   \
		if (depth == 0)                                             \
			return new_node(site);                              \
		struct node *n = makers[(site >> depth) & 3](depth - 1, site); \
		escape(n);                                                  \
		return n;                                                   \
	}
MAKER(0) MAKER(1) MAKER(2) MAKER(3)

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "reachable";
	long count = (long)(BLOCKS * (argc > 2 ? strtod(argv[2], NULL) : 1.0));
	int leak = strcmp(mode, "leaked") == 0;
	maker all[4] = { make0, make1, make2, make3 };
	memcpy(makers, all, sizeof(all));
	uint64_t rng = 99;

	if (!leak)
		table = calloc(BUCKETS, sizeof(*table));
	for (long i = 0; i < count; i++) {
		/* 1024 sites: 256 recursion patterns x 4 depths. */
		unsigned site = (unsigned)(rng_next(&rng) & 1023);
		struct node *n = makers[site & 3](4 + (site >> 8), site);
		n->key = (uint64_t)i;
		if (!leak) {
			size_t b = (size_t)(n->key * 0x9E3779B97F4A7C15ULL) >> 46;
			n->next = table[b];
			table[b] = n;
		}
	}
	printf("bench-result: exitreport mode=%s blocks=%ld\n", leak ? "leaked" : "reachable", count);
	return 0;
}
