/* The live table: address -> {size, stack id} for every live block.
 * Context: HOT. No locks, no stdio, no allocator of the program.
 *
 * glibc returns 16-byte aligned blocks below 2^47, at least 32 bytes apart
 * (its smallest chunk), so the table is a radix tree over the address
 * itself (like a page table) with one slot per 32-byte granule: 15 bits
 * pick an L2 array, 15 bits a leaf, 12 bits a 4-byte "meta" slot:
 *
 *   table id << 7 | slack << 1 | address bit 4
 *
 * The table id is the stack id (24 bits) and the ignored flag (bit 24);
 * address bit 4 is the one the granule does not tell; slack is what glibc's
 * malloc_usable_size would answer minus the size asked for. The size is not
 * stored: glibc's chunk header, the word before the block, holds the
 * chunk's size, which stays as it is while the block lives (only its
 * PREV_INUSE bit changes, masked out), and the record is removed before the
 * real free or realloc. So size = usable - slack, usable read back from
 * the header. A slack above 62, or any block of another allocator (whose
 * headers we do not know), is an escape (slack 63): its size goes to a
 * 4-byte slot of the leaf's size array, made on first need.
 *
 * Insert is one store (an escape: a compare-and-swap reservation, the
 * size, then the meta), remove a load and a store: no hashing, no probing.
 * A block's address is owned by one thread between its allocation and its
 * free. glibc's chunks are 32 bytes or more, so a granule holds one live
 * block of theirs; for an escaped block, a granule already taken (an
 * allocator that packs blocks 16 bytes apart) sends it to the side
 * table.
 * Leaves are allocated on first use and kept; their pages are backed only
 * where blocks live: 4 bytes per 32-byte granule of heap holding live
 * blocks, i.e. at most one 4 KiB page of table per 32 KiB of heap (twice
 * that where sizes escape, as with another allocator).
 *
 * A program that overwrites a leaked block's header (an underflow) makes
 * its derived size wrong: foreach gives size 0 for a header no live chunk
 * can have, and the scan keeps every block within readable memory and
 * below the next block's start.
 *
 * Blocks the radix cannot hold (unaligned or high addresses from another
 * allocator, sizes of 4 GiB and more, stack ids of 2^24 and more) go to a
 * small open-addressing side table. */
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

/* meta = table id << 7 | slack << 1 | address bit 4 */
#define ID_BITS 24
#define ID_MASK ((1u << ID_BITS) - 1)
#define TABLE_IGNORED (1u << ID_BITS)
#define SLACK_SHIFT 1
#define SLACK_ESCAPE 63u
#define ID_SHIFT 7
/* A granule taken while an escaped block's size is being written: no
 * block's meta (table id 0), skipped by every reader. */
#define META_RESERVED (SLACK_ESCAPE << SLACK_SHIFT)

/* glibc's chunk header: size | flags; IS_MMAPPED chunks carry 16 bytes of
 * header, the others 8 (their next chunk's prev_size is theirs to use). */
#define CHUNK_FLAGS 7u
#define CHUNK_IS_MMAPPED 2u
/* A radix block is below 4 GiB and its slack below 63 bytes. */
#define CHUNK_MAX ((1ull << 32) + 128)

typedef _Atomic uint32_t meta_t;

struct leaf {
	_Atomic(meta_t *) sizes;   /* escaped sizes, by slot; NULL until needed */
	char pad_[64 - sizeof(void *)];
	meta_t meta[LEAF_SLOTS];
};

typedef _Atomic(struct leaf *) leaf_ptr;
typedef _Atomic(leaf_ptr *) l2_ptr;

static l2_ptr *l1;
static _Atomic uint64_t dropped;
/* Whether blocks come from glibc's malloc (their sizes can be derived). */
static _Atomic bool glibc_chunks;

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

