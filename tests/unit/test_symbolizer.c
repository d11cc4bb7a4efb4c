/* Unit tests of the symbolizer (symbolizer/) on this very test program and
 * the libc it runs with: lines of return addresses (looked up one byte
 * before), entry points as they are, inlined frames, demangling, module
 * choice by epoch, and graceful degradation (changed, missing, absent
 * modules). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lt_test.h"
#include "symbolizer-private.h"

/* ---- code whose addresses the tests resolve ----
 * noipa: no inlining, cloning or identical-code folding of the functions
 * whose names the tests expect. */

__attribute__((noinline)) static uint64_t capture(void)
{
	return (uint64_t)__builtin_return_address(0);
}

static inline __attribute__((always_inline)) uint64_t inlined_here(void)
{
	return capture();                     /* LINE_INLINED_CALL */
}
enum { LINE_INLINED_CALL = __LINE__ - 2 };

enum { LINE_OUTER_CALL = __LINE__ + 3 };
__attribute__((noipa)) static uint64_t outer_fn(void)
{
	uint64_t r = inlined_here();          /* LINE_OUTER_CALL */
	__asm__ volatile("" ::: "memory");
	return r;
}

/* Two levels of inlining: dwarf_getscopes() alone only sees the inner. */
static inline __attribute__((always_inline)) uint64_t inner_inl(void)
{
	return capture();
}
enum { LINE_INNER = __LINE__ - 2 };

static inline __attribute__((always_inline)) uint64_t middle_inl(void)
{
	return inner_inl();
}
enum { LINE_MIDDLE = __LINE__ - 2 };

enum { LINE_NESTED_OUTER = __LINE__ + 3 };
__attribute__((noipa)) static uint64_t nested_outer(void)
{
	uint64_t r = middle_inl();
	/* Not the same code as outer_fn, or the compiler folds the two. */
	__asm__ volatile("nop" ::: "memory");
	return r;
}

__attribute__((noinline)) uint64_t target_fn(int x);
__attribute__((noinline)) uint64_t target_fn(int x)
{
	return (uint64_t)x * 3;
}

/* ---- the modules of this process, as the preloaded library records them ---- */

#define MAX_MODS 64

struct self_modules {
	struct test_module mods[MAX_MODS];
	uint8_t ids[MAX_MODS][64];
	char paths[MAX_MODS][512];
	size_t n;
};

static void note_build_id(const struct dl_phdr_info *info, uint8_t *out, uint16_t *len)
{
	*len = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		const char *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const char *desc = p + sizeof(*nh) + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_descsz <= 64) {
				memcpy(out, desc, nh->n_descsz);
				*len = (uint16_t)nh->n_descsz;
				return;
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
}

static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
	struct self_modules *sm = data;
	if (sm->n == MAX_MODS)
		return 1;
	size_t i = sm->n;
	struct test_module *m = &sm->mods[i];
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int k = 0; k < info->dlpi_phnum; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < lo)
			lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
			hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	if (!hi)
		return 0;
	if (info->dlpi_name && info->dlpi_name[0]) {
		snprintf(sm->paths[i], sizeof(sm->paths[i]), "%s", info->dlpi_name);
	} else {
		ssize_t n = readlink("/proc/self/exe", sm->paths[i], sizeof(sm->paths[i]) - 1);
		sm->paths[i][n > 0 ? n : 0] = '\0';
	}
	note_build_id(info, sm->ids[i], &m->build_id_len);
	m->build_id = sm->ids[i];
	m->bias = info->dlpi_addr;
	m->lo = lo;
	m->hi = hi;
	m->load = 0;
	m->unload = LT_EPOCH_NONE;
	m->path = sm->paths[i];
	sm->n++;
	return 0;
}

static struct self_modules self;
static struct tw w;
static struct lt_snapshot snap;
static struct lt_symbolizer *sym;
static char *diag_text;
static size_t diag_size;
static FILE *diag;

static void start(const struct test_module *mods, size_t nmods)
{
	char err[256];
	struct test_snap s = { .pid = 1, .modules = mods, .nmodules = nmods };
	tw_snapshot(&w, &s);
	if (lt_snapshot_parse(w.buf, w.len, &snap, err, sizeof(err)))
		fail_msg("parse: %s", err);
	diag = open_memstream(&diag_text, &diag_size);
	sym = lt_symbolizer_new(&snap, diag);
	assert_non_null(sym);
}

static int setup(void **state)
{
	memset(&self, 0, sizeof(self));
	dl_iterate_phdr(visit, &self);
	assert_true(self.n >= 2);
	return 0;
}

