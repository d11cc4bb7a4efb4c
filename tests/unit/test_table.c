/* Unit tests of the live table (preload/table.c), as plain code.
 * Includes a multi-threaded stress with cross-thread frees: every record
 * inserted is found exactly once and removed exactly once. */
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

static int setup(void **state)
{
	lt_table_init();
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
			mine[i] = malloc(size);
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
			free(mine[i]);
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

static void test_threads_cross_frees(void **state)
{
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
			free((void *)a);
		}
	assert_int_equal(count_live(), 0);
	assert_int_equal(lt_table_dropped(), 0);
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
		cmocka_unit_test_setup(test_threads_cross_frees, setup),
	};
	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