/* The table id of a stack id, or 0 when the radix cannot hold it. */
static inline uint32_t table_id(uint32_t stack_id)
{
	uint32_t id = stack_id & ~LT_STACK_IGNORED;
	if (LT_UNLIKELY(id > ID_MASK || id == 0))
		return 0;
	return id | ((stack_id & LT_STACK_IGNORED) ? TABLE_IGNORED : 0);
}

static inline uint32_t stack_id_of(uint32_t meta)
{
	uint32_t tid = meta >> ID_SHIFT;
	return (tid & ID_MASK) | ((tid & TABLE_IGNORED) ? LT_STACK_IGNORED : 0);
}

static inline uint32_t slack_of(uint32_t meta)
{
	return (meta >> SLACK_SHIFT) & SLACK_ESCAPE;
}

static inline uint32_t pack(uintptr_t addr, uint32_t tid, uint32_t slack)
{
	return (tid << ID_SHIFT) | (slack << SLACK_SHIFT) | (uint32_t)((addr >> 4) & 1);
}

static inline bool slot_is(uint32_t v, uintptr_t addr)
{
	return (v >> ID_SHIFT) && (v & 1) == ((addr >> 4) & 1);
}

static inline bool radix_key(uintptr_t addr)
{
	return (addr & 15) == 0 && (addr >> ADDR_BITS) == 0 && addr >= (1u << GRANULE_BITS);
}

/* What malloc_usable_size answers for a chunk with this header. */
static inline uint64_t usable_of(uint64_t hdr)
{
	return (hdr & ~(uint64_t)CHUNK_FLAGS) - ((hdr & CHUNK_IS_MMAPPED) ? 16 : 8);
}

static inline uint64_t chunk_header(uintptr_t addr)
{
	return *(const uint64_t *)(addr - 8);
}

/* The slack of a block about to be recorded: its header was just written
 * by glibc. */
static inline uint32_t slack_for(uintptr_t addr, uint64_t size)
{
	if (!atomic_load_explicit(&glibc_chunks, memory_order_relaxed))
		return SLACK_ESCAPE;
	uint64_t hdr = chunk_header(addr);
	uint64_t usable = usable_of(hdr);
	if (LT_UNLIKELY((hdr & ~(uint64_t)CHUNK_FLAGS) < 32 || usable < size ||
			usable - size >= SLACK_ESCAPE))
		return SLACK_ESCAPE;
	return (uint32_t)(usable - size);
}

/* The size of a live block with a derived slack. A header no live chunk
 * of a radix block can have (the program wrote over it) gives 0. */
static inline uint64_t derived_size(uintptr_t addr, uint32_t slack)
{
	uint64_t hdr = chunk_header(addr);
	uint64_t chunk = hdr & ~(uint64_t)CHUNK_FLAGS;
	if (LT_UNLIKELY(chunk < 32 || (chunk & 15) || chunk > CHUNK_MAX ||
			usable_of(hdr) < slack))
		return 0;
	return usable_of(hdr) - slack;
}

void lt_table_init(void)
{
	if (!l1)
		l1 = lt_os_map(sizeof(l2_ptr) * L1_SLOTS);
	if (!side)
		side = lt_os_map(sizeof(struct side_entry) * SIDE_SLOTS);
}

void lt_table_set_glibc_chunks(bool on)
{
	atomic_store(&glibc_chunks, on);
}

bool lt_table_glibc_chunks(void)
{
	return atomic_load_explicit(&glibc_chunks, memory_order_relaxed);
}

