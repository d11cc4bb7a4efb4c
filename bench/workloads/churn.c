/* churn: one thread allocating and freeing small blocks from call stacks
 * 5 to 40 frames deep. The path down to the allocation goes through eight
 * distinct non-inlined functions in an order that depends on a "variant",
 * so the program has about 64 x 36 distinct stacks, like a real program
 * with many call sites. Built without frame pointers (-O2
 * -fomit-frame-pointer), as Debian builds its packages.
 *
 * Each visit to the bottom of a stack makes a burst of malloc/calloc and
 * frees the blocks it replaces in a ring of recently allocated ones, so
 * few blocks are live at any time. */
#include <string.h>

#include "bench.h"

#define RING 4096
#define BURST 4

static void *ring[RING];
static unsigned ring_pos;
static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t checksum;
static uint64_t calls;

typedef unsigned (*step_fn)(unsigned depth, unsigned variant);
static step_fn steps[8];

static NOINLINE unsigned leaf(unsigned variant)
{
	unsigned sum = 0;
	for (int i = 0; i < BURST; i++) {
		uint64_t r = rng_next(&rng);
		size_t size = 16 + (r & 0xF0);
		char *p = (r & 0x700) == 0 ? calloc(1, size) : malloc(size);
		p[0] = (char)variant;
		p[size - 1] = (char)r;
		unsigned slot = ring_pos++ % RING;
		if (ring[slot]) {
			sum += (unsigned char)((char *)ring[slot])[0];
			free(ring[slot]);
			calls++;
		}
		ring[slot] = p;
		calls++;
	}
	return sum;
}

/* Each step goes one frame deeper through the function the variant
 * picks for that level; the addition after the call keeps it from
 * becoming a tail call, so every level is a real frame. */
#define STEP(n)                                                          \
	static NOINLINE unsigned step##n(unsigned depth, unsigned variant) \
	{                                                                  \
		if (depth == 0)                                            \
			return leaf(variant);                              \
		unsigned next = (variant * 5 + depth * (n + 3)) & 7;       \
		unsigned r = steps[next](depth - 1, variant);              \
		escape(&r);                                                \
		return r + n;                                              \
	}
STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7)

int main(int argc, char **argv)
{
	double scale = bench_scale(argc, argv);
	long visits = (long)(1200000 * scale);
	step_fn all[8] = { step0, step1, step2, step3, step4, step5, step6, step7 };
	memcpy(steps, all, sizeof(all));

	for (long i = 0; i < visits; i++) {
		uint64_t r = rng_next(&rng);
		unsigned depth = 2 + (unsigned)(r % 36);   /* + main, step, leaf, malloc */
		unsigned variant = (unsigned)(r >> 32) & 63;
		checksum += steps[variant & 7](depth, variant);
	}
	for (unsigned i = 0; i < RING; i++) {
		if (ring[i]) {
			free(ring[i]);
			calls++;
		}
	}
	printf("bench-result: churn checksum=%llu calls=%llu\n",
	       (unsigned long long)checksum, (unsigned long long)calls);
	return 0;
}
