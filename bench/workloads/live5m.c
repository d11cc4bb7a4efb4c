/* live5m: five million small blocks allocated and kept live, then freed
 * in nearly the order of allocation. Measures what tracing costs when the
 * live set is large: time, and peak resident memory (the table of live
 * blocks is what a tracer adds to it). The blocks come from four call
 * sites. */
#include "bench.h"

#define BLOCKS 5000000L

static NOINLINE void *alloc_a(size_t n) { void *p = malloc(n); escape(p); return p; }
static NOINLINE void *alloc_b(size_t n) { void *p = malloc(n); escape(p); return p; }
static NOINLINE void *alloc_c(size_t n) { void *p = calloc(1, n); escape(p); return p; }
static NOINLINE void *alloc_d(size_t n) { return alloc_a(n); }

int main(int argc, char **argv)
{
	long n = (long)(BLOCKS * bench_scale(argc, argv));
	uint64_t rng = 12345, checksum = 0, calls = 1;
	void **blocks = malloc((size_t)n * sizeof(*blocks));

	for (long i = 0; i < n; i++) {
		uint64_t r = rng_next(&rng);
		size_t size = 16 + (r & 0x1F);          /* 16..47 bytes */
		void *p;
		switch ((r >> 8) & 3) {
		case 0: p = alloc_a(size); break;
		case 1: p = alloc_b(size); break;
		case 2: p = alloc_c(size); break;
		default: p = alloc_d(size); break;
		}
		*(uint32_t *)p = (uint32_t)i;
		blocks[i] = p;
	}
	calls += (uint64_t)n;
	/* Free in allocation order, a few blocks out of turn: swap each
	 * block with a near neighbour first. */
	for (long i = 0; i + 8 < n; i += 8) {
		uint64_t r = rng_next(&rng);
		long j = i + (long)(r & 7);
		void *t = blocks[i];
		blocks[i] = blocks[j];
		blocks[j] = t;
	}
	for (long i = 0; i < n; i++) {
		checksum += *(uint32_t *)blocks[i];
		free(blocks[i]);
	}
	calls += (uint64_t)n;
	free(blocks);
	calls++;
	printf("bench-result: live5m blocks=%ld checksum=%llu calls=%llu\n", n,
	       (unsigned long long)checksum, (unsigned long long)calls);
	return 0;
}
