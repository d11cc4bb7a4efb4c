/* The reachability scan: which live blocks are still reachable, possibly
 * lost, definitely lost or indirectly lost, decided the way valgrind's
 * memcheck decides (see docs in README "The four kinds").
 * Context: cold, on the reporting thread, with every other thread parked
 * (stw.c). Never allocates from the program's allocator and takes no lock:
 * a parked thread may hold any of them. All memory comes from mappings of
 * ours and is released at the end.
 *
 * Cost: blocks come out of the radix table in address order (sorting is
 * needed only for side-table blocks); each scanned word costs one range
 * check and, when it points into the heap, one binary search. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"
#include "mappings.h"
#include "preload-private.h"
#include "scan.h"
#include "stw.h"

enum state { UNREACHED, INDIRECT, POSSIBLE, REACHABLE };

/* Below the stack pointer, the x86-64 ABI lets leaf functions use 128
 * bytes that are still live. */
#define RED_ZONE 128
/* glibc places struct pthread at the very top of a thread's stack
 * mapping; its first word and its third point to itself. */
#define TCB_SEARCH 16384
/* An arena heap of glibc's malloc is aligned to HEAP_MAX_SIZE. */
#define ARENA_ALIGN (64ul << 20)
#define READ_CHUNK (1 << 20)

/* Block lookup: most pointers point to a block's start, found in one
 * probe of a hash of the starts. Others take two binary searches, each
 * over memory that stays in cache: every SAMPLE_STRIDE-th start address,
 * then the compact array of start addresses between two samples. */
#define SAMPLE_STRIDE 64

struct start_slot {
	uintptr_t addr;           /* 0: empty */
	uint64_t index;
};

struct scan {
	struct lt_scan_block *b;
	size_t n;
	uintptr_t lo, hi;         /* first block start, last block end */
	uintptr_t *starts;        /* b[i].addr, compact */
	uintptr_t *samples;       /* starts[k * SAMPLE_STRIDE] */
	size_t nsamples, index_size;
	struct start_slot *by_start;
	size_t start_mask, by_start_size;
	/* The block the last lookup found: the words of a block often point
	 * into one neighbour (a collector's page of objects into itself). */
	uintptr_t last_addr, last_span;
	long last_index;
	/* Where blocks are, coarsely: [lo, hi) pairs of blocks less than
	 * OCCUPIED_GAP apart, sorted. Most words that are not pointers to
	 * blocks (into libraries, stacks, or not addresses at all) fall
	 * outside every pair and cost a search of a few cache lines instead
	 * of one over every block. */
	uintptr_t (*occupied)[2];
	size_t noccupied, occupied_size;
	/* Before that search, one bit per hashed 64 KiB of address space,
	 * set where a pair reaches: a clear bit is no block's. It fits the
	 * first-level cache, where the pairs of a large heap do not. */
	uint64_t *chunk_filter;
	/* By the same hash: the index + 1 of a block that covers a whole
	 * chunk (a collector's pages, a large array), 0 when none. A word
	 * into such a block, the bulk of what a collector's pages hold,
	 * then finds it without a search. A hint: checked against the
	 * block, whichever chunk put it there. */
	uint32_t *big_blocks;
	uint32_t *stack;
	size_t top;
	struct lt_maps maps;
	int mem_fd;               /* /proc/self/mem: reads that cannot fault */
	char *buf;
	bool root_is_libc;
	struct lt_scan_result *out;
	const struct lt_world *w;
	uintptr_t self_sp;
};

/* ---- the blocks ---- */

static inline size_t start_hash(uintptr_t addr, size_t mask)
{
	return (size_t)(((addr >> 4) * 0x9e3779b97f4a7c15ull) >> 20) & mask;
}


struct collect_ctx {
	struct lt_scan_block *b;
	size_t n, cap;
};

static void count_block(uintptr_t addr, const struct lt_table_entry *e, void *ctx)
{
	(*(size_t *)ctx)++;
}

static void collect_block(uintptr_t addr, const struct lt_table_entry *e, void *ctx)
{
	struct collect_ctx *c = ctx;
	if (c->n == c->cap)
		return;
	struct lt_scan_block *b = &c->b[c->n++];
	memset(b, 0, sizeof(*b));
	b->addr = addr;
	b->size = e->size;
	b->stack_id = lt_stack_id_of(e->stack_id);
	b->ignored = (e->stack_id & LT_STACK_IGNORED) != 0;
	b->parent = LT_NO_HEAD;
}

static void sift_down(struct lt_scan_block *b, size_t root, size_t n)
{
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && b[child + 1].addr > b[child].addr)
			child++;
		if (b[root].addr >= b[child].addr)
			return;
		struct lt_scan_block t = b[root];
		b[root] = b[child];
		b[child] = t;
		root = child;
	}
}

