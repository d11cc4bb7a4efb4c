/* Unit tests of the registry of root regions (preload/roots.c), as plain
 * code: LSan's matching rules (exact start and size, one registration
 * removed per call), the bound, bad ranges, and registrations racing from
 * several threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "preload-private.h"

struct seen {
	uintptr_t lo[LT_ROOT_REGIONS_MAX], hi[LT_ROOT_REGIONS_MAX];
	size_t n;
};

static void note(uintptr_t lo, uintptr_t hi, void *ctx)
{
	struct seen *s = ctx;
	s->lo[s->n] = lo;
	s->hi[s->n] = hi;
	s->n++;
}

static size_t registered(struct seen *s)
{
	s->n = 0;
	lt_roots_foreach(note, s);
	return s->n;
}

static int empty_registry(void **state)
{
	struct seen s;
	(void)state;
	registered(&s);
	for (size_t i = 0; i < s.n; i++)
		lt_roots_unregister(s.lo[i], s.hi[i] - s.lo[i]);
	return registered(&s) == 0 ? 0 : -1;
}

static void register_then_unregister(void **state)
{
	struct seen s;
	(void)state;
	assert_int_equal(lt_roots_register(0x10000, 4096), 0);
	assert_int_equal(registered(&s), 1);
	assert_int_equal(s.lo[0], 0x10000);
	assert_int_equal(s.hi[0], 0x11000);
	assert_int_equal(lt_roots_unregister(0x10000, 4096), 0);
	assert_int_equal(registered(&s), 0);
}

/* LSan matches a region by its start and size both. */
static void unregister_needs_exact_range(void **state)
{
	struct seen s;
	(void)state;
	assert_int_equal(lt_roots_register(0x20000, 64), 0);
	assert_int_equal(lt_roots_unregister(0x20000, 32), -ENOENT);
	assert_int_equal(lt_roots_unregister(0x20008, 56), -ENOENT);
	assert_int_equal(lt_roots_unregister(0x30000, 64), -ENOENT);
	assert_int_equal(registered(&s), 1);
	assert_int_equal(lt_roots_unregister(0x20000, 64), 0);
	assert_int_equal(lt_roots_unregister(0x20000, 64), -ENOENT);
}

static void same_range_twice_needs_two_unregisters(void **state)
{
	struct seen s;
	(void)state;
	assert_int_equal(lt_roots_register(0x40000, 128), 0);
	assert_int_equal(lt_roots_register(0x40000, 128), 0);
	assert_int_equal(registered(&s), 2);
	assert_int_equal(lt_roots_unregister(0x40000, 128), 0);
	assert_int_equal(registered(&s), 1);
	assert_int_equal(lt_roots_unregister(0x40000, 128), 0);
	assert_int_equal(registered(&s), 0);
}

static void bad_ranges_refused(void **state)
{
	struct seen s;
	(void)state;
	assert_int_equal(lt_roots_register(0x50000, 0), -EINVAL);
	assert_int_equal(lt_roots_register(UINTPTR_MAX - 8, 64), -EINVAL);
	assert_int_equal(registered(&s), 0);
}

static void bounded(void **state)
{
	struct seen s;
	(void)state;
	for (uintptr_t i = 0; i < LT_ROOT_REGIONS_MAX; i++)
		assert_int_equal(lt_roots_register(0x100000 + i * 0x1000, 0x1000), 0);
	assert_int_equal(lt_roots_register(0x900000, 0x1000), -ENOSPC);
	assert_int_equal(registered(&s), LT_ROOT_REGIONS_MAX);
	/* A slot freed is a slot to reuse. */
	assert_int_equal(lt_roots_unregister(0x100000 + 7 * 0x1000, 0x1000), 0);
	assert_int_equal(lt_roots_register(0x900000, 0x1000), 0);
	assert_int_equal(registered(&s), LT_ROOT_REGIONS_MAX);
}

#define THREADS 4
#define ROUNDS 20000

static void *churn(void *arg)
{
	uintptr_t lo = 0x1000000 + (uintptr_t)arg * 0x100000;
	for (int r = 0; r < ROUNDS; r++) {
		if (lt_roots_register(lo + (uintptr_t)(r % 8) * 0x1000, 0x1000) != 0)
			return (void *)1;
		if (lt_roots_unregister(lo + (uintptr_t)(r % 8) * 0x1000, 0x1000) != 0)
			return (void *)1;
	}
	return NULL;
}

/* Each thread finds its own registration again, whatever the others do. */
static void concurrent_registrations(void **state)
{
	pthread_t t[THREADS];
	struct seen s;
	(void)state;
	for (uintptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, (void *)i), 0);
	for (int i = 0; i < THREADS; i++) {
		void *failed;
		pthread_join(t[i], &failed);
		assert_null(failed);
	}
	assert_int_equal(registered(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(register_then_unregister, empty_registry),
		cmocka_unit_test_setup(unregister_needs_exact_range, empty_registry),
		cmocka_unit_test_setup(same_range_twice_needs_two_unregisters, empty_registry),
		cmocka_unit_test_setup(bad_ranges_refused, empty_registry),
		cmocka_unit_test_setup(bounded, empty_registry),
		cmocka_unit_test_setup(concurrent_registrations, empty_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
