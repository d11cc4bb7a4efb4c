/* The stack depot: every distinct backtrace stored once, named by a 32-bit
 * id. Context: HOT. Insert-only and lock-free: buckets are singly linked
 * lists whose heads are swapped in with compare-and-swap; nodes are never
 * removed, so readers need no protection. Node memory comes from the meta
 * arena. */
#include <string.h>

#include "preload-private.h"

#define BUCKET_BITS 18
#define BUCKETS (1u << BUCKET_BITS)

struct node {
	struct node *next;
	uint64_t hash;
	uint32_t id;
	uint32_t depth;
	uint32_t epoch;
	uint32_t pad_;
	uintptr_t frames[];
};

static _Atomic(struct node *) *buckets;
static _Atomic uint32_t next_id = 1;

void lt_depot_init(void)
{
	if (!buckets)
		buckets = lt_os_map(sizeof(*buckets) * BUCKETS);
}

static inline uint64_t hash_frames(const uintptr_t *frames, uint32_t depth)
{
	/* Multiply-xorshift over the words: cheap, and spreads the low bits
	 * that return addresses share. */
	uint64_t h = 0x9e3779b97f4a7c15ull ^ depth;
	for (uint32_t i = 0; i < depth; i++)
		h = (h ^ frames[i]) * 0xff51afd7ed558ccdull;
	/* the bucket comes from the top bits: fold the low ones in */
	return h ^ (h >> 29);
}

static inline bool same(const struct node *n, uint64_t hash,
			const uintptr_t *frames, uint32_t depth)
{
	if (n->hash != hash || n->depth != depth)
		return false;
	/* a dozen words: a loop costs less than the call to memcmp */
	for (uint32_t i = 0; i < depth; i++)
		if (n->frames[i] != frames[i])
			return false;
	return true;
}

/* Looks for the stack in the list from head down to (excluding) stop. */
static inline struct node *find(struct node *head, struct node *stop, uint64_t hash,
				const uintptr_t *frames, uint32_t depth)
{
	for (struct node *n = head; n && n != stop; n = n->next)
		if (same(n, hash, frames, depth))
			return n;
	return NULL;
}

static LT_NOINLINE uint32_t insert(_Atomic(struct node *) *bucket, struct node *head,
				   uint64_t hash, const uintptr_t *frames, uint32_t depth)
{
	struct node *n = lt_meta_alloc(sizeof(*n) + depth * sizeof(uintptr_t));
	if (!n)
		return 0;
	n->hash = hash;
	n->depth = depth;
	n->epoch = atomic_load_explicit(&lt_module_epoch, memory_order_relaxed);
	memcpy(n->frames, frames, depth * sizeof(uintptr_t));
	/* The id is taken before the node is visible, so nobody ever sees a
	 * node without one (a thread stopped mid-insert, or gone with a fork,
	 * cannot leave others waiting). A node that loses the race below
	 * leaves a gap in the ids; ids are unique, not dense. */
	n->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
	for (;;) {
		n->next = head;
		if (atomic_compare_exchange_weak_explicit(bucket, &head, n,
							  memory_order_acq_rel,
							  memory_order_acquire))
			break;
		/* Someone pushed first: they may have pushed this very stack.
		 * Our node stays unused in the arena. */
		struct node *dup = find(head, n->next, hash, frames, depth);
		if (dup)
			return dup->id;
	}
	return n->id;
}

uint32_t lt_depot_intern(const uintptr_t *frames, uint32_t depth)
{
	if (LT_UNLIKELY(!buckets))
		return 0;
	uint64_t hash = hash_frames(frames, depth);
	_Atomic(struct node *) *bucket = &buckets[hash >> (64 - BUCKET_BITS)];
	struct node *head = atomic_load_explicit(bucket, memory_order_acquire);
	struct node *hit = find(head, NULL, hash, frames, depth);
	if (LT_LIKELY(hit))
		return hit->id;
	return insert(bucket, head, hash, frames, depth);
}

void lt_depot_foreach(lt_depot_visit_fn fn, void *ctx)
{
	for (unsigned b = 0; buckets && b < BUCKETS; b++) {
		for (struct node *n = atomic_load_explicit(&buckets[b], memory_order_acquire);
		     n; n = n->next) {
			fn(n->id, n->epoch, n->frames, n->depth, ctx);
		}
	}
}
