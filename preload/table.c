/* The live table: address -> {size, stack id} for every live block.
 * Context: HOT. No locks, no stdio, no allocator of the program.
 *
 * glibc returns 16-byte aligned blocks below 2^47, at least 32 bytes apart
 * (its smallest chunk), so the table is a radix tree over the address
 * itself (like a page table) with one slot per 32-byte granule: 15 bits
 * pick an L2 array, 15 bits a leaf, 12 bits a slot of 8 bytes = 32-bit
 * size, 31-bit stack id, and the address bit (16) the granule does not
 * tell. Insert is one compare-and-swap, remove a load and a store: no
 * hashing, no probing. A block's address is owned by one thread between its
 * allocation and its free; a granule already taken (an allocator that packs
 * blocks 16 bytes apart) sends the block to the side table.
 * Leaves are allocated on first use and kept; their pages are backed only
 * where blocks live: 8 bytes per 32-byte granule of heap holding live
 * blocks, i.e. at most one 4 KiB page of table per 16 KiB of heap.
 *
 * Blocks the radix cannot hold (unaligned or high addresses from another
 * allocator, sizes of 4 GiB and more) go to a small open-addressing side
 * table. */
#include <string.h>

#include "preload-private.h"

#define GRANULE_BITS 5
#define LEAF_BITS 12
#define L2_BITS 15
#define L1_BITS 15
#define ADDR_BITS (GRANULE_BITS + LEAF_BITS + L2_BITS + L1_BITS) /* 47 */

#define LEAF_SLOTS (1u << LEAF_BITS)
#define L2_SLOTS (1u << L2_BITS)
#define L1_SLOTS (1u << L1_BITS)

#define SIZE_TOO_BIG 0xffffffffu

typedef _Atomic uint64_t slot_t;
typedef _Atomic(slot_t *) leaf_ptr;
typedef _Atomic(leaf_ptr *) l2_ptr;

static l2_ptr *l1;
static _Atomic uint64_t dropped;

/* ---- side table ---- */

#define SIDE_SLOTS (1u << 16)
#define SIDE_EMPTY 0
#define SIDE_TOMB 1
#define SIDE_BUSY 2

struct side_entry {
	_Atomic uintptr_t key;
	uint64_t size;
	uint32_t stack_id;
	uint32_t pad_;
};

static struct side_entry *side;
static _Atomic unsigned side_live;

/* The slot: size << 32 | stack id << 1 | address bit 4. Stack ids are
 * below 2^31 (ids of 2^31 and more go to the side table). */
static inline uint64_t pack(uintptr_t addr, uint64_t size, uint32_t stack_id)
{
	return (size << 32) | ((uint64_t)stack_id << 1) | ((addr >> 4) & 1);
}

static inline bool slot_is(uint64_t v, uintptr_t addr)
{
	return v && (v & 1) == ((addr >> 4) & 1);
}

static inline void unpack(uint64_t v, struct lt_table_entry *e)
{
	e->size = v >> 32;
	e->stack_id = (uint32_t)(v >> 1) & 0x7fffffffu;
}

static inline bool radix_key(uintptr_t addr)
{
	return (addr & 15) == 0 && (addr >> ADDR_BITS) == 0 && addr >= (1u << GRANULE_BITS);
}

void lt_table_init(void)
{
	if (!l1)
		l1 = lt_os_map(sizeof(l2_ptr) * L1_SLOTS);
	if (!side)
		side = lt_os_map(sizeof(struct side_entry) * SIDE_SLOTS);
}

static LT_NOINLINE LT_COLD leaf_ptr *new_l2(unsigned i1)
{
	leaf_ptr *fresh = lt_os_map(sizeof(leaf_ptr) * L2_SLOTS);
	leaf_ptr *expected = NULL;
	if (!fresh)
		return NULL;
	if (atomic_compare_exchange_strong(&l1[i1], &expected, fresh))
		return fresh;
	lt_os_unmap(fresh, sizeof(leaf_ptr) * L2_SLOTS);
	return expected;
}

static LT_NOINLINE LT_COLD slot_t *new_leaf(leaf_ptr *l2, unsigned i2)
{
	/* A leaf lost to a racing thread stays unused in the meta arena:
	 * 32 KiB, once, at most per racing insert. */
	slot_t *fresh = lt_meta_alloc(sizeof(slot_t) * LEAF_SLOTS);
	slot_t *expected = NULL;
	if (!fresh)
		return NULL;
	if (atomic_compare_exchange_strong(&l2[i2], &expected, fresh))
		return fresh;
	return expected;
}