bool lt_table_chunk_usable(uintptr_t addr, uint64_t *usable)
{
	if (!lt_table_glibc_chunks())
		return false;
	uint64_t hdr = chunk_header(addr);
	uint64_t chunk = hdr & ~(uint64_t)CHUNK_FLAGS;
	if (chunk < 32 || (chunk & 15) || chunk > CHUNK_MAX)
		return false;
	*usable = usable_of(hdr);
	return true;
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

static LT_NOINLINE LT_COLD struct leaf *new_leaf(leaf_ptr *l2, unsigned i2)
{
	/* A leaf lost to a racing thread stays unused in the meta arena:
	 * 16 KiB, once, at most per racing insert. */
	struct leaf *fresh = lt_meta_alloc(sizeof(struct leaf));
	struct leaf *expected = NULL;
	if (!fresh)
		return NULL;
	if (atomic_compare_exchange_strong(&l2[i2], &expected, fresh))
		return fresh;
	return expected;
}

static LT_NOINLINE LT_COLD meta_t *new_sizes(struct leaf *leaf)
{
	meta_t *fresh = lt_meta_alloc(sizeof(meta_t) * LEAF_SLOTS);
	meta_t *expected = NULL;
	if (!fresh)
		return NULL;
	if (atomic_compare_exchange_strong(&leaf->sizes, &expected, fresh))
		return fresh;
	return expected;
}

static inline unsigned slot_index(uintptr_t addr)
{
	return (unsigned)(addr >> GRANULE_BITS) & (LEAF_SLOTS - 1);
}

/* The leaf of addr, creating the path to it when create is set. */
static inline struct leaf *radix_leaf(uintptr_t addr, bool create)
{
	unsigned i1 = (unsigned)(addr >> (GRANULE_BITS + LEAF_BITS + L2_BITS));
	unsigned i2 = (unsigned)(addr >> (GRANULE_BITS + LEAF_BITS)) & (L2_SLOTS - 1);
	leaf_ptr *l2 = atomic_load_explicit(&l1[i1], memory_order_acquire);
	if (LT_UNLIKELY(!l2)) {
		if (!create || !(l2 = new_l2(i1)))
			return NULL;
	}
	struct leaf *leaf = atomic_load_explicit(&l2[i2], memory_order_acquire);
	if (LT_UNLIKELY(!leaf)) {
		if (!create || !(leaf = new_leaf(l2, i2)))
			return NULL;
	}
	return leaf;
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
		if (old) {
			old->size = e->size;
			old->stack_id = e->stack_id;
		}
		atomic_store_explicit(&e->key, SIDE_TOMB, memory_order_release);
		atomic_fetch_sub(&side_live, 1);
		return true;
	}
	return false;
}

void *lt_table_prefetch(uintptr_t addr)
{
	if (LT_LIKELY(radix_key(addr) && l1)) {
		struct leaf *leaf = radix_leaf(addr, false);
		if (LT_LIKELY(leaf)) {
			meta_t *s = &leaf->meta[slot_index(addr)];
			__builtin_prefetch(s, 1, 3);
			return s;
		}
	}
	return NULL;
}

/* An escaped block: the granule is reserved, the size written, then the
 * meta published (release: a reader that sees the meta sees the size). */
static LT_NOINLINE bool insert_escaped(struct leaf *leaf, uintptr_t addr, uint64_t size,
				       uint32_t tid)
{
	unsigned i3 = slot_index(addr);
	meta_t *sizes = atomic_load_explicit(&leaf->sizes, memory_order_acquire);
	uint32_t empty = 0;
	if (!sizes && !(sizes = new_sizes(leaf)))
		return false;
	if (!atomic_compare_exchange_strong_explicit(&leaf->meta[i3], &empty, META_RESERVED,
						     memory_order_relaxed, memory_order_relaxed))
		return false;
	atomic_store_explicit(&sizes[i3], (uint32_t)size, memory_order_relaxed);
	atomic_store_explicit(&leaf->meta[i3], pack(addr, tid, SLACK_ESCAPE),
			      memory_order_release);
	return true;
}

static inline bool insert_radix(struct leaf *leaf, uintptr_t addr, uint64_t size,
				uint32_t stack_id)
{
	uint32_t tid = table_id(stack_id);
	if (LT_UNLIKELY(!tid || size >= SIZE_TOO_BIG))
		return false;
	uint32_t slack = slack_for(addr, size);
	if (LT_UNLIKELY(slack == SLACK_ESCAPE))
		return insert_escaped(leaf, addr, size, tid);
	/* A derived slack means a glibc chunk, and glibc's chunks are 32
	 * bytes or more: no other live block starts in this granule. All it
	 * can hold is the record of a block freed where we could not see it,
	 * stale, and rightly overwritten. So a plain store, not a locked
	 * compare-and-swap, which would wait for every store before it. */
	atomic_store_explicit(&leaf->meta[slot_index(addr)], pack(addr, tid, slack),
			      memory_order_release);
	return true;
}