/* In-place heapsort: no memory beyond the array itself. */
static void sort_blocks(struct lt_scan_block *b, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(b, i, n);
	for (size_t end = n; end-- > 1;) {
		struct lt_scan_block t = b[0];
		b[0] = b[end];
		b[end] = t;
		sift_down(b, 0, end);
	}
}

/* Tracked mappings are blocks too (mappings.c): found from roots or not,
 * scanned when reached, classified by the same rules. */
static void count_mapping(const struct lt_mapping *m, void *ctx)
{
	(*(size_t *)ctx)++;
}

static void collect_mapping(const struct lt_mapping *m, void *ctx)
{
	struct collect_ctx *c = ctx;
	if (c->n == c->cap)
		return;
	struct lt_scan_block *b = &c->b[c->n++];
	memset(b, 0, sizeof(*b));
	b->addr = m->lo;
	b->size = m->hi - m->lo;
	b->stack_id = m->stack_id;
	b->parent = LT_NO_HEAD;
	b->map_type = m->type;
	b->map_path = m->path;
}

#define OCCUPIED_GAP (64u << 10)
#define CHUNK_SHIFT 16
#define FILTER_BITS 16
#define FILTER_SIZE ((1u << FILTER_BITS) / 8)

static inline unsigned filter_bit(uintptr_t chunk)
{
	return (unsigned)((chunk * 0x9e3779b97f4a7c15ull) >> (64 - FILTER_BITS));
}

#define BIG_SIZE ((1u << FILTER_BITS) * sizeof(uint32_t))

static void note_big_blocks(struct scan *s)
{
	s->big_blocks = lt_os_map(BIG_SIZE);
	for (size_t i = 0; s->big_blocks && i < s->n && i < UINT32_MAX; i++) {
		uintptr_t lo = s->b[i].addr, hi = lo + s->b[i].size;
		/* Blocks are sorted by address; one holding another's start
		 * is left to the searches, which find the inner one. */
		if (s->b[i].size < (2u << CHUNK_SHIFT) || (i + 1 < s->n && s->b[i + 1].addr < hi))
			continue;
		/* the chunks wholly inside the block (past 2^FILTER_BITS of
		 * them, every slot has been written) */
		uintptr_t first = (lo >> CHUNK_SHIFT) + 1, end = hi >> CHUNK_SHIFT;
		for (uintptr_t c = first; c < end && c - first < (1u << FILTER_BITS); c++)
			s->big_blocks[filter_bit(c)] = (uint32_t)i + 1;
	}
}

/* Marks the chunks the pairs reach; a heap too spread out for the filter
 * to tell anything marks all of them. */
static void fill_chunk_filter(struct scan *s)
{
	s->chunk_filter = lt_os_map(FILTER_SIZE);
	if (!s->chunk_filter)
		return;
	size_t marked = 0;
	for (size_t k = 0; k < s->noccupied; k++) {
		uintptr_t first = s->occupied[k][0] >> CHUNK_SHIFT;
		uintptr_t last = (s->occupied[k][1] - 1) >> CHUNK_SHIFT;
		for (uintptr_t c = first; c <= last; c++) {
			if (++marked > (1u << FILTER_BITS)) {
				memset(s->chunk_filter, 0xff, FILTER_SIZE);
				return;
			}
			unsigned b = filter_bit(c);
			s->chunk_filter[b / 64] |= 1ull << (b % 64);
		}
	}
}

/* An acceleration too: without memory, every word takes the full search. */
static void collect_occupied(struct scan *s)
{
	s->occupied_size = s->n * sizeof(*s->occupied);
	s->occupied = lt_os_map(s->occupied_size);
	if (!s->occupied)
		return;
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		uintptr_t lo = s->b[i].addr, hi = lo + (s->b[i].size ? s->b[i].size : 1);
		if (k && lo - s->occupied[k - 1][1] < OCCUPIED_GAP) {
			if (hi > s->occupied[k - 1][1])
				s->occupied[k - 1][1] = hi;
			continue;
		}
		s->occupied[k][0] = lo;
		s->occupied[k][1] = hi;
		k++;
	}
	s->noccupied = k;
	fill_chunk_filter(s);
	note_big_blocks(s);
}

/* How many bytes from addr on are readable, across adjacent readable
 * mappings. */
static uint64_t readable_from(const struct scan *s, uintptr_t addr)
{
	const struct lt_region *r = lt_maps_find(&s->maps, addr);
	if (!r)
		return 0;
	const struct lt_region *end = s->maps.regions + s->maps.count;
	uintptr_t hi = addr;
	for (; r < end && r->lo <= hi && r->readable && r->kind != LT_REGION_DEVICE; r++)
		hi = r->hi;
	return hi - addr;
}

/* The blocks are read in place: a size that overruns the readable memory
 * holding the block's start, or the next block, is no live block's (the
 * program overwrote the malloc header its size is derived from, or it
 * took the block's pages away) and is cut there, so the scan never faults. */