/* The slot of addr, creating the path to it when create is set. */
static inline slot_t *radix_slot(uintptr_t addr, bool create)
{
	unsigned i1 = (unsigned)(addr >> (GRANULE_BITS + LEAF_BITS + L2_BITS));
	unsigned i2 = (unsigned)(addr >> (GRANULE_BITS + LEAF_BITS)) & (L2_SLOTS - 1);
	unsigned i3 = (unsigned)(addr >> GRANULE_BITS) & (LEAF_SLOTS - 1);
	leaf_ptr *l2 = atomic_load_explicit(&l1[i1], memory_order_acquire);
	if (LT_UNLIKELY(!l2)) {
		if (!create || !(l2 = new_l2(i1)))
			return NULL;
	}
	slot_t *leaf = atomic_load_explicit(&l2[i2], memory_order_acquire);
	if (LT_UNLIKELY(!leaf)) {
		if (!create || !(leaf = new_leaf(l2, i2)))
			return NULL;
	}
	return &leaf[i3];
}

static inline unsigned side_hash(uintptr_t key)
{
	uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h >> 48) & (SIDE_SLOTS - 1);
}

static LT_NOINLINE bool side_insert(uintptr_t addr, uint64_t size, uint32_t stack_id)
{
	unsigned h = side_hash(addr);
	for (unsigned i = 0; side && i < SIDE_SLOTS; i++) {
		struct side_entry *e = &side[(h + i) & (SIDE_SLOTS - 1)];
		uintptr_t k = atomic_load_explicit(&e->key, memory_order_relaxed);
		if (k != SIDE_EMPTY && k != SIDE_TOMB)
			continue;
		if (!atomic_compare_exchange_strong(&e->key, &k, SIDE_BUSY))
			continue;
		e->size = size;
		e->stack_id = stack_id;
		atomic_store_explicit(&e->key, addr, memory_order_release);
		atomic_fetch_add(&side_live, 1);
		return true;
	}
	return false;
}

static LT_NOINLINE bool side_remove(uintptr_t addr, struct lt_table_entry *old)
{
	unsigned h = side_hash(addr);
	if (atomic_load_explicit(&side_live, memory_order_relaxed) == 0)
		return false;
	for (unsigned i = 0; i < SIDE_SLOTS; i++) {
		struct side_entry *e = &side[(h + i) & (SIDE_SLOTS - 1)];
		uintptr_t k = atomic_load_explicit(&e->key, memory_order_acquire);
		if (k == SIDE_EMPTY)
			return false;
		if (k != addr)
			continue;
		old->size = e->size;
		old->stack_id = e->stack_id;
		atomic_store_explicit(&e->key, SIDE_TOMB, memory_order_release);
		atomic_fetch_sub(&side_live, 1);
		return true;
	}
	return false;
}

void *lt_table_prefetch(uintptr_t addr)
{
	if (LT_LIKELY(radix_key(addr) && l1)) {
		slot_t *s = radix_slot(addr, false);
		if (LT_LIKELY(s))
			__builtin_prefetch(s, 1, 3);
		return s;
	}
	return NULL;
}

bool lt_table_insert_at(void *slot, uintptr_t addr, uint64_t size, uint32_t stack_id)
{
	uint64_t empty = 0;
	/* leaves are never freed: the slot found before the walk is still
	 * addr's; a taken granule goes the long way, to the side table */
	if (LT_LIKELY(slot && size < SIZE_TOO_BIG && stack_id < (1u << 31) &&
		      atomic_compare_exchange_strong_explicit(
			      (slot_t *)slot, &empty, pack(addr, size, stack_id),
			      memory_order_release, memory_order_relaxed)))
		return true;
	return lt_table_insert(addr, size, stack_id);
}

bool lt_table_insert(uintptr_t addr, uint64_t size, uint32_t stack_id)
{
	if (LT_LIKELY(radix_key(addr) && size < SIZE_TOO_BIG && stack_id < (1u << 31) && l1)) {
		slot_t *s = radix_slot(addr, true);
		uint64_t empty = 0;
		if (LT_LIKELY(s && atomic_compare_exchange_strong_explicit(
					   s, &empty, pack(addr, size, stack_id),
					   memory_order_release, memory_order_relaxed)))
			return true;
		/* no memory for the leaf, or the granule is another block's */
	}
	if (side_insert(addr, size, stack_id))
		return true;
	atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
	return false;
}

