/* Open-addressing hash map from a pair of u64 (an address and a module or
 * epoch) to a pointer: the symbolizer's caches. The same addresses recur
 * across thousands of stacks, so lookups must be cheap.
 * Context: offline side only. */
#include <stdlib.h>

#include "symbolizer-private.h"

struct lt_addrmap_slot {
	uint64_t a, b;
	void *value;              /* NULL: empty slot */
};

static size_t hash(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) * 0xbf58476d1ce4e5b9ull;
	return (size_t)(h ^ h >> 31);
}

void *lt_addrmap_get(const struct lt_addrmap *m, uint64_t a, uint64_t b)
{
	if (!m->slots)
		return NULL;
	for (size_t i = hash(a, b) & m->mask;; i = (i + 1) & m->mask) {
		struct lt_addrmap_slot *s = &m->slots[i];
		if (!s->value)
			return NULL;
		if (s->a == a && s->b == b)
			return s->value;
	}
}

static void insert(struct lt_addrmap_slot *slots, size_t mask, uint64_t a,
		   uint64_t b, void *value)
{
	size_t i = hash(a, b) & mask;
	while (slots[i].value && !(slots[i].a == a && slots[i].b == b))
		i = (i + 1) & mask;
	slots[i] = (struct lt_addrmap_slot){ a, b, value };
}

static int grow(struct lt_addrmap *m)
{
	size_t cap = m->slots ? (m->mask + 1) * 2 : 1024;
	struct lt_addrmap_slot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; m->slots && i <= m->mask; i++)
		if (m->slots[i].value)
			insert(slots, cap - 1, m->slots[i].a, m->slots[i].b, m->slots[i].value);
	free(m->slots);
	m->slots = slots;
	m->mask = cap - 1;
	return 0;
}

int lt_addrmap_put(struct lt_addrmap *m, uint64_t a, uint64_t b, void *value)
{
	/* Keep the load under one half so probe sequences stay short. */
	if ((!m->slots || (m->used + 1) * 2 > m->mask + 1) && grow(m))
		return -1;
	if (!lt_addrmap_get(m, a, b))
		m->used++;
	insert(m->slots, m->mask, a, b, value);
	return 0;
}

void lt_addrmap_free(struct lt_addrmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->mask = m->used = 0;
}