static void keep_blocks_readable(struct scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct lt_scan_block *b = &s->b[i];
		if (b->map_type || !b->size)
			continue;
		uint64_t room = readable_from(s, b->addr);
		if (i + 1 < s->n && s->b[i + 1].addr - b->addr < room)
			room = s->b[i + 1].addr - b->addr;
		if (b->size > room)
			b->size = room;
	}
}

static int collect_blocks(struct scan *s)
{
	size_t count = 0;
	lt_table_foreach(count_block, &count);
	lt_mappings_foreach(count_mapping, &count);
	/* Slack for threads that did not stop and keep allocating. */
	size_t cap = count + count / 16 + 1024;
	s->out->blocks_size = cap * sizeof(struct lt_scan_block);
	s->b = lt_os_map(s->out->blocks_size);
	if (!s->b)
		return -ENOMEM;
	struct collect_ctx c = { .b = s->b, .cap = cap };
	lt_table_foreach(collect_block, &c);
	lt_mappings_foreach(collect_mapping, &c);
	s->n = c.n;
	for (size_t i = 1; i < s->n; i++)
		if (s->b[i].addr <= s->b[i - 1].addr) {
			sort_blocks(s->b, s->n);
			break;
		}
	if (!s->n)
		return 0;
	s->lo = s->b[0].addr;
	s->nsamples = (s->n + SAMPLE_STRIDE - 1) / SAMPLE_STRIDE;
	s->index_size = (s->n + s->nsamples) * sizeof(uintptr_t);
	s->starts = lt_os_map(s->index_size);
	if (!s->starts)
		return -ENOMEM;
	s->samples = s->starts + s->n;
	for (size_t i = 0; i < s->n; i++) {
		uintptr_t end = s->b[i].addr + (s->b[i].size ? s->b[i].size : 1);
		if (end > s->hi)
			s->hi = end;
		s->starts[i] = s->b[i].addr;
		if (i % SAMPLE_STRIDE == 0)
			s->samples[i / SAMPLE_STRIDE] = s->b[i].addr;
	}
	collect_occupied(s);
	/* The hash is an acceleration: without memory for it, lookups
	 * take the binary searches alone. */
	size_t slots = 1024;
	while (slots < 2 * s->n)
		slots *= 2;
	s->by_start_size = slots * sizeof(struct start_slot);
	s->by_start = lt_os_map(s->by_start_size);
	s->start_mask = slots - 1;
	for (size_t i = 0; s->by_start && i < s->n; i++) {
		size_t h = start_hash(s->b[i].addr, s->start_mask);
		while (s->by_start[h].addr)
			h = (h + 1) & s->start_mask;
		s->by_start[h].addr = s->b[i].addr;
		s->by_start[h].index = i;
	}
	return 0;
}

/* The block containing v (a zero-sized block contains only its own
 * address, as in valgrind), or -1. */
