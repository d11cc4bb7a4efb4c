/* Unit tests of the live table (preload/table.c), as plain code.
 * Includes a multi-threaded stress with cross-thread frees: every record
 * inserted is found exactly once and removed exactly once.
 * Blocks whose size the table derives from glibc's chunk headers come from
 * libc's own malloc, called directly: a sanitizer's allocator, which
 * replaces malloc in sanitized builds, has no such headers. Made-up
 * addresses are recorded as another allocator's (no header read). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "preload-private.h"

struct collected {
	uintptr_t addr[64];
	struct lt_table_entry e[64];
	size_t n;
	size_t total;
	uintptr_t last;
	bool ordered;
};

static void collect(uintptr_t addr, const struct lt_table_entry *e, void *ctx)
{
	struct collected *c = ctx;
	if (c->n < 64) {
		c->addr[c->n] = addr;
		c->e[c->n] = *e;
		c->n++;
	}
	if (c->total && addr <= c->last)
		c->ordered = false;
	c->last = addr;
	c->total++;
}

static size_t count_live(void)
{
	struct collected c = { .ordered = true };
	lt_table_foreach(collect, &c);
	return c.total;
}

/* libc's own allocator */
static void *(*libc_malloc)(size_t);
static void *(*libc_memalign)(size_t, size_t);
static void (*libc_free)(void *);
static size_t (*libc_usable_size)(void *);

static void resolve_libc(void)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(libc);
	libc_malloc = (void *(*)(size_t))dlsym(libc, "malloc");
	libc_memalign = (void *(*)(size_t, size_t))dlsym(libc, "memalign");
	libc_free = (void (*)(void *))dlsym(libc, "free");
	libc_usable_size = (size_t (*)(void *))dlsym(libc, "malloc_usable_size");
	assert_non_null(libc_usable_size);
	assert_non_null(libc_malloc);
	assert_non_null(libc_memalign);
	assert_non_null(libc_free);
}

static int setup(void **state)
{
	lt_table_init();
	lt_table_set_glibc_chunks(false);
	assert_int_equal(count_live(), 0);
	return 0;
}

static void test_insert_remove(void **state)
{
	struct lt_table_entry old;
	uintptr_t a = 0x55550000a010;
	assert_true(lt_table_insert(a, 24, 7));
	assert_true(lt_table_remove(a, &old));
	assert_int_equal(old.size, 24);
	assert_int_equal(old.stack_id, 7);
	assert_false(lt_table_remove(a, &old));
	assert_int_equal(count_live(), 0);
}

static void test_zero_size_block_is_kept(void **state)
{
	struct lt_table_entry old;
	uintptr_t a = 0x55550000b000;
	assert_true(lt_table_insert(a, 0, 1));
	assert_int_equal(count_live(), 1);
	assert_true(lt_table_remove(a, &old));
	assert_int_equal(old.size, 0);
	assert_int_equal(old.stack_id, 1);
}

static void test_foreach_in_address_order(void **state)
{
	uintptr_t addrs[] = { 0x7f0000100040, 0x55550000c000, 0x7f0000100010, 0x55550001c020 };
	struct collected c = { .ordered = true };
	struct lt_table_entry old;
	for (size_t i = 0; i < 4; i++)
		assert_true(lt_table_insert(addrs[i], 100 + i, (uint32_t)(i + 1)));
	lt_table_foreach(collect, &c);
	assert_int_equal(c.total, 4);
	assert_true(c.ordered);
	assert_int_equal(c.addr[0], 0x55550000c000);
	assert_int_equal(c.e[0].size, 101);
	assert_int_equal(c.addr[3], 0x7f0000100040);
	assert_int_equal(c.e[3].stack_id, 1);
	for (size_t i = 0; i < 4; i++)
		assert_true(lt_table_remove(addrs[i], &old));
}

