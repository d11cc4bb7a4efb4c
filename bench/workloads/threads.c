/* threads N: N threads in a ring; each allocates batches of small blocks
 * and hands every batch to the next thread, which frees it. So most frees
 * happen on another thread than the allocation, as in a producer/consumer
 * pipeline. The total work is the same for every N, so the cost per call
 * of 2 and 8 threads can be compared (with 8 threads on 2 cores, a lock
 * or a contended cache line in the tracer shows up here).
 *
 * Hand-over is a mutex-protected list of batches per thread: one lock per
 * batch of BATCH blocks, so the program itself is not lock-bound. Each
 * thread hands over one batch, then takes one, so no thread gets more
 * than N batches ahead of the others. */
#include <pthread.h>

#include "bench.h"

#define BATCH 256
#define TOTAL_BLOCKS 6000000L

struct batch {
	struct batch *next;
	unsigned count;
	void *blocks[BATCH];
};

struct inbox {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct batch *head, *tail;
} __attribute__((aligned(64)));

static struct inbox *inboxes;
static unsigned nthreads;
static long batches_per_thread;

static void post(struct inbox *box, struct batch *b)
{
	b->next = NULL;
	pthread_mutex_lock(&box->lock);
	if (box->tail)
		box->tail->next = b;
	else
		box->head = b;
	box->tail = b;
	pthread_cond_signal(&box->ready);
	pthread_mutex_unlock(&box->lock);
}

static struct batch *take(struct inbox *box)
{
	pthread_mutex_lock(&box->lock);
	while (!box->head)
		pthread_cond_wait(&box->ready, &box->lock);
	struct batch *b = box->head;
	box->head = b->next;
	if (!box->head)
		box->tail = NULL;
	pthread_mutex_unlock(&box->lock);
	return b;
}

/* A few frames of the thread's own code between it and malloc. */
static NOINLINE void *make_block(uint64_t *rng, unsigned depth)
{
	if (depth > 0) {
		void *p = make_block(rng, depth - 1);
		escape(p);
		return p;
	}
	uint64_t r = rng_next(rng);
	size_t size = 16 + (r & 0x1F0);
	char *p = malloc(size);
	p[0] = (char)r;
	return p;
}

static NOINLINE struct batch *produce(uint64_t *rng)
{
	struct batch *b = malloc(sizeof(*b));
	b->count = BATCH;
	for (unsigned i = 0; i < BATCH; i++)
		b->blocks[i] = make_block(rng, (unsigned)(rng_next(rng) & 7));
	return b;
}

static NOINLINE uint64_t consume(struct batch *b)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < b->count; i++) {
		sum += (unsigned char)*(char *)b->blocks[i];
		free(b->blocks[i]);
	}
	free(b);
	return sum;
}

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t rng = 0x1234567ULL + id, sum = 0;
	for (long k = 0; k < batches_per_thread; k++) {
		post(&inboxes[(id + 1) % nthreads], produce(&rng));
		sum += consume(take(&inboxes[id]));
	}
	return (void *)(uintptr_t)sum;
}

int main(int argc, char **argv)
{
	nthreads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
	if (nthreads < 1 || nthreads > 64)
		nthreads = 2;
	long total = (long)(TOTAL_BLOCKS * bench_scale(argc, argv));
	batches_per_thread = total / BATCH / nthreads;
	if (batches_per_thread < 1)
		batches_per_thread = 1;

	inboxes = calloc(nthreads, sizeof(*inboxes));
	pthread_t tid[64];
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_mutex_init(&inboxes[i].lock, NULL);
		pthread_cond_init(&inboxes[i].ready, NULL);
	}
	for (unsigned i = 0; i < nthreads; i++)
		pthread_create(&tid[i], NULL, worker, (void *)(uintptr_t)i);
	uint64_t sum = 0;
	for (unsigned i = 0; i < nthreads; i++) {
		void *ret;
		pthread_join(tid[i], &ret);
		sum += (uintptr_t)ret;
	}
	free(inboxes);
	unsigned long long calls = 2ULL * (unsigned long long)batches_per_thread * nthreads * (BATCH + 1) + 2;
	printf("bench-result: threads n=%u checksum=%llu calls=%llu\n", nthreads,
	       (unsigned long long)sum, calls);
	return 0;
}
