/* Unit tests of the stack depot (preload/depot.c), as plain code:
 * deduplication, distinct ids, visiting, and racing inserts of the same
 * stacks from several threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "preload-private.h"

/* Normally kept by preload/modules.c. */
_Atomic uint32_t lt_module_epoch;

static void test_same_stack_same_id(void **state)
{
	uintptr_t a[] = { 0x1000, 0x401234, 0x401300 };
	uintptr_t b[] = { 0x1000, 0x401234, 0x401301 };
	uint32_t ia = lt_depot_intern(a, 3);
	uint32_t ib = lt_depot_intern(b, 3);
	assert_true(ia >= 1);
	assert_true(ib >= 1);
	assert_int_not_equal(ia, ib);
	assert_int_equal(lt_depot_intern(a, 3), ia);
	/* a prefix is another stack */
	uint32_t ic = lt_depot_intern(a, 2);
	assert_int_not_equal(ic, ia);
	assert_int_equal(lt_depot_intern(a, 2), ic);
}

struct found {
	uint32_t id;
	uint32_t depth;
	uintptr_t frames[8];
	bool seen;
};

static void find_id(uint32_t id, uint32_t epoch, const uintptr_t *frames,
		    uint32_t depth, void *ctx)
{
	struct found *f = ctx;
	if (id != f->id)
		return;
	assert_false(f->seen);
	f->seen = true;
	f->depth = depth;
	memcpy(f->frames, frames, depth * sizeof(uintptr_t));
}

static void test_foreach_returns_frames(void **state)
{
	uintptr_t s[] = { 0x2000, 0x7f0000001111, 0x7f0000002222, 0x555500003333 };
	struct found f = { .id = lt_depot_intern(s, 4) };
	lt_depot_foreach(find_id, &f);
	assert_true(f.seen);
	assert_int_equal(f.depth, 4);
	assert_memory_equal(f.frames, s, sizeof(s));
}

#define THREADS 8
#define STACKS 2000
static uint32_t ids[THREADS][STACKS];

static void *intern_all(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < STACKS; i++) {
		/* every thread interns the same stacks, in a different order */
		unsigned k = (i * 7 + me * 131) % STACKS;
		uintptr_t frames[5] = { 0x3000, 0x400000 + k, 0x500000 + k / 3, 0x600000, k };
		ids[me][k] = lt_depot_intern(frames, 5);
	}
	return NULL;
}

static void count_ids(uint32_t id, uint32_t epoch, const uintptr_t *frames,
		      uint32_t depth, void *ctx)
{
	if (depth == 5 && frames[0] == 0x3000)
		(*(unsigned *)ctx)++;
}

static void test_racing_inserts_agree(void **state)
{
	pthread_t t[THREADS];
	for (unsigned i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, intern_all, (void *)(uintptr_t)i);
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (unsigned k = 0; k < STACKS; k++) {
		assert_true(ids[0][k] >= 1);
		for (unsigned i = 1; i < THREADS; i++)
			assert_int_equal(ids[i][k], ids[0][k]);
	}
	unsigned stored = 0;
	lt_depot_foreach(count_ids, &stored);
	assert_int_equal(stored, STACKS);
}

int main(void)
{
	lt_depot_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_stack_same_id),
		cmocka_unit_test(test_foreach_returns_frames),
		cmocka_unit_test(test_racing_inserts_agree),
	};
	return cmocka_run_group_tests_name("depot", tests, NULL, NULL);
}