static inline size_t last_at_or_below(const uintptr_t *a, size_t lo, size_t hi, uintptr_t v)
{
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (a[mid] <= v)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static inline long find_block_uncached(const struct scan *s, uintptr_t v)
{
	if (s->by_start) {
		for (size_t h = start_hash(v, s->start_mask);; h = (h + 1) & s->start_mask) {
			const struct start_slot *e = &s->by_start[h];
			if (e->addr == v)
				return (long)e->index;
			if (!e->addr)
				break;
		}
	}
	size_t k = last_at_or_below(s->samples, 0, s->nsamples, v);
	size_t from = k * SAMPLE_STRIDE;
	size_t to = from + SAMPLE_STRIDE < s->n ? from + SAMPLE_STRIDE : s->n;
	size_t lo = last_at_or_below(s->starts, from, to, v);
	const struct lt_scan_block *b = &s->b[lo];
	if (v >= b->addr && v < b->addr + (b->size ? b->size : 1))
		return (long)lo;
	return -1;
}

static inline bool maybe_occupied(const struct scan *s, uintptr_t v)
{
	if (!s->occupied)
		return true;
	if (s->chunk_filter) {
		unsigned b = filter_bit(v >> CHUNK_SHIFT);
		if (!((s->chunk_filter[b / 64] >> (b % 64)) & 1))
			return false;
	}
	size_t lo = 0, n = s->noccupied;
	while (n > 1) {
		size_t half = n / 2;
		lo = s->occupied[lo + half][0] <= v ? lo + half : lo;
		n -= half;
	}
	return v >= s->occupied[lo][0] && v < s->occupied[lo][1];
}

static inline long find_block(struct scan *s, uintptr_t v)
{
	if (v < s->lo || v >= s->hi)
		return -1;
	if (v - s->last_addr < s->last_span)
		return s->last_index;
	long i = -1;
	uint32_t big = s->big_blocks ? s->big_blocks[filter_bit(v >> CHUNK_SHIFT)] : 0;
	if (big && v - s->b[big - 1].addr < s->b[big - 1].size)
		i = big - 1;
	else if (maybe_occupied(s, v))
		i = find_block_uncached(s, v);
	if (i >= 0) {
		s->last_addr = s->b[i].addr;
		s->last_span = s->b[i].size ? s->b[i].size : 1;
		s->last_index = i;
	}
	return i;
}

/* ---- interior-pointer heuristics, as valgrind's defaults ---- */

static bool in_file_mapping(const struct scan *s, uintptr_t p, bool want_exec)
{
	const struct lt_region *r = lt_maps_find(&s->maps, p);
	return r && r->kind == LT_REGION_FILE && r->readable &&
	       (!want_exec || r->executable);
}

/* A vtable: in a readable file mapping, whose first non-null entries (two
 * among the first twenty words) point to code. */
static bool looks_like_vtable(const struct scan *s, uintptr_t p)
{
	const struct lt_region *r = lt_maps_find(&s->maps, p);
	if (!r || r->kind != LT_REGION_FILE || !r->readable)
		return false;
	uintptr_t end = p + 20 * sizeof(uintptr_t);
	if (end > r->hi - sizeof(uintptr_t))
		end = r->hi - sizeof(uintptr_t);
	unsigned found = 0;
	for (uintptr_t q = p; q <= end; q += sizeof(uintptr_t)) {
		uintptr_t fn = *(const uintptr_t *)q;
		if (!fn)
			continue;
		if (!in_file_mapping(s, fn, true))
			return false;
		if (++found == 2)
			return true;
	}
	return false;
}

static enum lt_heuristic heuristic_for(const struct scan *s, uintptr_t v,
				       const struct lt_scan_block *b)
{
	const uintptr_t *w = (const uintptr_t *)b->addr;
	const uint64_t word = sizeof(uintptr_t);

	/* stdstring: pre-C++11 libstdc++ string rep:
	 * length, capacity, refcount, chars, NUL. */
	if (v == b->addr + 3 * word && b->size >= 3 * word) {
		uint64_t capacity = w[1];
		if (3 * word + capacity + 1 == b->size && w[0] <= capacity)
			return LT_HEUR_STDSTRING;
	}
	/* length64: the block's remaining size stored in its first word. */
	if (v == b->addr + word && b->size >= word) {
		if (w[0] > 0 && b->size - word == w[0])
			return LT_HEUR_LENGTH64;
	}
	/* newarray: new[] of objects with destructors: element count first. */
	if (v == b->addr + word && b->size >= word) {
		if (w[0] > 0 && (b->size - word) % w[0] == 0)
			return LT_HEUR_NEWARRAY;
	}
	/* multipleinheritance: a second base's vtable pointer inside the
	 * object, and a vtable pointer at its start. */
	if ((v & (word - 1)) == 0 && v + word <= b->addr + b->size && b->size >= word) {
		uintptr_t inner = *(const uintptr_t *)v;
		uintptr_t first = w[0];
		if ((inner & (word - 1)) == 0 && inner >= 4096 &&
		    (first & (word - 1)) == 0 && first >= 4096 &&
		    looks_like_vtable(s, inner) && looks_like_vtable(s, first))
			return LT_HEUR_MULTIPLEINHERITANCE;
	}
	return LT_HEUR_NONE;
}

/* ---- marking ---- */

static inline void push(struct scan *s, uint32_t i)
{
	s->stack[s->top++] = i;
}

/* glibc's malloc keeps the addresses of free chunks in its arena state in
 * libc's data; such an address is the header of the chunk after a live
 * block, i.e. 8 bytes before that block's usable end. valgrind's
 * allocator state is not in the program's memory, so these are no
 * pointers of the program. */
static bool is_chunk_header_of_next(const struct lt_scan_block *b, uintptr_t v)
{
	uint64_t usable;
	/* read from the header with bounds, not with malloc_usable_size,
	 * which follows a header the program may have overwritten */
	if (!lt_table_chunk_usable(b->addr, &usable))
		return false;
	return usable >= 8 && v == b->addr + usable - 8;
}

static void mark_from(struct scan *s, uintptr_t v, bool prior_definite)
{
	long i = find_block(s, v);
	if (i < 0)
		return;
	struct lt_scan_block *b = &s->b[i];
	if (b->state == REACHABLE) {
		if (b->heuristic && v == b->addr)
			b->heuristic = LT_HEUR_NONE;
		return;
	}
	enum state via;
	if (v == b->addr) {
		via = REACHABLE;
	} else if (b->map_type) {
		/* valgrind's heuristics describe heap objects; reading a
		 * mapping's first words could also fault. */
		via = POSSIBLE;
	} else {
		if (s->root_is_libc && is_chunk_header_of_next(b, v))
			return;
		b->heuristic = heuristic_for(s, v, b);
		via = b->heuristic ? REACHABLE : POSSIBLE;
	}
	if (via == REACHABLE && prior_definite) {
		b->state = REACHABLE;
		push(s, (uint32_t)i);
	} else if (b->state == UNREACHED) {
		b->state = POSSIBLE;
		push(s, (uint32_t)i);
	}
}

static void gather_into_clique(struct scan *s, uintptr_t v, uint32_t leader, uint32_t parent)
{
	long i = find_block(s, v);
	if (i < 0 || (uint32_t)i == leader)
		return;
	struct lt_scan_block *b = &s->b[i];
	if (b->state != UNREACHED)
		return;
	push(s, (uint32_t)i);
	/* A former leader joins with everything it had gathered. */
	s->b[leader].indirect_bytes += b->size + b->indirect_bytes;
	b->state = INDIRECT;
	b->parent = parent;
}

static void scan_words(struct scan *s, const uintptr_t *w, size_t nwords,
		       bool prior_definite)
{
	for (size_t k = 0; k < nwords; k++)
		mark_from(s, w[k], prior_definite);
}

static void scan_mapping(struct scan *s, uint32_t i, long leader);

static void drain(struct scan *s, long leader)
{
	while (s->top) {
		uint32_t i = s->stack[--s->top];
		const struct lt_scan_block *b = &s->b[i];
		if (b->map_type) {
			scan_mapping(s, i, leader);
			continue;
		}
		const uintptr_t *w = (const uintptr_t *)((b->addr + 7) & ~(uintptr_t)7);
		size_t nwords = (b->addr + b->size - (uintptr_t)w) / sizeof(uintptr_t);
		if (b->size < 8)
			nwords = 0;
		if (leader < 0) {
			scan_words(s, w, nwords, b->state != POSSIBLE);
		} else {
			for (size_t k = 0; k < nwords; k++)
				gather_into_clique(s, w[k], (uint32_t)leader, i);
		}
		s->out->scanned_bytes += b->size;
	}
}

/* ---- roots ---- */

/* Scans [lo, hi) of the program's memory, read through /proc/self/mem so
 * that a page that vanished or a file mapping past its end cannot fault. */
static void scan_root_range(struct scan *s, uintptr_t lo, uintptr_t hi)
{
	lo = (lo + 7) & ~(uintptr_t)7;
	hi &= ~(uintptr_t)7;
	while (lo < hi) {
		size_t len = hi - lo < READ_CHUNK ? hi - lo : READ_CHUNK;
		ssize_t got;
		if (s->mem_fd >= 0) {
			got = pread(s->mem_fd, s->buf, len, (off_t)lo);
			if (got <= 0) {
				/* unreadable page: skip it */
				lo = (lo + 4096) & ~(uintptr_t)4095;
				continue;
			}
			scan_words(s, (const uintptr_t *)s->buf, (size_t)got / 8, true);
		} else {
			got = (ssize_t)len;
			scan_words(s, (const uintptr_t *)lo, len / 8, true);
		}
		s->out->root_bytes += (uint64_t)got;
		lo += (uintptr_t)got;
	}
}

struct carve {
	struct scan *s;
	uintptr_t lo, hi;
	uintptr_t holes[64][2];
	unsigned nholes;
};

static void note_hole(uintptr_t lo, uintptr_t hi, void *ctx)
{
	struct carve *c = ctx;
	if (hi <= c->lo || lo >= c->hi || c->nholes == 64)
		return;
	c->holes[c->nholes][0] = lo;
	c->holes[c->nholes][1] = hi;
	c->nholes++;
}

/* Scans [lo, hi) minus our own mappings and data, which are never roots. */
static void scan_root_unowned(struct scan *s, uintptr_t lo, uintptr_t hi)
{
	struct carve c = { .s = s, .lo = lo, .hi = hi };
	lt_own_ranges_foreach(note_hole, &c);
	note_hole(lt_self_data_lo, lt_self_data_hi, &c);
	while (lo < hi) {
		uintptr_t next_hole = hi, hole_end = hi;
		for (unsigned k = 0; k < c.nholes; k++)
			if (c.holes[k][1] > lo && c.holes[k][0] < next_hole) {
				next_hole = c.holes[k][0] > lo ? c.holes[k][0] : lo;
				hole_end = c.holes[k][1];
			}
		if (next_hole > lo)
			scan_root_range(s, lo, next_hole);
		lo = hole_end;
	}
}

/* ---- tracked mappings ---- */

/* The first block that ends after addr (blocks do not overlap). */
static size_t first_block_ending_after(const struct scan *s, uintptr_t addr)
{
	size_t a = 0, b = s->n;
	while (a < b) {
		size_t mid = (a + b) / 2;
		if (s->b[mid].addr + s->b[mid].size <= addr)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

/* A mapping the program made to run a thread on (its own stacks, a
 * coroutine's): in use whatever points to it, and a root like any stack. */
static bool holds_live_stack(const struct scan *s, const struct lt_scan_block *b)
{
	uintptr_t end = b->addr + b->size;
	if (s->self_sp >= b->addr && s->self_sp < end)
		return true;
	for (unsigned i = 0; i < s->w->count; i++) {
		const struct lt_stopped_thread *t = &s->w->threads[i];
		if (t->state == LT_THREAD_PARKED && t->sp >= b->addr && t->sp < end)
			return true;
	}
	return false;
}

/* Scans the root [lo, hi) minus the tracked mappings in it: those are
 * blocks, found from the roots or not (with track_mmap=no there are none,
 * and every mapping of the program is a root, as in valgrind). */
static void scan_root(struct scan *s, uintptr_t lo, uintptr_t hi)
{
	for (size_t i = first_block_ending_after(s, lo); i < s->n && lo < hi; i++) {
		struct lt_scan_block *b = &s->b[i];
		if (b->addr >= hi)
			break;
		if (!b->map_type)
			continue;
		if (holds_live_stack(s, b)) {
			b->state = REACHABLE;
			continue;
		}
		if (b->addr > lo)
			scan_root_unowned(s, lo, b->addr);
		lo = b->addr + b->size;
	}
	if (lo < hi)
		scan_root_unowned(s, lo, hi);
}

/* Calls back for the words of the readable part of [lo, hi) that is not
 * a device: through /proc/self/mem, so that a file page beyond the end of
 * its file or a page unmapped meanwhile cannot fault; pages that are not
 * readable (PROT_NONE, guard areas) are never read. */
static void scan_mapping_range(struct scan *s, uintptr_t lo, uintptr_t hi, uint32_t i,
			       long leader)
{
	while (lo < hi) {
		size_t len = hi - lo < READ_CHUNK ? hi - lo : READ_CHUNK;
		ssize_t got = pread(s->mem_fd, s->buf, len, (off_t)lo);
		if (got <= 0) {
			lo = (lo + 4096) & ~(uintptr_t)4095;
			continue;
		}
		const uintptr_t *w = (const uintptr_t *)s->buf;
		size_t nwords = (size_t)got / sizeof(uintptr_t);
		if (leader < 0) {
			scan_words(s, w, nwords, s->b[i].state != POSSIBLE);
		} else {
			for (size_t k = 0; k < nwords; k++)
				gather_into_clique(s, w[k], (uint32_t)leader, i);
		}
		lo += (uintptr_t)got;
	}
}

static void scan_mapping(struct scan *s, uint32_t i, long leader)
{
	const struct lt_scan_block *b = &s->b[i];
	uintptr_t lo = b->addr, hi = b->addr + b->size;
	s->out->scanned_bytes += b->size;
	if (s->mem_fd < 0)
		return;
	for (size_t k = 0; k < s->maps.count && lo < hi; k++) {
		const struct lt_region *r = &s->maps.regions[k];
		if (r->hi <= lo)
			continue;
		if (r->lo >= hi)
			break;
		uintptr_t from = r->lo > lo ? r->lo : lo, to = r->hi < hi ? r->hi : hi;
		if (r->readable && r->kind != LT_REGION_DEVICE)
			scan_mapping_range(s, from, to, i, leader);
		lo = to;
	}
}

/* glibc maps a thread's stack with an inaccessible guard right below it. */
static bool is_guard_below(const struct lt_region *below, const struct lt_region *r)
{
	return below->hi == r->lo && !below->readable && !below->writable &&
	       !below->executable && below->kind == LT_REGION_ANON;
}

/* The thread descriptor in the top of a mapping, if it holds one. */
static uintptr_t find_tcb(struct scan *s, const struct lt_region *r)
{
	uintptr_t from = r->hi - TCB_SEARCH > r->lo ? r->hi - TCB_SEARCH : r->lo;
	if (s->mem_fd < 0 || pread(s->mem_fd, s->buf, r->hi - from, (off_t)from) !=
	    (ssize_t)(r->hi - from))
		return 0;
	for (uintptr_t a = from; a + 24 <= r->hi; a += 64) {
		const uintptr_t *w = (const uintptr_t *)(s->buf + (a - from));
		if (w[0] == a && w[2] == a)
			return a;
	}
	return 0;
}

/* A thread that exited leaves its thread vector (DTV) allocated, pointed
 * to from its descriptor in the cached stack; glibc frees it at exit under
 * valgrind, so it is libc's bookkeeping, not a leak of the program. The
 * descriptor's second word points one entry (16 bytes) into the vector. */
static void keep_dtv_of_dead_thread(struct scan *s, uintptr_t tcb)
{
	uintptr_t dtv_plus_one;
	if (s->mem_fd < 0 || pread(s->mem_fd, &dtv_plus_one, sizeof(dtv_plus_one),
				   (off_t)(tcb + sizeof(uintptr_t))) != sizeof(dtv_plus_one))
		return;
	if (dtv_plus_one >= 16)
		mark_from(s, dtv_plus_one - 16, true);
}

static bool is_live_tcb(const struct lt_world *w, uintptr_t tcb)
{
	if (tcb == w->self_tcb)
		return true;
	for (unsigned i = 0; i < w->count; i++)
		if (w->threads[i].state == LT_THREAD_PARKED && w->threads[i].tcb == tcb)
			return true;
	return false;
}

static bool holds_live_block(const struct scan *s, uintptr_t lo, uintptr_t hi)
{
	size_t a = 0, b = s->n;
	while (a < b) {
		size_t mid = (a + b) / 2;
		if (s->b[mid].addr < lo)
			a = mid + 1;
		else
			b = mid;
	}
	while (a < s->n && s->b[a].addr < hi && s->b[a].map_type)
		a++;     /* a tracked mapping is no allocator memory */
	return a < s->n && s->b[a].addr < hi;
}

/* Memory of the allocator: the brk heap, a mapping that holds a live
 * block (an mmap'ed chunk), or an arena heap that ever held blocks. */
static bool is_allocator_memory(const struct scan *s, const struct lt_region *r)
{
	if (r->kind == LT_REGION_HEAP)
		return true;
	if (r->kind != LT_REGION_ANON)
		return false;
	if (holds_live_block(s, r->lo, r->hi))
		return true;
	return (r->lo & (ARENA_ALIGN - 1)) == 0 && lt_table_has_leaf_in(r->lo, r->hi);
}

/* Lowest live address of the stack in r, if a live thread's stack pointer
 * is in r; else 0. */
static uintptr_t live_stack_start(const struct lt_world *w, const struct lt_region *r,
				  uintptr_t self_sp)
{
	uintptr_t start = 0;
	if (self_sp >= r->lo && self_sp < r->hi)
		start = self_sp;
	for (unsigned i = 0; i < w->count; i++) {
		const struct lt_stopped_thread *t = &w->threads[i];
		if (t->state != LT_THREAD_PARKED || t->sp < r->lo || t->sp >= r->hi)
			continue;
		uintptr_t sp = t->sp - RED_ZONE > r->lo ? t->sp - RED_ZONE : r->lo;
		if (!start || sp < start)
			start = sp;
	}
	return start;
}

static void scan_roots(struct scan *s, const struct lt_world *w, uintptr_t self_sp)
{
	for (size_t k = 0; k < s->maps.count; k++) {
		const struct lt_region *r = &s->maps.regions[k];
		if (!r->readable || !r->writable)
			continue;
		if (r->kind == LT_REGION_DEVICE || r->kind == LT_REGION_SPECIAL)
			continue;
		if (is_allocator_memory(s, r))
			continue;
		uintptr_t start = live_stack_start(w, r, self_sp);
		if (start) {
			s->root_is_libc = false;
			scan_root(s, start, r->hi);
			continue;
		}
		if (r->kind == LT_REGION_STACK && !w->unstopped)
			continue;  /* the main stack, its thread gone */
		if (r->kind == LT_REGION_ANON && k > 0 && is_guard_below(&s->maps.regions[k - 1], r)) {
			uintptr_t tcb = find_tcb(s, r);
			/* The stack of a thread that exited, cached by glibc:
			 * not a root, unless some thread could not be stopped
			 * and this might be its stack. (The main thread's
			 * descriptor lives in memory of the loader's, with no
			 * guard page: that memory stays a root.) */
			if (tcb && !is_live_tcb(w, tcb) && !w->unstopped) {
				if (lt_threadreg_is_reaped(tcb)) {
					keep_dtv_of_dead_thread(s, tcb);
				} else {
					/* Exited, not joined: its TLS and descriptor
					 * are still the program's; its stack is dead. */
					size_t tls = lt_static_tls_size();
					uintptr_t from = tcb - tls > r->lo && tls ? tcb - tls : tcb;
					s->root_is_libc = false;
					scan_root(s, from, r->hi);
				}
				continue;
			}
		}
		const char *base = strrchr(r->path, '/');
		s->root_is_libc = base && strncmp(base, "/libc.so", 8) == 0;
		scan_root(s, r->lo, r->hi);
	}
	s->root_is_libc = false;
	/* The saved registers of every parked thread. */
	for (unsigned i = 0; i < w->count; i++) {
		const struct lt_stopped_thread *t = &w->threads[i];
		if (t->state == LT_THREAD_PARKED)
			scan_words(s, (const uintptr_t *)t->regs, NGREG, true);
	}
}

/* ---- roots the program named (api.c, roots.c) ---- */

/* A registered range is scanned where it is readable, as LSan does; it
 * may lie anywhere, heap and read-only mappings included. */
static void scan_registered_range(uintptr_t lo, uintptr_t hi, void *ctx)
{
	struct scan *s = ctx;
	for (size_t k = 0; k < s->maps.count; k++) {
		const struct lt_region *r = &s->maps.regions[k];
		uintptr_t a = r->lo > lo ? r->lo : lo, b = r->hi < hi ? r->hi : hi;
		if (r->readable && a < b)
			scan_root(s, a, b);
	}
}

/* Ignored blocks are live by the program's word: they are reachable, and
 * so is what they point to. */
static void scan_program_roots(struct scan *s)
{
	s->root_is_libc = false;
	lt_roots_foreach(scan_registered_range, s);
	for (size_t i = 0; i < s->n; i++) {
		struct lt_scan_block *b = &s->b[i];
		if (!b->ignored || b->state == REACHABLE)
			continue;
		b->state = REACHABLE;
		b->heuristic = LT_HEUR_NONE;
		push(s, (uint32_t)i);
	}
}

/* ---- classification ---- */

static void gather_cliques(struct scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->b[i].state != UNREACHED)
			continue;
		push(s, (uint32_t)i);
		drain(s, (long)i);
	}
}

static uint8_t kind_of(enum state st)
{
	switch (st) {
	case REACHABLE: return LT_KIND_REACHABLE;
	case POSSIBLE: return LT_KIND_POSSIBLE;
	case INDIRECT: return LT_KIND_INDIRECT;
	default: return LT_KIND_DEFINITE;
	}
}

/* The snapshot lists heap blocks and mappings apart, each with heads
 * among its own sort: a parent's index becomes its rank in its sort, and a
 * parent of the other sort is not said (the marking stack, free again,
 * holds the ranks). */
static void number_parents_by_sort(struct scan *s)
{
	size_t heap = 0, maps = 0;
	for (size_t i = 0; i < s->n; i++)
		s->stack[i] = s->b[i].map_type ? (uint32_t)maps++ : (uint32_t)heap++;
	s->out->mappings = maps;
	for (size_t i = 0; i < s->n; i++) {
		uint32_t p = s->b[i].parent;
		if (p == LT_NO_HEAD)
			continue;
		bool same = !s->b[p].map_type == !s->b[i].map_type;
		s->b[i].parent = same ? s->stack[p] : LT_NO_HEAD;
	}
}

int lt_scan_run(struct lt_scan_result *out, const struct lt_world *w, uintptr_t self_sp,
		const uintptr_t *self_regs)
{
	struct scan s = { .out = out, .mem_fd = -1, .w = w, .self_sp = self_sp };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = collect_blocks(&s);
	if (rc)
		return rc;
	out->blocks = s.b;
	out->count = s.n;
	out->unstopped = w->unstopped;
	out->incomplete = w->incomplete;
	s.stack = lt_os_map((2 * s.n + 16) * sizeof(uint32_t));
	s.buf = lt_os_map(READ_CHUNK);
	rc = lt_maps_read(&s.maps);
	if (!s.stack || !s.buf || rc) {
		rc = rc ? rc : -ENOMEM;
		goto out;
	}
	keep_blocks_readable(&s);
	s.mem_fd = lt_open_proc("mem", O_RDONLY | O_CLOEXEC);

	scan_roots(&s, w, self_sp);
	scan_program_roots(&s);
	if (self_regs)
		scan_words(&s, self_regs, NGREG, true);
	drain(&s, -1);
	gather_cliques(&s);
	for (size_t i = 0; i < s.n; i++) {
		s.b[i].kind = kind_of((enum state)s.b[i].state);
		if (s.b[i].kind != LT_KIND_INDIRECT)
			s.b[i].parent = LT_NO_HEAD;
	}
	number_parents_by_sort(&s);
	out->classified = true;
out:
	if (s.mem_fd >= 0)
		close(s.mem_fd);
	lt_maps_release(&s.maps);
	if (s.stack)
		lt_os_unmap(s.stack, (2 * s.n + 16) * sizeof(uint32_t));
	if (s.buf)
		lt_os_unmap(s.buf, READ_CHUNK);
	if (s.starts)
		lt_os_unmap(s.starts, s.index_size);
	if (s.by_start)
		lt_os_unmap(s.by_start, s.by_start_size);
	if (s.occupied)
		lt_os_unmap(s.occupied, s.occupied_size);
	if (s.chunk_filter)
		lt_os_unmap(s.chunk_filter, FILTER_SIZE);
	if (s.big_blocks)
		lt_os_unmap(s.big_blocks, BIG_SIZE);
	return rc;
}

void lt_scan_release(struct lt_scan_result *out)
{
	if (out->blocks)
		lt_os_unmap(out->blocks, out->blocks_size);
	memset(out, 0, sizeof(*out));
}
