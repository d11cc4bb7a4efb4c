/* The fast unwinder (preload/backtrace.c + cfi.c) against libunwind's full
 * DWARF unwind, frame by frame, in code built without frame pointers:
 * recursion, mutual recursion, frames with variable-sized stack
 * allocations, a signal handler, threads, and very deep stacks. And the
 * rules cfi.c keeps per FDE against the FDE's program run up to each
 * address, over all the code of every loaded object. */
#define _GNU_SOURCE
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cfi.h"
#include "preload-private.h"
#include "unwind_capture.h"

/* Normally kept by other files of the library. */
LT_TLS struct lt_thread lt_self;
uintptr_t lt_self_lo, lt_self_hi;
_Atomic uint32_t lt_module_epoch;


/* The fast path starts at capture_both's caller (frames[1] is the return
 * address into it); libunwind starts inside lt_backtrace_full, two frames
 * deeper. From capture_both's caller on, both must agree exactly, to the
 * last frame. */
static void assert_same_stack(const struct capture *c, uint32_t min_depth)
{
	if (c->fast[1] == c->full[1]) {
		/* The fast path handed over to libunwind: the same frames,
		 * but for the two call sites in capture_both. */
		assert_int_equal(c->nfast, c->nfull);
		assert_memory_equal(c->fast + 3, c->full + 3, (c->nfast - 3) * sizeof(uintptr_t));
		return;
	}
	uint32_t k = 1;
	while (k < c->nfull && k < 5 && c->full[k] != c->fast[1])
		k++;
	if (k >= c->nfull || c->nfast < 2 || c->full[k] != c->fast[1]) {
		for (uint32_t i = 0; i < 6 && i < c->nfull; i++)
			print_message("full[%u]=%#lx fast[%u]=%#lx\n", i,
				      (unsigned long)c->full[i], i, (unsigned long)c->fast[i]);
		fail_msg("no common frame");
	}
	uint32_t rest_full = c->nfull - k, rest_fast = c->nfast - 1;
	/* Both stop at the same outermost frame unless cut by the limit. */
	if (c->nfast < c->max && c->nfull < c->max)
		assert_int_equal(rest_fast, rest_full);
	for (uint32_t i = 0; i < rest_full && i < rest_fast; i++)
		if (c->fast[1 + i] != c->full[k + i])
			fail_msg("frame %u differs: fast %#lx, libunwind %#lx", i,
				 (unsigned long)c->fast[1 + i], (unsigned long)c->full[k + i]);
	assert_true(c->nfast >= min_depth);
}

static __attribute__((noinline)) int recurse(struct capture *c, int n, int max)
{
	volatile char pad[64];
	pad[0] = (char)n;
	if (n == 0) {
		capture_both(c, (uint32_t)max);
		return pad[0];
	}
	int r = recurse(c, n - 1, max) + pad[0];
	__asm__ volatile("" ::: "memory");
	return r;
}

static int even(struct capture *c, int n);
static __attribute__((noinline)) int odd(struct capture *c, int n)
{
	int r = n ? even(c, n - 1) : (capture_both(c, MAX), 0);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}
static __attribute__((noinline)) int even(struct capture *c, int n)
{
	/* a variable-length array: the frame needs RBP as CFA base */
	volatile char vla[16 + n];
	vla[0] = 1;
	int r = n ? odd(c, n - 1) : (capture_both(c, MAX), 0);
	__asm__ volatile("" ::: "memory");
	return r + vla[0];
}

static void test_recursion(void **state)
{
	struct capture c;
	recurse(&c, 30, MAX);
	assert_same_stack(&c, 30);
	/* the fast path really ran: it had no reason to fall back */
	assert_true(c.fast[1] != 0);
}

static void test_mutual_recursion_with_vla(void **state)
{
	struct capture c;
	even(&c, 21);
	assert_same_stack(&c, 21);
}