static void test_side_table_for_odd_blocks(void **state)
{
	struct lt_table_entry old;
	uintptr_t unaligned = 0x555500010008;
	uintptr_t huge = 0x7f1000000010;
	uint64_t huge_size = 5ull << 30;
	assert_true(lt_table_insert(unaligned, 8, 3));
	assert_true(lt_table_insert(huge, huge_size, 4));
	assert_int_equal(count_live(), 2);
	assert_true(lt_table_remove(huge, &old));
	assert_int_equal(old.size, huge_size);
	assert_int_equal(old.stack_id, 4);
	assert_true(lt_table_remove(unaligned, &old));
	assert_int_equal(old.size, 8);
	assert_false(lt_table_remove(unaligned, &old));
	assert_int_equal(count_live(), 0);
}

/* glibc keeps blocks 32 bytes apart; an allocator that packs them 16
 * apart shares a granule between two blocks: the second goes to the side
 * table, and both are found again. */
static void test_blocks_16_bytes_apart(void **state)
{
	struct lt_table_entry old;
	uintptr_t a = 0x555500020000, b = a + 16, c = a + 32;
	assert_true(lt_table_insert(a, 16, 5));
	assert_true(lt_table_insert(b, 8, 6));
	assert_true(lt_table_insert(c, 24, 7));
	assert_int_equal(count_live(), 3);
	assert_true(lt_table_remove(b, &old));
	assert_int_equal(old.size, 8);
	assert_int_equal(old.stack_id, 6);
	assert_true(lt_table_remove(a, &old));
	assert_int_equal(old.stack_id, 5);
	assert_false(lt_table_remove(b, &old));
	/* the granule is free again: b now goes to the radix */
	assert_true(lt_table_insert(b, 9, 8));
	assert_true(lt_table_remove(b, &old));
	assert_int_equal(old.size, 9);
	assert_true(lt_table_remove(c, &old));
	assert_int_equal(old.stack_id, 7);
	assert_int_equal(count_live(), 0);
}

/* ---- stress ---- */

#define THREADS 8
#define ROUNDS 200
#define BATCH 512

struct mailbox {
	_Atomic(uintptr_t) slot[THREADS][BATCH];
};

static struct mailbox box;
static _Atomic uint64_t inserted, removed, remove_failures;

/* Each thread allocates real blocks (unique addresses), records them, and
 * posts half of them to the next thread, which removes and frees them:
 * frees cross threads the way a producer/consumer program's do. */
static void *stress_thread(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	unsigned next = (me + 1) % THREADS;
	void *mine[BATCH];

	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < BATCH; i++) {
			size_t size = 16 + (size_t)((i * 7 + round) % 200);
			mine[i] = libc_malloc(size);
			assert_true(lt_table_insert((uintptr_t)mine[i], size, me + 1));
			atomic_fetch_add(&inserted, 1);
		}
		for (int i = 0; i < BATCH; i++) {
			struct lt_table_entry old;
			if (i % 2) {
				/* hand over; take whatever the mailbox held before */
				uintptr_t prev = atomic_exchange(&box.slot[next][i], (uintptr_t)mine[i]);
				if (!prev)
					continue;
				mine[i] = (void *)prev;
			}
			if (lt_table_remove((uintptr_t)mine[i], &old))
				atomic_fetch_add(&removed, 1);
			else
				atomic_fetch_add(&remove_failures, 1);
			libc_free(mine[i]);
		}
	}
	return NULL;
}

/* The recorder looks the slot up before the stack walk and inserts into
 * it after: the same records as lt_table_insert, a taken granule included
 * (to the side table), and no slot before the first block of a leaf. */
