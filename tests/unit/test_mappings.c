/* Unit tests of the mapping registry (preload/mappings.c), as plain code:
 * the system calls are fakes that answer what each test says, so that
 * every rule is checked exactly: a region per mmap, munmap trimming,
 * splitting and spanning, MAP_FIXED replacing what it covers, mremap in
 * place, moved and with MREMAP_DONTUNMAP, failures changing nothing and
 * keeping errno, file paths, the registry's capacity, and calls from our
 * own code passing through. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "mappings.h"
#include "preload-private.h"

#define PAGE 4096u
#define BASE 0x100000000ul        /* fake addresses: never dereferenced */

/* What the library around the registry provides. */
struct lt_real_functions lt_real;
struct lt_options lt_opts;
_Atomic int lt_init_state = 2;
size_t lt_page_size = PAGE;
unsigned lt_capture_depth = 12;
LT_TLS struct lt_thread lt_self;

static uint32_t next_stack_id = 1;

uint32_t lt_backtrace(uintptr_t entry, uintptr_t ra, uintptr_t cfa, uintptr_t *frames,
		      uint32_t max)
{
	frames[0] = entry;
	return 1;
}

/* This library's code and libunwind's: the tests' calls come from
 * neither. */
uintptr_t lt_self_lo, lt_self_hi;
int unw_backtrace(void **buffer, int size);
int unw_backtrace(void **buffer, int size)
{
	(void)buffer;
	(void)size;
	return 0;
}

uint32_t lt_depot_intern(const uintptr_t *frames, uint32_t depth)
{
	return next_stack_id;
}

/* ---- the fake kernel: answers set by each test ---- */

static void *mmap_answer;
static int munmap_answer, fake_errno;
static void *mremap_answer;

static void *fake_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (mmap_answer == MAP_FAILED)
		errno = fake_errno;
	return mmap_answer;
}

static int fake_munmap(void *addr, size_t len)
{
	if (munmap_answer)
		errno = fake_errno;
	return munmap_answer;
}

static void *fake_mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	if (mremap_answer == MAP_FAILED)
		errno = fake_errno;
	return mremap_answer;
}

/* ---- helpers ---- */

struct seen {
	struct lt_mapping m[16];
	size_t n;
};

static void collect(const struct lt_mapping *m, void *ctx)
{
	struct seen *s = ctx;
	if (s->n < 16)
		s->m[s->n] = *m;
	s->n++;
}

static struct seen regions(void)
{
	struct seen s = { .n = 0 };
	lt_mappings_foreach(collect, &s);
	return s;
}

static void expect_region(const struct seen *s, size_t i, uintptr_t lo, uintptr_t hi,
			  uint32_t stack, uint8_t type)
{
	assert_true(i < s->n);
	assert_true(s->m[i].lo == lo);
	assert_true(s->m[i].hi == hi);
	assert_int_equal(s->m[i].stack_id, stack);
	assert_int_equal(s->m[i].type, type);
}

static void *map(uintptr_t at, size_t len, int flags, uint32_t stack)
{
	next_stack_id = stack;
	mmap_answer = (void *)at;
	return lt_mappings_mmap(&lt_self, (void *)(flags & MAP_FIXED ? at : 0), len,
				PROT_READ | PROT_WRITE, flags, -1, 0, 1, 2, 3);
}

static int unmap(uintptr_t at, size_t len)
{
	munmap_answer = 0;
	return lt_mappings_munmap(&lt_self, (void *)at, len);
}

/* Forgets every region between tests. */
static int setup(void **state)
{
	lt_real.mmap = fake_mmap;
	lt_real.munmap = fake_munmap;
	lt_real.mremap = fake_mremap;
	lt_opts.track_mmap = true;
	unmap(BASE, 1ul << 32);
	assert_int_equal(regions().n, 0);
	return 0;
}

/* ---- the tests ---- */

static void test_one_region_per_call(void **state)
{
	assert_true(map(BASE, 100, MAP_PRIVATE | MAP_ANONYMOUS, 7) == (void *)BASE);
	map(BASE + 16 * PAGE, 2 * PAGE, MAP_SHARED | MAP_ANONYMOUS, 8);
	struct seen s = regions();
	assert_int_equal(s.n, 2);
	expect_region(&s, 0, BASE, BASE + PAGE, 7, LT_MAP_PRIVATE_ANON);  /* rounded up */
	expect_region(&s, 1, BASE + 16 * PAGE, BASE + 18 * PAGE, 8, LT_MAP_SHARED_ANON);
}