bool lt_table_insert_at(void *slot, uintptr_t addr, uint64_t size, uint32_t stack_id)
{
	/* leaves are never freed: the slot found before the walk is still
	 * addr's; an escaped block whose granule is taken goes the long way,
	 * to the side table */
	if (LT_LIKELY(slot)) {
		struct leaf *leaf = (struct leaf *)((char *)((meta_t *)slot - slot_index(addr)) -
						    offsetof(struct leaf, meta));
		if (LT_LIKELY(insert_radix(leaf, addr, size, stack_id)))
			return true;
	}
	return lt_table_insert(addr, size, stack_id);
}

bool lt_table_insert(uintptr_t addr, uint64_t size, uint32_t stack_id)
{
	if (LT_LIKELY(radix_key(addr) && l1)) {
		struct leaf *leaf = radix_leaf(addr, true);
		if (LT_LIKELY(leaf && insert_radix(leaf, addr, size, stack_id)))
			return true;
		/* no memory for the leaf, a block the radix cannot hold, or
		 * the granule is another block's */
	}
	if (side_insert(addr, size, stack_id))
		return true;
	atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
	return false;
}

static inline uint64_t size_at(struct leaf *leaf, unsigned i3, uintptr_t addr, uint32_t v)
{
	uint32_t slack = slack_of(v);
	if (slack != SLACK_ESCAPE)
		return derived_size(addr, slack);
	meta_t *sizes = atomic_load_explicit(&leaf->sizes, memory_order_acquire);
	return atomic_load_explicit(&sizes[i3], memory_order_relaxed);
}

bool lt_table_remove(uintptr_t addr, struct lt_table_entry *old)
{
	if (LT_LIKELY(radix_key(addr) && l1)) {
		struct leaf *leaf = radix_leaf(addr, false);
		unsigned i3 = slot_index(addr);
		uint32_t v = leaf ? atomic_load_explicit(&leaf->meta[i3], memory_order_acquire) : 0;
		if (LT_LIKELY(slot_is(v, addr))) {
			/* A free wants nothing back: the size, which may take
			 * a read of the block's header, is left unread. */
			if (old) {
				old->size = size_at(leaf, i3, addr, v);
				old->stack_id = stack_id_of(v);
			}
			atomic_store_explicit(&leaf->meta[i3], 0, memory_order_relaxed);
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
#define LINE_SLOTS 16

static inline bool line_empty(meta_t *line)
{
	uint32_t any = 0;
	for (unsigned k = 0; k < LINE_SLOTS; k++)
		any |= atomic_load_explicit(&line[k], memory_order_relaxed);
	return any == 0;
}

static void visit_leaf(struct leaf *leaf, uintptr_t base, lt_table_visit_fn fn, void *ctx)
{
	for (unsigned line = 0; line < LEAF_SLOTS; line += LINE_SLOTS) {
		if (line_empty(&leaf->meta[line]))
			continue;
		for (unsigned i3 = line; i3 < line + LINE_SLOTS; i3++) {
			uint32_t v = atomic_load_explicit(&leaf->meta[i3], memory_order_acquire);
			if (!(v >> ID_SHIFT))
				continue;   /* empty, or being recorded */
			uintptr_t addr = base | ((uintptr_t)i3 << GRANULE_BITS) | ((uintptr_t)(v & 1) << 4);
			struct lt_table_entry e = { .size = size_at(leaf, i3, addr, v),
						    .stack_id = stack_id_of(v) };
			fn(addr, &e, ctx);
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
			struct leaf *leaf = atomic_load_explicit(&l2[i2], memory_order_acquire);
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