static void test_insert_at_prefetched_slot(void **state)
{
	struct lt_table_entry old;
	uintptr_t fresh = 0x555600000040;    /* a leaf nobody used yet */
	assert_null(lt_table_prefetch(fresh));
	assert_true(lt_table_insert_at(NULL, fresh, 40, 9));
	uintptr_t a = fresh + 64, b = a + 16;
	void *slot_a = lt_table_prefetch(a);
	void *slot_b = lt_table_prefetch(b);
	assert_non_null(slot_a);
	assert_ptr_equal(slot_a, slot_b);    /* one granule */
	assert_true(lt_table_insert_at(slot_a, a, 16, 10));
	assert_true(lt_table_insert_at(slot_b, b, 8, 11));
	assert_int_equal(count_live(), 3);
	assert_true(lt_table_remove(b, &old));
	assert_int_equal(old.size, 8);
	assert_int_equal(old.stack_id, 11);
	assert_true(lt_table_remove(a, &old));
	assert_int_equal(old.size, 16);
	assert_int_equal(old.stack_id, 10);
	assert_true(lt_table_remove(fresh, &old));
	assert_int_equal(old.size, 40);
	assert_int_equal(old.stack_id, 9);
	/* stack ids beyond the slot's 31 bits: the side table */
	assert_true(lt_table_insert_at(lt_table_prefetch(a), a, 5, 1u << 31));
	assert_true(lt_table_remove(a, &old));
	assert_int_equal(old.stack_id, 1u << 31);
	assert_int_equal(count_live(), 0);
}

/* The size foreach reports for addr (the only block recorded). */
static uint64_t recorded_size(uintptr_t addr)
{
	struct collected c = { .ordered = true };
	lt_table_foreach(collect, &c);
	assert_int_equal(c.total, 1);
	assert_int_equal(c.addr[0], addr);
	return c.e[0].size;
}

/* Whether the table reads the block's size from its chunk header: a
 * header grown by 16 bytes, for a moment, grows a derived size by 16. */
static bool size_is_derived(void *p, uint64_t size)
{
	uint64_t *hdr = (uint64_t *)p - 1;
	uint64_t saved = *hdr;
	*hdr = saved + 16;
	uint64_t seen = recorded_size((uintptr_t)p);
	*hdr = saved;
	assert_int_equal(recorded_size((uintptr_t)p), size);
	if (seen == size)
		return false;
	assert_int_equal(seen, size + 16);
	return true;
}

static void *record_libc_block(size_t align, uint64_t size, uint32_t id)
{
	void *p = align ? libc_memalign(align, size) : libc_malloc(size);
	assert_non_null(p);
	void *slot = lt_table_prefetch((uintptr_t)p);
	assert_true(lt_table_insert_at(slot, (uintptr_t)p, size, id));
	return p;
}

static void remove_libc_block(void *p, uint64_t size, uint32_t id)
{
	struct lt_table_entry old;
	assert_true(lt_table_remove((uintptr_t)p, &old));
	assert_int_equal(old.size, size);
	assert_int_equal(old.stack_id, id);
	assert_false(lt_table_remove((uintptr_t)p, &old));
	libc_free(p);
}

static bool chunk_is_mmapped(void *p)
{
	return (((uint64_t *)p)[-1] & 2) != 0;
}

/* Every small size is derived, exactly, whatever glibc's rounding. */
static void test_glibc_sizes_derived(void **state)
{
	lt_table_set_glibc_chunks(true);
	for (uint64_t size = 0; size <= 200; size++) {
		void *p = record_libc_block(0, size, (uint32_t)size + 1);
		assert_true(size_is_derived(p, size));
		remove_libc_block(p, size, (uint32_t)size + 1);
	}
	/* big blocks from the heap, and mmapped chunks (16 bytes of header,
	 * whole pages) with 8 bytes to spare */
	uint64_t derived[] = { 4000, 65536 + 8, 100000, 64 * 4096 - 24, 300 * 4096 - 24 };
	for (size_t i = 0; i < sizeof(derived) / sizeof(derived[0]); i++) {
		void *p = record_libc_block(0, derived[i], 77);
		assert_int_equal(chunk_is_mmapped(p), i >= 3);
		assert_true(size_is_derived(p, derived[i]));
		remove_libc_block(p, derived[i], 77);
	}
	assert_int_equal(count_live(), 0);
	lt_table_set_glibc_chunks(false);
}