static void test_munmap_trims_splits_spans(void **state)
{
	map(BASE, 8 * PAGE, MAP_PRIVATE | MAP_ANONYMOUS, 1);
	map(BASE + 10 * PAGE, 4 * PAGE, MAP_PRIVATE | MAP_ANONYMOUS, 2);
	/* the middle of the first: two pieces of the same stack */
	assert_int_equal(unmap(BASE + 2 * PAGE, PAGE), 0);
	struct seen s = regions();
	assert_int_equal(s.n, 3);
	expect_region(&s, 0, BASE, BASE + 2 * PAGE, 1, LT_MAP_PRIVATE_ANON);
	expect_region(&s, 1, BASE + 3 * PAGE, BASE + 8 * PAGE, 1, LT_MAP_PRIVATE_ANON);
	/* across the end of one and the start of the next, over a gap */
	unmap(BASE + 6 * PAGE, 6 * PAGE);
	s = regions();
	assert_int_equal(s.n, 3);
	expect_region(&s, 1, BASE + 3 * PAGE, BASE + 6 * PAGE, 1, LT_MAP_PRIVATE_ANON);
	expect_region(&s, 2, BASE + 12 * PAGE, BASE + 14 * PAGE, 2, LT_MAP_PRIVATE_ANON);
	/* the start of a region, its length not a multiple of the page */
	unmap(BASE + 12 * PAGE, 10);
	s = regions();
	expect_region(&s, 2, BASE + 13 * PAGE, BASE + 14 * PAGE, 2, LT_MAP_PRIVATE_ANON);
	/* several whole regions at once */
	unmap(BASE, 14 * PAGE);
	assert_int_equal(regions().n, 0);
}

