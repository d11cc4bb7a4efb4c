/* Per-thread state: the re-entrancy depth and the allocation counters.
 * Context: HOT (counter slot lookup) and cold (claim, release, totals).
 * Counters live in slots of a mapping of ours, one cache line per thread, so
 * the hot path increments plain memory; a slot is released at thread exit
 * and its counts stay in the totals. */
#define _GNU_SOURCE
#include <pthread.h>

#include "preload-private.h"

LT_TLS struct lt_thread lt_self;

#define MAX_SLOTS (1u << 20)

static struct lt_counter_slot *slots;
static _Atomic unsigned slots_used;   /* high-water mark */
static _Atomic unsigned claim_hint;
static pthread_key_t release_key;
static _Atomic bool key_ready;
/* Shared by threads that found no slot (a million live threads). */
static struct lt_counter_slot overflow_slot;

static void release_slot(void *slot)
{
	struct lt_counter_slot *s = slot;
	if (s && s != &overflow_slot) {
		lt_self.counters = NULL;
		atomic_store_explicit(&s->owner, 0, memory_order_release);
	}
}

void lt_thread_init(void)
{
	if (!slots)
		slots = lt_os_map(sizeof(*slots) * MAX_SLOTS);
	if (!atomic_load(&key_ready) && pthread_key_create(&release_key, release_slot) == 0)
		atomic_store(&key_ready, true);
}

static struct lt_counter_slot *claim(void)
{
	unsigned used = atomic_load(&slots_used);
	unsigned start = atomic_load_explicit(&claim_hint, memory_order_relaxed);
	/* Reuse a released slot first, so thread storms stay bounded. */
	for (unsigned i = 0; i < used; i++) {
		unsigned k = (start + i) % used;
		unsigned zero = 0;
		if (atomic_load_explicit(&slots[k].owner, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong(&slots[k].owner, &zero, 1)) {
			atomic_store_explicit(&claim_hint, k + 1, memory_order_relaxed);
			return &slots[k];
		}
	}
	unsigned k = atomic_fetch_add(&slots_used, 1);
	if (k >= MAX_SLOTS) {
		atomic_store(&slots_used, MAX_SLOTS);
		return NULL;
	}
	atomic_store(&slots[k].owner, 1);
	return &slots[k];
}

struct lt_counter_slot *lt_thread_counters_slow(struct lt_thread *t)
{
	struct lt_counter_slot *s = slots ? claim() : NULL;
	if (!s)
		return &overflow_slot;
	t->counters = s;
	if (atomic_load(&key_ready))
		pthread_setspecific(release_key, s);
	return s;
}

void lt_counters_total(struct lt_snap_totals *out)
{
	unsigned used = atomic_load(&slots_used);
	out->allocs = overflow_slot.allocs;
	out->frees = overflow_slot.frees;
	out->bytes_allocated = overflow_slot.bytes;
	for (unsigned i = 0; slots && i < used && i < MAX_SLOTS; i++) {
		out->allocs += slots[i].allocs;
		out->frees += slots[i].frees;
		out->bytes_allocated += slots[i].bytes;
	}
}
