/* The stack cache (preload/stackcache.c): an id found without a walk must
 * be the id of the stack a walk gives, at the same place, whatever the
 * outer frames are. The depot is replaced by a counting one, so a test can
 * tell a walk (which interns) from a cache hit (which does not). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "preload-private.h"
#include "stack_capture.h"

/* Normally kept by other files of the library. */
LT_TLS struct lt_thread lt_self;
uintptr_t lt_self_lo, lt_self_hi;
_Atomic uint32_t lt_module_epoch;

#define STACKS_MAX 64

static uintptr_t stacks[STACKS_MAX][64];
static uint32_t depths[STACKS_MAX];
static unsigned nstacks, intern_calls;

/* The depot, counting its calls: ids 1, 2, ... in order of first sight. */
uint32_t lt_depot_intern(const uintptr_t *frames, uint32_t depth)
{
	intern_calls++;
	for (unsigned i = 0; i < nstacks; i++)
		if (depths[i] == depth && memcmp(stacks[i], frames, depth * sizeof(*frames)) == 0)
			return i + 1;
	if (nstacks == STACKS_MAX || depth > 64)
		return 0;
	memcpy(stacks[nstacks], frames, depth * sizeof(*frames));
	depths[nstacks] = depth;
	return ++nstacks;
}

/* The id names the very stack the walk gave at the same place. */
static void assert_id_is_walk(const struct stack_capture *c)
{
	assert_in_range(c->id, 1, nstacks);
	assert_int_equal(depths[c->id - 1], c->depth);
	assert_memory_equal(stacks[c->id - 1], c->frames, c->depth * sizeof(uintptr_t));
}

static __attribute__((noinline)) uint32_t leafcall(struct stack_capture *c, uint32_t max)
{
	uint32_t id = capture_id(c, max);
	__asm__ volatile("" ::: "memory");   /* no tail call: a real frame */
	return id;
}

static __attribute__((noinline)) uint32_t mid(struct stack_capture *c)
{
	uint32_t id = leafcall(c, 12);
	__asm__ volatile("" ::: "memory");
	return id;
}

/* Two callers of mid with frames of one size: mid and leafcall then run at
 * the same stack pointers below either, and only the return address into
 * outer_a or outer_b tells the stacks apart. */
static __attribute__((noinline)) uint32_t outer_a(struct stack_capture *c)
{
	uint32_t id = mid(c);
	__asm__ volatile("" ::: "memory");
	return id + 1;
}

static __attribute__((noinline)) uint32_t outer_b(struct stack_capture *c)
{
	uint32_t id = mid(c);
	__asm__ volatile("" ::: "memory");
	return id + 2;
}

static uint32_t (*volatile outers[2])(struct stack_capture *) = { outer_a, outer_b };

static __attribute__((noinline)) void through(int which, struct stack_capture *c)
{
	outers[which](c);
	__asm__ volatile("" ::: "memory");
}

/* Every capture of a test comes from one call site in it: the test's own
 * frame and those above it are part of the stack too. ONE_SITE hides the
 * loop count from the compiler, which would otherwise unroll the loop into
 * as many call sites. */
#define ONE_SITE(i) __asm__ volatile("" : "+r"(i))

static int reset(void **state)
{
	(void)state;
	nstacks = 0;
	intern_calls = 0;
	/* a new epoch: nothing cached before this test applies */
	atomic_fetch_add(&lt_module_epoch, 1);
	return 0;
}

static void test_repeated_site_walks_once(void **state)
{
	struct stack_capture c[5];
	for (int i = 0; i < 5; i++) {
		ONE_SITE(i);
		mid(&c[i]);
	}
	for (int i = 0; i < 5; i++) {
		assert_int_equal(c[i].id, 1);
		assert_id_is_walk(&c[i]);
	}
	assert_int_equal(intern_calls, 1);
	assert_true(c[0].depth >= 5);
}

static void test_same_start_other_outer_frames(void **state)
{
	struct stack_capture c[8];
	for (int i = 0; i < 8; i++) {
		ONE_SITE(i);
		through(i & 1, &c[i]);
	}
	/* the same start: only words further up differ */
	assert_int_equal(c[0].sp, c[1].sp);
	assert_int_equal(c[0].frames[1], c[1].frames[1]);
	assert_int_equal(c[0].frames[2], c[1].frames[2]);
	assert_true(c[0].frames[3] != c[1].frames[3]);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(c[i].id, (uint32_t)(i & 1) + 1);
		assert_id_is_walk(&c[i]);
	}
	/* both kept: alternating costs no more walks */
	assert_int_equal(intern_calls, 2);
}

