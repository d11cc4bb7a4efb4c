/* realloc: many growing buffers, as string builders and vectors grow.
 * 2000 buffers are live at once; each step picks one at random and grows
 * it by a few bytes (sometimes doubling it, as vectors do); a buffer that
 * passes 8 KiB is freed and started again. Interleaving the buffers makes
 * many reallocs move the block, so a tracer sees both the in-place and the
 * moving case. */
#include <string.h>

#include "bench.h"

#define BUFFERS 2000
#define LIMIT 8192

struct buf {
	char *data;
	size_t size;
};

static NOINLINE char *grow(char *p, size_t size)
{
	char *q = realloc(p, size);
	escape(q);
	return q;
}

int main(int argc, char **argv)
{
	long steps = (long)(3000000 * bench_scale(argc, argv));
	static struct buf bufs[BUFFERS];
	uint64_t rng = 777, checksum = 0, calls = 0;

	for (long i = 0; i < steps; i++) {
		uint64_t r = rng_next(&rng);
		struct buf *b = &bufs[r % BUFFERS];
		size_t size = (r >> 40) % 16 == 0 ? b->size * 2 + 8 : b->size + 1 + ((r >> 20) & 31);
		if (size > LIMIT) {
			checksum += (unsigned char)b->data[b->size - 1];
			free(b->data);
			calls++;
			b->data = NULL;
			b->size = 0;
			size = 1 + ((r >> 20) & 31);
		}
		b->data = grow(b->data, size);   /* realloc(NULL, n) mallocs */
		calls++;
		memset(b->data + b->size, (int)(r & 0x7F), size - b->size);
		b->size = size;
	}
	for (int i = 0; i < BUFFERS; i++) {
		free(bufs[i].data);
		calls++;
	}
	printf("bench-result: realloc checksum=%llu calls=%llu\n",
	       (unsigned long long)checksum, (unsigned long long)calls);
	return 0;
}
