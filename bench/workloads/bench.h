/* Shared helpers of the benchmark workloads: a deterministic random
 * generator, argument parsing and the result line the harness checks.
 * Every workload prints exactly one line starting with "bench-result:";
 * a traced run whose line differs from the untraced one counts as failed. */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

static inline uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: fast, deterministic, good enough for picking sizes. */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Scale factor from argv[1] (default 1.0): the harness passes a value
 * below 1 for the reduced runs under valgrind. */
static inline double bench_scale(int argc, char **argv)
{
	double s = argc > 1 ? strtod(argv[1], NULL) : 1.0;
	return s > 0 ? s : 1.0;
}

/* Compiler barrier: the pointer escapes, so allocations are not elided. */
static inline void escape(void *p)
{
	__asm__ volatile("" : : "g"(p) : "memory");
}

#endif