static void test_depth_limit_is_part_of_the_key(void **state)
{
	static const uint32_t max[4] = { 3, 12, 3, 12 };
	struct stack_capture c[4];
	for (int i = 0; i < 4; i++) {
		ONE_SITE(i);
		leafcall(&c[i], max[i]);
	}
	assert_int_equal(c[0].depth, 3);
	assert_true(c[1].depth > 3);
	for (int i = 0; i < 4; i++)
		assert_id_is_walk(&c[i]);
	assert_int_equal(c[0].id, 1);
	assert_int_equal(c[1].id, 2);
	assert_int_equal(c[2].id, 1);
	assert_int_equal(c[3].id, 2);
	assert_int_equal(intern_calls, 2);
}

static void test_module_change_forgets(void **state)
{
	struct stack_capture c[3];
	for (int i = 0; i < 3; i++) {
		ONE_SITE(i);
		/* before the third: a dlopen or dlclose (no branch, so the
		 * compiler keeps one call site) */
		atomic_fetch_add(&lt_module_epoch, i == 2);
		mid(&c[i]);
		assert_int_equal(intern_calls, i < 2 ? 1 : 2);
	}
	assert_int_equal(c[2].id, c[0].id);
	assert_id_is_walk(&c[2]);
}

/* Deeper than the stacks the unrolled check takes: the general one. */
#define DEEP_MAX 24

static __attribute__((noinline)) uint32_t deep(int n, struct stack_capture *c)
{
	uint32_t id = n ? deep(n - 1, c) : leafcall(c, DEEP_MAX);
	__asm__ volatile("" ::: "memory");
	return id + (uint32_t)n;
}

/* As outer_a and outer_b, below a recursion: they differ only in a word
 * past those the unrolled check takes. */
static __attribute__((noinline)) uint32_t deep_a(struct stack_capture *c)
{
	uint32_t id = deep(16, c);
	__asm__ volatile("" ::: "memory");
	return id + 1;
}

static __attribute__((noinline)) uint32_t deep_b(struct stack_capture *c)
{
	uint32_t id = deep(16, c);
	__asm__ volatile("" ::: "memory");
	return id + 2;
}

static uint32_t (*volatile deeps[2])(struct stack_capture *) = { deep_a, deep_b };

static void test_deep_stack_checked_in_full(void **state)
{
	struct stack_capture c[6];
	for (int i = 0; i < 6; i++) {
		ONE_SITE(i);
		deeps[i & 1](&c[i]);
	}
	assert_int_equal(c[0].sp, c[1].sp);
	assert_int_equal(c[0].depth, DEEP_MAX);
	/* the first difference: deep_a or deep_b, above 17 frames of deep */
	for (unsigned f = 0; f < 19; f++)
		assert_int_equal(c[0].frames[f], c[1].frames[f]);
	assert_true(c[0].frames[19] != c[1].frames[19]);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(c[i].id, (uint32_t)(i & 1) + 1);
		assert_id_is_walk(&c[i]);
	}
	assert_int_equal(intern_calls, 2);
}

static void *thread_main(void *arg)
{
	struct stack_capture *c = arg;
	for (int i = 0; i < 2; i++) {
		ONE_SITE(i);
		mid(&c[i]);
	}
	return NULL;
}

static void test_other_thread(void **state)
{
	struct stack_capture here[2], there[2];
	pthread_t t;
	for (int i = 0; i < 2; i++) {
		ONE_SITE(i);
		mid(&here[i]);
	}
	assert_int_equal(pthread_create(&t, NULL, thread_main, there), 0);
	pthread_join(t, NULL);
	assert_id_is_walk(&here[1]);
	assert_id_is_walk(&there[1]);
	assert_int_equal(here[1].id, here[0].id);
	assert_int_equal(there[1].id, there[0].id);
	/* another stack, other outer frames: another id, one walk each */
	assert_true(there[0].id != here[0].id);
	assert_int_equal(intern_calls, 2);
}

int main(void)
{
	lt_backtrace_init();
	lt_stack_cache_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_repeated_site_walks_once, reset),
		cmocka_unit_test_setup(test_same_start_other_outer_frames, reset),
		cmocka_unit_test_setup(test_depth_limit_is_part_of_the_key, reset),
		cmocka_unit_test_setup(test_module_change_forgets, reset),
		cmocka_unit_test_setup(test_deep_stack_checked_in_full, reset),
		cmocka_unit_test_setup(test_other_thread, reset),
	};
	return cmocka_run_group_tests_name("stackcache", tests, NULL, NULL);
}