static int teardown(void **state)
{
	lt_symbolizer_free(sym);
	sym = NULL;
	if (diag)
		fclose(diag);
	diag = NULL;
	free(diag_text);
	diag_text = NULL;
	lt_snapshot_free(&snap);
	tw_free(&w);
	return 0;
}

static void test_return_address_line(void **state)
{
	const struct lt_frame *f;
	uint64_t ra = capture();
	int line = __LINE__ - 1;
	start(self.mods, self.n);
	size_t n = lt_symbolize(sym, ra, 0, true, &f);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].fn, "test_return_address_line");
	assert_string_equal(f[0].file, "test_symbolizer.c");
	assert_int_equal(f[0].line, line);
	assert_non_null(f[0].dir);
	assert_non_null(strstr(f[0].dir, "tests/unit"));
	assert_string_equal(f[0].obj, self.paths[0]);
	assert_false(f[0].inlined);
	assert_int_equal(f[0].kind, LT_FN_NORMAL);
	/* Cached: the same pointer comes back. */
	const struct lt_frame *again;
	assert_int_equal(lt_symbolize(sym, ra, 0, true, &again), 1);
	assert_ptr_equal(again, f);
}

static void test_entry_point_as_is(void **state)
{
	const struct lt_frame *f;
	uint64_t entry = (uint64_t)(uintptr_t)&target_fn;
	start(self.mods, self.n);
	assert_int_equal(lt_symbolize(sym, entry, 0, false, &f), 1);
	assert_string_equal(f[0].fn, "target_fn");
	/* The same address as a return address is the byte before: the end
	 * of whatever precedes target_fn, not target_fn. */
	assert_int_equal(lt_symbolize(sym, entry, 0, true, &f), 1);
	assert_true(!f[0].fn || strcmp(f[0].fn, "target_fn") != 0);
}

static void test_inlined_frames(void **state)
{
	const struct lt_frame *f;
	uint64_t ra = outer_fn();
	start(self.mods, self.n);
	size_t n = lt_symbolize(sym, ra, 0, true, &f);
	assert_int_equal(n, 2);
	assert_string_equal(f[0].fn, "inlined_here");
	assert_true(f[0].inlined);
	assert_string_equal(f[0].file, "test_symbolizer.c");
	assert_int_equal(f[0].line, LINE_INLINED_CALL);
	assert_string_equal(f[1].fn, "outer_fn");
	assert_false(f[1].inlined);
	assert_int_equal(f[1].line, LINE_OUTER_CALL);
}

static void test_nested_inlined_frames(void **state)
{
	const struct lt_frame *f;
	uint64_t ra = nested_outer();
	start(self.mods, self.n);
	assert_int_equal(lt_symbolize(sym, ra, 0, true, &f), 3);
	assert_string_equal(f[0].fn, "inner_inl");
	assert_int_equal(f[0].line, LINE_INNER);
	assert_true(f[0].inlined);
	assert_string_equal(f[1].fn, "middle_inl");
	assert_int_equal(f[1].line, LINE_MIDDLE);
	assert_true(f[1].inlined);
	assert_string_equal(f[2].fn, "nested_outer");
	assert_int_equal(f[2].line, LINE_NESTED_OUTER);
	assert_false(f[2].inlined);
}

/* glibc names strdup twice (strdup, __strdup): valgrind shows the shorter. */
static void test_libc_alias(void **state)
{
	const struct lt_frame *f;
	/* libc's own strdup, not a sanitizer's interceptor of it. */
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	assert_non_null(libc);
	void *p = dlsym(libc, "strdup");
	assert_non_null(p);
	dlclose(libc);
	start(self.mods, self.n);
	assert_int_equal(lt_symbolize(sym, (uint64_t)(uintptr_t)p, 0, false, &f), 1);
	assert_string_equal(f[0].fn, "strdup");
	assert_non_null(strstr(f[0].obj, "libc.so"));
}

static void test_main_kind(void **state)
{
	const struct lt_frame *f;
	extern int main(void);
	start(self.mods, self.n);
	assert_int_equal(lt_symbolize(sym, (uint64_t)(uintptr_t)&main, 0, false, &f), 1);
	assert_string_equal(f[0].fn, "main");
	assert_int_equal(f[0].kind, LT_FN_MAIN);
}