bool lt_table_remove(uintptr_t addr, struct lt_table_entry *old)
{
	if (LT_LIKELY(radix_key(addr) && l1)) {
		slot_t *s = radix_slot(addr, false);
		uint64_t v = s ? atomic_load_explicit(s, memory_order_acquire) : 0;
		if (LT_LIKELY(slot_is(v, addr))) {
			atomic_store_explicit(s, 0, memory_order_relaxed);
			unpack(v, old);
			return true;
		}
	}
	return side_remove(addr, old);
}

void lt_table_count_dropped(void)
{
	atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
}

uint64_t lt_table_dropped(void)
{
	return atomic_load(&dropped);
}

/* Slots are read a cache line at a time: a heap whose blocks were freed
 * leaves leaves of zeros, which a report walks at memory speed. */
#define LINE_SLOTS 8

static inline bool line_empty(slot_t *line)
{
	uint64_t any = 0;
	for (unsigned k = 0; k < LINE_SLOTS; k++)
		any |= atomic_load_explicit(&line[k], memory_order_relaxed);
	return any == 0;
}

static void visit_leaf(slot_t *leaf, uintptr_t base, lt_table_visit_fn fn, void *ctx)
{
	for (unsigned line = 0; line < LEAF_SLOTS; line += LINE_SLOTS) {
		if (line_empty(&leaf[line]))
			continue;
		for (unsigned i3 = line; i3 < line + LINE_SLOTS; i3++) {
			uint64_t v = atomic_load_explicit(&leaf[i3], memory_order_acquire);
			if (!v)
				continue;
			struct lt_table_entry e;
			unpack(v, &e);
			fn(base | ((uintptr_t)i3 << GRANULE_BITS) | ((v & 1) << 4), &e, ctx);
		}
	}
}

void lt_table_foreach(lt_table_visit_fn fn, void *ctx)
{
	for (unsigned i1 = 0; l1 && i1 < L1_SLOTS; i1++) {
		leaf_ptr *l2 = atomic_load_explicit(&l1[i1], memory_order_acquire);
		if (!l2)
			continue;
		for (unsigned i2 = 0; i2 < L2_SLOTS; i2++) {
			slot_t *leaf = atomic_load_explicit(&l2[i2], memory_order_acquire);
			if (leaf)
				visit_leaf(leaf, ((uintptr_t)i1 << (GRANULE_BITS + LEAF_BITS + L2_BITS)) |
						 ((uintptr_t)i2 << (GRANULE_BITS + LEAF_BITS)),
					   fn, ctx);
		}
	}
	for (unsigned i = 0; side && i < SIDE_SLOTS; i++) {
		uintptr_t k = atomic_load_explicit(&side[i].key, memory_order_acquire);
		if (k == SIDE_EMPTY || k == SIDE_TOMB || k == SIDE_BUSY)
			continue;
		struct lt_table_entry e = { .size = side[i].size, .stack_id = side[i].stack_id };
		fn(k, &e, ctx);
	}
}

bool lt_table_has_leaf_in(uintptr_t lo, uintptr_t hi)
{
	const uintptr_t leaf_span = (uintptr_t)1 << (GRANULE_BITS + LEAF_BITS);
	const uintptr_t l2_span = leaf_span << L2_BITS;
	uintptr_t a = lo & ~(leaf_span - 1);
	while (l1 && a < hi && (a >> ADDR_BITS) == 0) {
		unsigned i1 = (unsigned)(a >> (GRANULE_BITS + LEAF_BITS + L2_BITS));
		leaf_ptr *l2 = atomic_load_explicit(&l1[i1], memory_order_acquire);
		if (!l2) {
			a = (a & ~(l2_span - 1)) + l2_span;
			continue;
		}
		unsigned i2 = (unsigned)(a >> (GRANULE_BITS + LEAF_BITS)) & (L2_SLOTS - 1);
		if (atomic_load_explicit(&l2[i2], memory_order_acquire))
			return true;
		a += leaf_span;
	}
	return false;
}