static void test_depth_limit(void **state)
{
	struct capture c;
	recurse(&c, 50, 12);
	assert_int_equal(c.nfast, 12);
	assert_same_stack(&c, 12);
}

static struct capture in_handler;
static void on_signal(int sig)
{
	capture_both(&in_handler, MAX);
}

/* A signal frame is beyond the fast rules: the result must still be
 * libunwind's, identical. */
static void test_through_signal_frame(void **state)
{
	signal(SIGUSR1, on_signal);
	raise(SIGUSR1);
	assert_same_stack(&in_handler, 4);
	assert_int_equal(in_handler.fast[1], in_handler.full[1]);
}

static void *thread_main(void *arg)
{
	struct capture *c = arg;
	lt_self.stack_known = false;
	recurse(c, 10, MAX);
	return NULL;
}

static void test_thread(void **state)
{
	struct capture c;
	pthread_t t;
	pthread_create(&t, NULL, thread_main, &c);
	pthread_join(t, NULL);
	assert_same_stack(&c, 10);
}

static struct capture deep;
static void *deep_main(void *arg)
{
	recurse(&deep, 20000, MAX);
	return NULL;
}

static void test_very_deep_stack(void **state)
{
	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 20);
	pthread_create(&t, &attr, deep_main, NULL);
	pthread_join(t, NULL);
	assert_int_equal(deep.nfast, MAX);
	assert_same_stack(&deep, MAX);
}

struct rule_tally {
	unsigned long pcs, frames, ends, none;
	char mismatch[256];
};

/* Every 3rd code address of the object's executable segments, asked
 * twice of the rows (the first question of a function decodes it) and
 * once of the program run from the FDE's start. */
static int compare_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct rule_tally *t = arg;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		for (uintptr_t pc = lo; pc < lo + ph->p_memsz; pc += 3) {
			struct lt_unwind_rule a = { 0 }, b = { 0 }, c = { 0 };
			bool ok_a = lt_cfi_rule(pc, &a);
			bool ok_b = lt_cfi_rule(pc, &b);
			bool ok_c = lt_cfi_rule_uncached(pc, &c);
			t->pcs++;
			if (ok_a != ok_c || ok_b != ok_c || memcmp(&a, &c, sizeof(a)) != 0 ||
			    memcmp(&b, &c, sizeof(b)) != 0) {
				if (!t->mismatch[0])
					snprintf(t->mismatch, sizeof(t->mismatch),
						 "%s +0x%lx: rows %d/%d kind %d cfa %d, program %d kind %d cfa %d",
						 info->dlpi_name, (unsigned long)(pc - info->dlpi_addr),
						 ok_a, ok_b, a.kind, a.cfa_off, ok_c, c.kind, c.cfa_off);
				continue;
			}
			if (!ok_c)
				t->none++;
			else if (c.kind == LT_RULE_END)
				t->ends++;
			else
				t->frames++;
		}
	}
	return 0;
}

static void test_rows_match_programs(void **state)
{
	(void)state;
	static struct rule_tally t;
	dl_iterate_phdr(compare_object, &t);
	print_message("%lu addresses: %lu frames, %lu ends, %lu without rule\n", t.pcs, t.frames, t.ends, t.none);
	assert_string_equal(t.mismatch, "");
	/* The C library alone has over 100,000 such addresses with a rule. */
	assert_true(t.frames > 100000);
	assert_true(t.ends > 0);
	assert_true(t.none > 0);
	assert_int_equal(t.frames + t.ends + t.none, t.pcs);
}

int main(void)
{
	lt_backtrace_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recursion),
		cmocka_unit_test(test_mutual_recursion_with_vla),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_through_signal_frame),
		cmocka_unit_test(test_thread),
		cmocka_unit_test(test_very_deep_stack),
		cmocka_unit_test(test_rows_match_programs),
	};
	return cmocka_run_group_tests_name("unwind", tests, NULL, NULL);
}
