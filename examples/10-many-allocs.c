/* many-allocs: the overhead benchmark (not compared with valgrind: too slow
 * under it). Makes N malloc/free pairs (default 1000000, or argv[1]) with
 * sizes cycling through 1..1024 bytes from three different call stacks,
 * keeping a window of 64 live blocks, and leaks one block every 100000
 * iterations.
 *
 * Expected: allocs = N, frees = N - N/100000, and one loss record of
 * N/100000 blocks of 333 bytes at malloc <- leak_one <- main (10 blocks,
 * 3330 bytes for the default N).
 * Does no stdio, so the heap summary holds the program's blocks only. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "example.h"

#define WINDOW 64

EX_FRAME static void *alloc_a(size_t n)
{
	void *p = malloc(n);
	ex_use(p);
	return p;
}

EX_FRAME static void *alloc_b(size_t n)
{
	void *p = alloc_a(n);
	ex_use(p);
	return p;
}

EX_FRAME static void *alloc_c(size_t n)
{
	void *p = alloc_b(n);
	ex_use(p);
	return p;
}

EX_FRAME static void leak_one(void)
{
	void *p = malloc(333); /* LEAK: one every 100000 iterations */
	ex_use(p);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	void *window[WINDOW] = { 0 };
	unsigned long sum = 0;

	for (long i = 0; i < n; i++) {
		if (i % 100000 == 99999) {
			leak_one();
			continue;
		}
		size_t size = 1 + (size_t)((i * 7919) % 1024);
		void *p;
		switch (i % 3) {
		case 0: p = alloc_a(size); break;
		case 1: p = alloc_b(size); break;
		default: p = alloc_c(size); break;
		}
		if (p)
			memset(p, 1, 1);
		free(window[i % WINDOW]);
		window[i % WINDOW] = p;
		sum += size;
	}
	for (int i = 0; i < WINDOW; i++)
		free(window[i]);
	ex_use(&sum);
	return 0;
}