static void test_munmap_failures_change_nothing(void **state)
{
	map(BASE, 2 * PAGE, MAP_PRIVATE | MAP_ANONYMOUS, 1);
	/* not page-aligned, or empty: the kernel's EINVAL, nothing changed */
	munmap_answer = -1;
	fake_errno = EINVAL;
	errno = 0;
	assert_int_equal(lt_mappings_munmap(&lt_self, (void *)(BASE + 1), PAGE), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(lt_mappings_munmap(&lt_self, (void *)BASE, 0), -1);
	/* a valid call the kernel refuses */
	fake_errno = ENOMEM;
	assert_int_equal(lt_mappings_munmap(&lt_self, (void *)BASE, PAGE), -1);
	assert_int_equal(errno, ENOMEM);
	struct seen s = regions();
	assert_int_equal(s.n, 1);
	expect_region(&s, 0, BASE, BASE + 2 * PAGE, 1, LT_MAP_PRIVATE_ANON);
}

static void test_map_fixed_replaces(void **state)
{
	map(BASE, 4 * PAGE, MAP_PRIVATE | MAP_ANONYMOUS, 1);
	map(BASE + PAGE, 2 * PAGE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, 2);
	struct seen s = regions();
	assert_int_equal(s.n, 3);
	expect_region(&s, 0, BASE, BASE + PAGE, 1, LT_MAP_PRIVATE_ANON);
	expect_region(&s, 1, BASE + PAGE, BASE + 3 * PAGE, 2, LT_MAP_SHARED_ANON);
	expect_region(&s, 2, BASE + 3 * PAGE, BASE + 4 * PAGE, 1, LT_MAP_PRIVATE_ANON);
	/* a failed mmap records nothing and keeps errno */
	mmap_answer = MAP_FAILED;
	fake_errno = ENOMEM;
	assert_true(lt_mappings_mmap(&lt_self, NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
				     -1, 0, 1, 2, 3) == MAP_FAILED);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(regions().n, 3);
}

static void test_mremap(void **state)
{
	map(BASE, 2 * PAGE, MAP_SHARED | MAP_ANONYMOUS, 1);
	/* grown in place: one region, the mremap's stack */
	next_stack_id = 5;
	mremap_answer = (void *)BASE;
	assert_true(lt_mappings_mremap(&lt_self, (void *)BASE, 2 * PAGE, 3 * PAGE, 0, NULL,
				       1, 2, 3) == (void *)BASE);
	struct seen s = regions();
	assert_int_equal(s.n, 1);
	expect_region(&s, 0, BASE, BASE + 3 * PAGE, 5, LT_MAP_SHARED_ANON);
	/* moved over another region (MREMAP_FIXED): the old place is free,
	 * the target's region replaced, the type kept */
	map(BASE + 8 * PAGE, 8 * PAGE, MAP_PRIVATE | MAP_ANONYMOUS, 2);
	next_stack_id = 6;
	mremap_answer = (void *)(BASE + 10 * PAGE);
	lt_mappings_mremap(&lt_self, (void *)BASE, 3 * PAGE, 4 * PAGE,
			   MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(BASE + 10 * PAGE), 1, 2, 3);
	s = regions();
	assert_int_equal(s.n, 3);
	expect_region(&s, 0, BASE + 8 * PAGE, BASE + 10 * PAGE, 2, LT_MAP_PRIVATE_ANON);
	expect_region(&s, 1, BASE + 10 * PAGE, BASE + 14 * PAGE, 6, LT_MAP_SHARED_ANON);
	expect_region(&s, 2, BASE + 14 * PAGE, BASE + 16 * PAGE, 2, LT_MAP_PRIVATE_ANON);
	/* MREMAP_DONTUNMAP: the old range stays */
	next_stack_id = 7;
	mremap_answer = (void *)(BASE + 32 * PAGE);
	lt_mappings_mremap(&lt_self, (void *)(BASE + 8 * PAGE), 2 * PAGE, 2 * PAGE,
			   MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL, 1, 2, 3);
	s = regions();
	assert_int_equal(s.n, 4);
	expect_region(&s, 0, BASE + 8 * PAGE, BASE + 10 * PAGE, 2, LT_MAP_PRIVATE_ANON);
	expect_region(&s, 3, BASE + 32 * PAGE, BASE + 34 * PAGE, 7, LT_MAP_PRIVATE_ANON);
	/* a failure changes nothing and keeps errno */
	mremap_answer = MAP_FAILED;
	fake_errno = EFAULT;
	errno = 0;
	assert_true(lt_mappings_mremap(&lt_self, (void *)(BASE + 32 * PAGE), 2 * PAGE, 9 * PAGE,
				       MREMAP_MAYMOVE, NULL, 1, 2, 3) == MAP_FAILED);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(regions().n, 4);
	/* a mapping we never saw, remapped: still not ours */
	mremap_answer = (void *)(BASE + 64 * PAGE);
	lt_mappings_mremap(&lt_self, (void *)(BASE + 40 * PAGE), PAGE, PAGE, MREMAP_MAYMOVE, NULL,
			   1, 2, 3);
	assert_int_equal(regions().n, 4);
}

static void test_file_paths(void **state)
{
	char path[] = "/tmp/lt-test-mappings-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	next_stack_id = 3;
	mmap_answer = (void *)BASE;
	lt_mappings_mmap(&lt_self, NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0, 1, 2, 3);
	mmap_answer = (void *)(BASE + 4 * PAGE);
	lt_mappings_mmap(&lt_self, NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0, 1, 2, 3);
	close(fd);
	unlink(path);
	struct seen s = regions();
	assert_int_equal(s.n, 2);
	expect_region(&s, 0, BASE, BASE + PAGE, 3, LT_MAP_SHARED_FILE);
	expect_region(&s, 1, BASE + 4 * PAGE, BASE + 5 * PAGE, 3, LT_MAP_PRIVATE_FILE);
	assert_string_equal(lt_mappings_path(s.m[0].path), path);
	/* the same file twice: one copy of its path */
	assert_int_equal(s.m[0].path, s.m[1].path);
	assert_string_equal(lt_mappings_path(0), "");
}

/* Our own calls (depth > 0), or track_mmap=no: nothing recorded. */
static void test_passing_through(void **state)
{
	lt_self.depth = 1;
	map(BASE, PAGE, MAP_PRIVATE | MAP_ANONYMOUS, 1);
	lt_self.depth = 0;
	assert_int_equal(regions().n, 0);
	lt_opts.track_mmap = false;
	map(BASE, PAGE, MAP_PRIVATE | MAP_ANONYMOUS, 1);
	assert_int_equal(regions().n, 0);
	lt_opts.track_mmap = true;
	/* a depot out of memory: the region is counted as dropped */
	uint64_t dropped = lt_mappings_dropped();
	map(BASE, PAGE, MAP_PRIVATE | MAP_ANONYMOUS, 0);
	assert_int_equal(regions().n, 0);
	assert_true(lt_mappings_dropped() == dropped + 1);
}

/* A full registry: one more region is dropped (and counted), and a split
 * that has no room drops the region it would split. */
static void test_capacity(void **state)
{
	uint64_t dropped = lt_mappings_dropped();
	for (uintptr_t i = 0; i < LT_MAP_CAPACITY; i++)
		map(BASE + 4 * i * PAGE, 3 * PAGE, MAP_PRIVATE | MAP_ANONYMOUS, 1);
	assert_int_equal(regions().n, LT_MAP_CAPACITY);
	map(BASE + 4ul * LT_MAP_CAPACITY * PAGE, PAGE, MAP_PRIVATE | MAP_ANONYMOUS, 1);
	assert_int_equal(regions().n, LT_MAP_CAPACITY);
	assert_true(lt_mappings_dropped() == dropped + 1);
	/* a trim needs no room */
	unmap(BASE + 2 * PAGE, PAGE);
	struct seen s = regions();
	expect_region(&s, 0, BASE, BASE + 2 * PAGE, 1, LT_MAP_PRIVATE_ANON);
	expect_region(&s, 1, BASE + 4 * PAGE, BASE + 7 * PAGE, 1, LT_MAP_PRIVATE_ANON);
	/* a hole in the middle of a region, with the registry full: the
	 * region is dropped whole (a root again, never a false leak) */
	unmap(BASE + 5 * PAGE, PAGE);
	s = regions();
	assert_int_equal(s.n, LT_MAP_CAPACITY - 1);
	expect_region(&s, 1, BASE + 8 * PAGE, BASE + 11 * PAGE, 1, LT_MAP_PRIVATE_ANON);
	assert_true(lt_mappings_dropped() == dropped + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_one_region_per_call, setup),
		cmocka_unit_test_setup(test_munmap_trims_splits_spans, setup),
		cmocka_unit_test_setup(test_munmap_failures_change_nothing, setup),
		cmocka_unit_test_setup(test_map_fixed_replaces, setup),
		cmocka_unit_test_setup(test_mremap, setup),
		cmocka_unit_test_setup(test_file_paths, setup),
		cmocka_unit_test_setup(test_passing_through, setup),
		cmocka_unit_test_setup(test_capacity, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