/* A slack above 62 bytes (an mmapped chunk rounded up to pages, a block
 * aligned inside a larger mmapped chunk) keeps its size in the leaf.
 * The sizes are above glibc's mmap threshold, which grows to the largest
 * mmapped chunk freed so far. */
static void test_glibc_escapes(void **state)
{
	lt_table_set_glibc_chunks(true);
	uint64_t size = (8u << 20) + 1000;
	void *p = record_libc_block(0, size, 5);
	assert_true(chunk_is_mmapped(p));
	assert_true(libc_usable_size(p) - size >= 63);
	assert_false(size_is_derived(p, size));
	remove_libc_block(p, size, 5);
	size = (9u << 20) + 1000;
	p = record_libc_block(1 << 16, size, 6);
	assert_true(chunk_is_mmapped(p));
	assert_int_equal((uintptr_t)p & 0xffff, 0);
	assert_true(libc_usable_size(p) - size >= 63);
	assert_false(size_is_derived(p, size));
	remove_libc_block(p, size, 6);
	/* aligned in the heap: glibc gives back what is left over */
	p = record_libc_block(4096, 100, 7);
	assert_false(chunk_is_mmapped(p));
	assert_int_equal(recorded_size((uintptr_t)p), 100);
	remove_libc_block(p, 100, 7);
	assert_int_equal(count_live(), 0);
	lt_table_set_glibc_chunks(false);
}

/* Another allocator's headers are never read: every size is stored. */
static void test_foreign_allocator_stores_sizes(void **state)
{
	for (uint64_t size = 0; size <= 64; size += 8) {
		void *p = record_libc_block(0, size, 9);
		assert_false(size_is_derived(p, size));
		remove_libc_block(p, size, 9);
	}
	/* records made in either mode are read back in the other */
	void *a = record_libc_block(0, 40, 10);
	lt_table_set_glibc_chunks(true);
	void *b = record_libc_block(0, 41, 11);
	lt_table_set_glibc_chunks(false);
	remove_libc_block(b, 41, 11);
	lt_table_set_glibc_chunks(true);
	remove_libc_block(a, 40, 10);
	lt_table_set_glibc_chunks(false);
	assert_int_equal(count_live(), 0);
}

/* A header the program wrote over: no size no live chunk can have, and
 * never a fault. */
static void test_overwritten_header(void **state)
{
	lt_table_set_glibc_chunks(true);
	void *p = record_libc_block(0, 40, 12);
	uint64_t *hdr = (uint64_t *)p - 1;
	uint64_t saved = *hdr, usable;
	uint64_t bad[] = { 1ull << 40, 0x41414141414141, 0, 24 | 1, 48 + 8 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		*hdr = bad[i];
		assert_int_equal(recorded_size((uintptr_t)p), 0);
		assert_false(lt_table_chunk_usable((uintptr_t)p, &usable));
	}
	*hdr = saved;
	assert_true(lt_table_chunk_usable((uintptr_t)p, &usable));
	assert_int_equal(usable, 40);   /* glibc's chunk of 48, minus its header */
	remove_libc_block(p, 40, 12);
	lt_table_set_glibc_chunks(false);
}

/* The ignored flag and the stack id's 24 bits survive either kind of
 * slot; ids of 2^24 and more go to the side table (listed last). */