static void test_changed_module(void **state)
{
	const struct lt_frame *f;
	struct test_module m = self.mods[0];
	static const uint8_t other_id[] = { 1, 2, 3, 4 };
	m.build_id = other_id;
	m.build_id_len = 4;
	start(&m, 1);
	uint64_t ra = capture();
	assert_int_equal(lt_symbolize(sym, ra, 0, true, &f), 1);
	assert_null(f[0].fn);
	assert_null(f[0].file);
	assert_string_equal(f[0].obj, self.paths[0]);
	assert_int_equal(lt_symbolize(sym, ra + 1, 0, true, &f), 1);
	fflush(diag);
	assert_non_null(strstr(diag_text, "has changed since the program ran (build-id differs)"));
	/* Said once, however many frames. */
	assert_null(strstr(strstr(diag_text, "has changed") + 1, "has changed"));
}

static void test_missing_and_absent_modules(void **state)
{
	const struct lt_frame *f;
	const struct test_module mods[] = {
		{ .bias = 0x10000, .lo = 0x10000, .hi = 0x20000, .unload = LT_EPOCH_NONE,
		  .path = "/nonexistent/libgone.so" },
		{ .bias = 0x30000, .lo = 0x30000, .hi = 0x40000, .unload = LT_EPOCH_NONE,
		  .path = "linux-vdso.so.1" },
	};
	start(mods, 2);
	assert_int_equal(lt_symbolize(sym, 0x10010, 0, true, &f), 1);
	assert_null(f[0].fn);
	assert_string_equal(f[0].obj, "/nonexistent/libgone.so");
	assert_int_equal(lt_symbolize(sym, 0x30010, 0, true, &f), 1);
	assert_string_equal(f[0].obj, "linux-vdso.so.1");
	assert_int_equal(lt_symbolize(sym, 0x50000, 0, true, &f), 1);
	assert_null(f[0].fn);
	assert_null(f[0].obj);
	fflush(diag);
	assert_non_null(strstr(diag_text, "cannot read /nonexistent/libgone.so"));
	assert_null(strstr(diag_text, "vdso"));  /* pseudo-modules are not files */
}

/* A dlclose'd library keeps its addresses for the stacks of its epochs. */
static void test_epochs(void **state)
{
	const struct lt_frame *f;
	struct test_module mods[2] = { self.mods[0], self.mods[0] };
	mods[0].load = 0;
	mods[0].unload = 2;
	mods[1].load = 2;
	mods[1].unload = LT_EPOCH_NONE;
	mods[1].path = "/nonexistent/replacement.so";
	mods[1].build_id_len = 0;
	start(mods, 2);
	uint64_t ra = capture();
	assert_int_equal(lt_symbolize(sym, ra, 1, true, &f), 1);
	assert_string_equal(f[0].fn, "test_epochs");
	assert_int_equal(lt_symbolize(sym, ra, 2, true, &f), 1);
	assert_null(f[0].fn);
	assert_string_equal(f[0].obj, "/nonexistent/replacement.so");
}

static void test_demangle(void **state)
{
	struct lt_arena a = { 0 };
	assert_string_equal(lt_demangle(&a, "_ZN2ns2mkB5cxx11Ev"), "ns::mk[abi:cxx11]()");
	assert_string_equal(lt_demangle(&a, "_ZN3BoxISt6vectorIiSaIiEEE4makeEv"),
			    "Box<std::vector<int, std::allocator<int> > >::make()");
	assert_string_equal(lt_demangle(&a, "_Z3foov.part.0"), "foo() [clone .part.0]");
	assert_string_equal(lt_demangle(&a, "main"), "main");
	assert_string_equal(lt_demangle(&a, "i"), "i");
	assert_string_equal(lt_demangle(&a, "_Zgarbage"), "_Zgarbage");
	assert_null(lt_demangle(&a, NULL));
	lt_arena_free(&a);
}

static void test_fn_kinds(void **state)
{
	assert_int_equal(lt_fn_kind_of("main"), LT_FN_MAIN);
	assert_int_equal(lt_fn_kind_of("__libc_start_call_main"), LT_FN_BELOW_MAIN);
	assert_int_equal(lt_fn_kind_of("__libc_start_main"), LT_FN_BELOW_MAIN);
	assert_int_equal(lt_fn_kind_of("__libc_start_main.constprop.0"), LT_FN_BELOW_MAIN);
	assert_int_equal(lt_fn_kind_of("mainly"), LT_FN_NORMAL);
	assert_int_equal(lt_fn_kind_of(NULL), LT_FN_NORMAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_return_address_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_point_as_is, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inlined_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_inlined_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libc_alias, setup, teardown),
		cmocka_unit_test_setup_teardown(test_main_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_module, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_absent_modules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_epochs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demangle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fn_kinds, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
