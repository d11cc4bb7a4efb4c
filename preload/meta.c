/* Memory for our own bookkeeping: lock-free bump allocation from chunks we
 * map ourselves. Context: HOT-safe (atomics and, rarely, one mmap call).
 * Nothing allocated here is ever freed; the table and the depot only grow,
 * and their memory per live block is what the README states. */
#define _GNU_SOURCE

#include "preload-private.h"

#define CHUNK_SIZE (8u << 20)

struct chunk {
	_Atomic size_t used;
	size_t cap;
	char data[];
};

static _Atomic(struct chunk *) current;

static LT_NOINLINE LT_COLD struct chunk *new_chunk(struct chunk *seen)
{
	struct chunk *c = lt_os_map(CHUNK_SIZE);
	if (!c)
		return NULL;
	/* Not madvised to huge pages. They would spare a report on demand
	 * some page-table entries to copy at its fork, but with the table at
	 * 4 bytes per 32 of heap that was no shorter (1 GiB heap of 1 KiB
	 * blocks: 32 ms with them, 29 ms without); and each 2 MiB page is
	 * zeroed at first touch, which in a virtual machine cost 0.1 s of a
	 * run holding five million blocks. */
	c->cap = CHUNK_SIZE - sizeof(struct chunk);
	if (atomic_compare_exchange_strong(&current, &seen, c))
		return c;
	/* Another thread installed one first: use theirs. */
	lt_os_unmap(c, CHUNK_SIZE);
	return seen;
}

void *lt_meta_alloc(size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (size > CHUNK_SIZE / 4) {
		size_t mapped = (size + 4095) & ~(size_t)4095;
		return lt_os_map(mapped);
	}
	for (;;) {
		struct chunk *c = atomic_load_explicit(&current, memory_order_acquire);
		if (LT_LIKELY(c)) {
			size_t off = atomic_fetch_add_explicit(&c->used, size,
							       memory_order_relaxed);
			if (LT_LIKELY(off + size <= c->cap))
				return c->data + off;
		}
		if (!new_chunk(c))
			return NULL;
	}
}