static void test_ignored_flag_and_big_ids(void **state)
{
	uint32_t ids[] = { 1, LT_STACK_IGNORED | 1, (1u << 24) - 1,
			   LT_STACK_IGNORED | ((1u << 24) - 1) };
	for (int glibc = 0; glibc < 2; glibc++) {
		lt_table_set_glibc_chunks(glibc);
		for (size_t i = 0; i < 4; i++) {
			void *p = record_libc_block(0, 24, ids[i]);
			assert_int_equal(recorded_size((uintptr_t)p), 24);
			remove_libc_block(p, 24, ids[i]);
		}
	}
	lt_table_set_glibc_chunks(true);
	void *low = record_libc_block(0, 30, 1u << 24);
	void *high = record_libc_block(0, 31, 3);
	void *big = record_libc_block(0, 32, LT_STACK_IGNORED | (1u << 24) | 5);
	struct collected c = { .ordered = true };
	lt_table_foreach(collect, &c);
	assert_int_equal(c.total, 3);
	assert_int_equal(c.addr[0], (uintptr_t)high);
	assert_int_equal(c.e[0].stack_id, 3);
	/* side table, in its own order */
	for (size_t i = 1; i < 3; i++) {
		if (c.addr[i] == (uintptr_t)low) {
			assert_int_equal(c.e[i].size, 30);
			assert_int_equal(c.e[i].stack_id, 1u << 24);
		} else {
			assert_int_equal(c.addr[i], (uintptr_t)big);
			assert_int_equal(c.e[i].size, 32);
			assert_int_equal(c.e[i].stack_id, LT_STACK_IGNORED | (1u << 24) | 5);
		}
	}
	remove_libc_block(low, 30, 1u << 24);
	remove_libc_block(big, 32, LT_STACK_IGNORED | (1u << 24) | 5);
	remove_libc_block(high, 31, 3);
	lt_table_set_glibc_chunks(false);
}

static void run_stress(void)
{
	memset(&box, 0, sizeof(box));
	inserted = removed = remove_failures = 0;
	pthread_t t[THREADS];
	for (unsigned i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, stress_thread, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);

	/* What is left in the mailboxes is exactly what is still recorded. */
	uint64_t parked = 0;
	for (unsigned i = 0; i < THREADS; i++)
		for (unsigned k = 0; k < BATCH; k++)
			if (box.slot[i][k])
				parked++;
	assert_int_equal(remove_failures, 0);
	assert_int_equal(inserted, (uint64_t)THREADS * ROUNDS * BATCH);
	assert_int_equal(inserted - removed, parked);
	assert_int_equal(count_live(), parked);
	for (unsigned i = 0; i < THREADS; i++)
		for (unsigned k = 0; k < BATCH; k++) {
			struct lt_table_entry old;
			uintptr_t a = box.slot[i][k];
			if (!a)
				continue;
			assert_true(lt_table_remove(a, &old));
			assert_false(lt_table_remove(a, &old));
			libc_free((void *)a);
		}
	assert_int_equal(count_live(), 0);
	assert_int_equal(lt_table_dropped(), 0);
}

static void test_threads_cross_frees(void **state)
{
	run_stress();
}

static void test_threads_cross_frees_glibc(void **state)
{
	lt_table_set_glibc_chunks(true);
	run_stress();
	lt_table_set_glibc_chunks(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_insert_remove, setup),
		cmocka_unit_test_setup(test_zero_size_block_is_kept, setup),
		cmocka_unit_test_setup(test_foreach_in_address_order, setup),
		cmocka_unit_test_setup(test_side_table_for_odd_blocks, setup),
		cmocka_unit_test_setup(test_blocks_16_bytes_apart, setup),
		cmocka_unit_test_setup(test_insert_at_prefetched_slot, setup),
		cmocka_unit_test_setup(test_glibc_sizes_derived, setup),
		cmocka_unit_test_setup(test_glibc_escapes, setup),
		cmocka_unit_test_setup(test_foreign_allocator_stores_sizes, setup),
		cmocka_unit_test_setup(test_overwritten_header, setup),
		cmocka_unit_test_setup(test_ignored_flag_and_big_ids, setup),
		cmocka_unit_test_setup(test_threads_cross_frees, setup),
		cmocka_unit_test_setup(test_threads_cross_frees_glibc, setup),
	};
	resolve_libc();
	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
