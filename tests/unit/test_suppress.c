/* Unit tests of suppressions (report/suppress*.c): valgrind's wildcards
 * and LeakSanitizer's templates, both file formats with their exact
 * errors, matching with frame-level "...", what a suppression does to the
 * records and to the text and XML reports (valgrind 3.19's counts and
 * lines, checked against its output on the same situations), and
 * --gen-suppressions. */
#define _GNU_SOURCE
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lt_test.h"
#include "suppress.h"

#define P "==4242== "
#define D "--4242-- "

static struct tw w;
static struct lt_snapshot snap;
static struct lt_options opts;
static struct lt_supp_set set;
static struct lt_records recs;
static char *text;
static char err[512];

static int setup(void **state)
{
	lt_options_defaults(&opts);
	memset(&set, 0, sizeof(set));
	memset(&recs, 0, sizeof(recs));
	text = NULL;
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	free(text);
	lt_records_free(&recs);
	lt_supp_free(&set);
	lt_snapshot_free(&snap);
	tw_free(&w);
	return 0;
}

static int parse(const char *file, const char *content)
{
	return lt_supp_parse(&set, file, content, strlen(content), err, sizeof(err));
}

/* ---- wildcards ---- */

static void test_glob(void **state)
{
	assert_true(lt_supp_glob("malloc", "malloc"));
	assert_false(lt_supp_glob("malloc", "malloc2"));
	assert_false(lt_supp_glob("malloc", "xmalloc"));
	assert_true(lt_supp_glob("*", ""));
	assert_true(lt_supp_glob("*", "???"));
	assert_true(lt_supp_glob("_ZN2ns*", "_ZN2ns3Box4makeEi"));
	assert_true(lt_supp_glob("*Box*Ei", "_ZN2ns3Box4makeEi"));
	assert_false(lt_supp_glob("*Box*Ex", "_ZN2ns3Box4makeEi"));
	assert_true(lt_supp_glob("__mbr*toc", "__mbrtoc"));
	assert_true(lt_supp_glob("__mbr*toc", "__mbrtowctoc"));
	assert_true(lt_supp_glob("le?k", "leak"));
	assert_false(lt_supp_glob("le?k", "lek"));
	assert_true(lt_supp_glob("a**b", "ab"));
	assert_true(lt_supp_glob("a\\*b", "a*b"));
	assert_false(lt_supp_glob("a\\*b", "axb"));
	assert_true(lt_supp_glob("a\\?", "a?"));
	assert_false(lt_supp_glob("a\\", "a"));        /* a spurious trailing \ */
	assert_true(lt_supp_glob("*libc.so*", "/usr/lib/x86_64-linux-gnu/libc.so.6"));
	assert_true(lt_supp_glob("", ""));
	assert_false(lt_supp_glob("", "x"));
}

static void test_lsan_match(void **state)
{
	assert_true(lt_supp_lsan_match("leaky", "my_leaky_function"));
	assert_true(lt_supp_lsan_match("^my_", "my_leaky_function"));
	assert_false(lt_supp_lsan_match("^leaky", "my_leaky_function"));
	assert_true(lt_supp_lsan_match("function$", "my_leaky_function"));
	assert_false(lt_supp_lsan_match("leaky$", "my_leaky_function"));
	assert_true(lt_supp_lsan_match("^my_leaky_function$", "my_leaky_function"));
	assert_true(lt_supp_lsan_match("my*function", "my_leaky_function"));
	assert_true(lt_supp_lsan_match("^my*leaky*$", "my_leaky"));
	assert_true(lt_supp_lsan_match("libfoo.so", "/usr/lib/libfoo.so.1"));
	assert_true(lt_supp_lsan_match("foo$", "foofoo"));     /* LSan itself misses this one */
	assert_false(lt_supp_lsan_match("a?c", "abc"));        /* ? is itself */
	assert_true(lt_supp_lsan_match("a?c", "xa?cx"));
	assert_true(lt_supp_lsan_match("Foo::bar()", "ns::Foo::bar()"));
	assert_false(lt_supp_lsan_match("x", ""));
	assert_false(lt_supp_lsan_match("x", NULL));
	assert_true(lt_supp_lsan_match("*", "anything"));
}

/* ---- valgrind's format ---- */

static const char good_file[] =
	"# leaks we live with\n"
	"{\n"
	"   first one\n"
	"   Memcheck:Leak\n"
	"   match-leak-kinds: definite,possible\n"
	"   fun:malloc\n"
	"   fun:helper\n"
	"}\n"
	"\n"
	"{\n"
	"  helgrind only\n"
	"  Helgrind:Race\n"
	"  fun:whatever\n"
	"}\n"
	"  {  \n"
	"\tnot a leak\n"
	"\tMemcheck:Param\n"
	"\twrite(buf)\n"
	"\tfun:write\n"
	"\t}\n"
	"{\n"
	"   every kind, two tools\n"
	"   Memcheck,Addrcheck:Leak\n"
	"   obj:*/libplugin.so\n"
	"   ...\n"
	"   src:leak.c:10\n"
	"}\n";

static void test_valgrind_file(void **state)
{
	assert_int_equal(parse("good.supp", good_file), 0);
	assert_int_equal(set.count, 2);
	/* valgrind's list: the last one read first. */
	const struct lt_supp *last = set.order[0], *first = set.order[1];
	assert_string_equal(first->name, "first one");
	assert_int_equal(first->lineno, 3);
	assert_string_equal(first->file, "good.supp");
	assert_int_equal(first->kinds, LT_KINDS_DEFINITE | LT_KINDS_POSSIBLE);
	assert_int_equal(first->nlocs, 2);
	assert_int_equal(first->locs[1].type, LT_SUPP_FUN);
	assert_string_equal(first->locs[1].pattern, "helper");
	assert_string_equal(last->name, "every kind, two tools");
	assert_int_equal(last->lineno, 22);
	assert_int_equal(last->kinds, LT_KINDS_ALL);
	assert_int_equal(last->nlocs, 3);
	assert_int_equal(last->locs[0].type, LT_SUPP_OBJ);
	assert_int_equal(last->locs[1].type, LT_SUPP_DOTS);
	assert_int_equal(last->locs[2].type, LT_SUPP_SRC);
	assert_string_equal(last->locs[2].pattern, "leak.c");
	assert_int_equal(last->locs[2].line, 10);
}

static void test_valgrind_kinds_line(void **state)
{
	assert_int_equal(parse("k.supp", "{\nn\nMemcheck:Leak\nmatch-leak-kinds:all\nfun:f\n}\n"
				 "{\nm\nMemcheck:Leak\nmatch-leak-kinds: none\nfun:f\n}\n"
				 "{\no\nMemcheck:Leak\nmatch-leak-kinds: reachable\nsrc:a.c:*\n}\n"), 0);
	assert_int_equal(set.order[2]->kinds, LT_KINDS_ALL);
	assert_int_equal(set.order[1]->kinds, 0);
	assert_int_equal(set.order[0]->kinds, LT_KINDS_REACHABLE);
	assert_int_equal(set.order[0]->locs[0].line, 0);
}

/* Every error names the file and the line, in one line. */
static void test_valgrind_errors(void **state)
{
	static const struct { const char *content, *error; } cases[] = {
		{ "fun:malloc\n",
		  "bad.supp:1: not a suppressions file: expected '{' (valgrind's format) or "
		  "leak:PATTERN (LeakSanitizer's)" },
		{ "{\nn\nMemcheck:Leak\nfun:f\n}\nfun:g\n",
		  "bad.supp:6: expected '{' or the end of the file, not 'fun:g'" },
		{ "{\n}\n", "bad.supp:2: unexpected '}' (expecting a suppression's name)" },
		{ "{\n", "bad.supp:1: unexpected end of file (expecting a suppression's name)" },
		{ "{\nname\n", "bad.supp:2: unexpected end of file (expecting tool:kind, e.g. Memcheck:Leak)" },
		{ "{\nname\nMemcheck Leak\nfun:f\n}\n",
		  "bad.supp:3: 'Memcheck Leak' is not a tool:kind line (e.g. Memcheck:Leak)" },
		{ "{\nname\nMemcheck:Leek\nfun:f\n}\n",
		  "bad.supp:3: unknown Memcheck suppression kind 'Leek'" },
		{ "{\nname\nMemcheck:Leak\nmatch-leak-kinds: definite, possible\nfun:f\n}\n",
		  "bad.supp:4: bad match-leak-kinds: 'definite, possible' (a list of definite, "
		  "indirect, possible, reachable, or all, or none)" },
		{ "{\nname\nMemcheck:Leak\nfun:f\nfunc:g\n}\n",
		  "bad.supp:5: 'func:g': a frame line is \"...\" or starts with fun:, obj: or src:" },
		{ "{\nname\nMemcheck:Leak\n}\n",
		  "bad.supp:4: suppression 'name' has no frame lines (fun:, obj:, src: or ...)" },
		{ "{\nname\nMemcheck:Leak\n...\n...\n}\n",
		  "bad.supp:6: suppression 'name' needs a frame line other than \"...\"" },
		{ "{\nname\nMemcheck:Leak\nfun:f\n",
		  "bad.supp:4: unexpected end of file (in the frames of suppression 'name')" },
		{ "{\nname\nHelgrind:Race\nfun:f\n",
		  "bad.supp:4: unexpected end of file (in the suppression of another tool: no '}')" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lt_supp_free(&set);
		err[0] = '\0';
		if (parse("bad.supp", cases[i].content) != -1)
			fail_msg("case %zu parsed", i);
		if (strcmp(err, cases[i].error) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, err, cases[i].error);
	}
}

static void test_empty_files(void **state)
{
	assert_int_equal(parse("e.supp", ""), 0);
	assert_int_equal(parse("e.supp", "# nothing yet\n\n   \n"), 0);
	assert_int_equal(set.count, 0);
}

/* ---- LeakSanitizer's format ---- */

static void test_lsan_file(void **state)
{
	assert_int_equal(parse("lsan.supp", "# third party\n  leak:libfoo.so  \r\n\nleak:^bar$\n"), 0);
	assert_int_equal(set.count, 2);
	assert_string_equal(set.order[1]->pattern, "libfoo.so");
	assert_string_equal(set.order[1]->name, "leak:libfoo.so");
	assert_int_equal(set.order[1]->lineno, 2);
	assert_string_equal(set.order[0]->pattern, "^bar$");
	assert_int_equal(set.order[0]->kinds, LT_KINDS_ALL);

	lt_supp_free(&set);
	assert_int_equal(parse("lsan.supp", "leak:a\nrace:b\n"), -1);
	assert_string_equal(err, "lsan.supp:2: 'race:b': LeakSanitizer suppressions are leak:PATTERN lines");
	lt_supp_free(&set);
	assert_int_equal(parse("lsan.supp", "leak:a\nleak:\n"), -1);
	assert_string_equal(err, "lsan.supp:2: empty leak: pattern (it would suppress every leak; "
				 "write leak:* to mean that)");
	lt_supp_free(&set);
	assert_int_equal(parse("lsan.supp", "leak:a\n{\n"), -1);
	assert_string_equal(err, "lsan.supp:2: '{': LeakSanitizer suppressions are leak:PATTERN lines");
}

static void test_load_errors(void **state)
{
	assert_int_equal(lt_supp_load(&set, "/nonexistent/x.supp", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/x.supp: cannot read the suppressions file: "
				 "No such file or directory");
}

/* ---- matching ---- */

static const struct lt_supp_frame frames[] = {
	{ .fn = "malloc", .obj = "/lib/libleaktrace.so", .file = "interpose.c", .line = 40, .entry = true },
	{ .fn = "inl", .shown_fn = "inl", .obj = "/usr/bin/prog", .dir = "/src", .file = "leak.c", .line = 3 },
	{ .fn = "_Z5outeri", .shown_fn = "outer(int)", .obj = "/usr/bin/prog", .dir = "/src",
	  .file = "leak.c", .line = 7 },
	{ .fn = "main", .shown_fn = "main", .obj = "/usr/bin/prog", .dir = "/src", .file = "leak.c",
	  .line = 10 },
	{ .fn = "__libc_start_call_main", .obj = "/lib/libc.so.6" },
	{ .obj = NULL },
};

static bool matches(const char *supp, unsigned kind)
{
	lt_supp_free(&set);
	if (parse("m.supp", supp))
		fail_msg("parse: %s", err);
	return lt_supp_matches(set.order[0], kind, frames, 6);
}

#define LEAK(lines) "{\nx\nMemcheck:Leak\n" lines "}\n"

static void test_matching(void **state)
{
	/* A prefix of the stack, line for line. */
	assert_true(matches(LEAK("fun:malloc\n"), LT_KIND_DEFINITE));
	assert_true(matches(LEAK("fun:malloc\nfun:inl\nfun:_Z5outeri\nfun:main\n"), LT_KIND_DEFINITE));
	assert_false(matches(LEAK("fun:inl\n"), LT_KIND_DEFINITE));
	assert_false(matches(LEAK("fun:malloc\nfun:_Z5outeri\n"), LT_KIND_DEFINITE));
	/* fun: sees the mangled name, never the demangled one. */
	assert_false(matches(LEAK("fun:malloc\nfun:inl\nfun:outer(int)\n"), LT_KIND_DEFINITE));
	assert_true(matches(LEAK("fun:malloc\nfun:inl\nfun:_Z5outer*\n"), LT_KIND_DEFINITE));
	/* Frame-level wildcards: anywhere, zero frames or more. */
	assert_true(matches(LEAK("...\nfun:main\n"), LT_KIND_DEFINITE));
	assert_true(matches(LEAK("fun:malloc\n...\nfun:inl\n"), LT_KIND_DEFINITE));
	assert_true(matches(LEAK("...\nfun:malloc\n...\n"), LT_KIND_DEFINITE));
	assert_true(matches(LEAK("fun:malloc\n...\nfun:main\n...\n"), LT_KIND_DEFINITE));
	assert_true(matches(LEAK("...\nfun:_Z5outeri\n...\nfun:__libc_start_call_main\n"), LT_KIND_DEFINITE));
	assert_false(matches(LEAK("...\nfun:nowhere\n...\n"), LT_KIND_DEFINITE));
	assert_false(matches(LEAK("fun:malloc\n...\nfun:main\nfun:main\n"), LT_KIND_DEFINITE));
	/* Beyond the stack's end: no match. */
	assert_false(matches(LEAK("...\nfun:__libc_start_call_main\nfun:*\nfun:*\n"), LT_KIND_DEFINITE));
	/* A frame without a name or module is "???" to fun: and obj:. */
	assert_true(matches(LEAK("...\nfun:__libc_start_call_main\nobj:???\n"), LT_KIND_DEFINITE));
	assert_true(matches(LEAK("...\nfun:__libc_start_call_main\nfun:*\n"), LT_KIND_DEFINITE));
	/* obj: on the module path, src: on the file name and line. */
	assert_true(matches(LEAK("obj:*\nobj:/usr/bin/prog\nobj:*/prog\n"), LT_KIND_DEFINITE));
	assert_true(matches(LEAK("...\nobj:*libc.so*\n"), LT_KIND_DEFINITE));
	assert_true(matches(LEAK("...\nsrc:leak.c:7\n"), LT_KIND_DEFINITE));
	assert_true(matches(LEAK("...\nsrc:leak.c\nsrc:*.c:7\n"), LT_KIND_DEFINITE));
	assert_false(matches(LEAK("...\nsrc:leak.c:8\n"), LT_KIND_DEFINITE));
	assert_false(matches(LEAK("...\nsrc:/src/leak.c:7\n"), LT_KIND_DEFINITE));
	/* The allocation function is in valgrind's preloaded library there. */
	assert_true(matches(LEAK("obj:*/vgpreload_memcheck-amd64-linux.so\nfun:inl\n"), LT_KIND_DEFINITE));
	assert_false(matches(LEAK("fun:malloc\nobj:*/vgpreload_memcheck-amd64-linux.so\n"), LT_KIND_DEFINITE));
	/* match-leak-kinds; no verdict is never suppressed. */
	assert_false(matches(LEAK("match-leak-kinds: definite\nfun:malloc\n"), LT_KIND_POSSIBLE));
	assert_true(matches(LEAK("match-leak-kinds: definite,possible\nfun:malloc\n"), LT_KIND_POSSIBLE));
	assert_false(matches(LEAK("match-leak-kinds: none\nfun:malloc\n"), LT_KIND_DEFINITE));
	assert_false(matches(LEAK("fun:malloc\n"), LT_KIND_UNCLASSIFIED));
}

/* Names valgrind gives where we see others. */
static void test_valgrind_names(void **state)
{
	const struct lt_supp_frame f[] = {
		{ .fn = "aligned_alloc", .entry = true },
		{ .fn = "worker" },
		{ .fn = "start_thread" },
		{ .fn = "clone3" },
	};
	lt_supp_free(&set);
	assert_int_equal(parse("v.supp", LEAK("fun:memalign\nfun:worker\nfun:start_thread\nfun:clone\n")), 0);
	assert_true(lt_supp_matches(set.order[0], LT_KIND_DEFINITE, f, 4));
	lt_supp_free(&set);
	assert_int_equal(parse("v.supp", LEAK("fun:aligned_alloc\nfun:worker\nfun:start_thread\nfun:clone3\n")), 0);
	assert_true(lt_supp_matches(set.order[0], LT_KIND_DEFINITE, f, 4));
	lt_supp_free(&set);
	assert_int_equal(parse("v.supp", LEAK("fun:*\nfun:memalign\n")), 0);
	assert_false(lt_supp_matches(set.order[0], LT_KIND_DEFINITE, f, 4));

	/* valgrind's posix_memalign runs its memalign: two frames there. */
	const struct lt_supp_frame pm[] = {
		{ .fn = "posix_memalign", .entry = true },
		{ .fn = "via_posix_memalign" },
		{ .fn = "main" },
	};
	lt_supp_free(&set);
	assert_int_equal(parse("v.supp", LEAK("fun:memalign\nfun:posix_memalign\n"
					     "fun:via_posix_memalign\nfun:main\n")), 0);
	assert_true(lt_supp_matches(set.order[0], LT_KIND_DEFINITE, pm, 3));
	lt_supp_free(&set);
	assert_int_equal(parse("v.supp", LEAK("fun:posix_memalign\nfun:via_posix_memalign\n")), 0);
	assert_true(lt_supp_matches(set.order[0], LT_KIND_DEFINITE, pm, 3));
	lt_supp_free(&set);
	assert_int_equal(parse("v.supp", LEAK("fun:memalign\nfun:via_posix_memalign\n")), 0);
	assert_false(lt_supp_matches(set.order[0], LT_KIND_DEFINITE, pm, 3));
	/* realloc(NULL, n) is malloc there. */
	const struct lt_supp_frame re[] = { { .fn = "realloc", .entry = true }, { .fn = "grow" } };
	lt_supp_free(&set);
	assert_int_equal(parse("v.supp", LEAK("fun:malloc\nfun:grow\n")), 0);
	assert_true(lt_supp_matches(set.order[0], LT_KIND_DEFINITE, re, 2));
}

/* libleaktrace.so's wrappers past the allocation function (its
 * pthread_create) are not in valgrind's stacks: suppressions neither see
 * nor write them. */
static void test_our_wrappers(void **state)
{
	const struct test_stack stacks[] = {
		{ .id = 1, .depth = 4, .frames = { 0x7f0000001100, 0x7f0000001100, 0x401010, 0x401100 } },
	};
	const struct test_block blocks[] = { { 1, 8, 1, LT_KIND_DEFINITE, 0 } };
	struct test_snap s = lt_test_small;
	s.stacks = stacks;
	s.nstacks = 1;
	s.blocks = blocks;
	s.nblocks = 1;
	tw_snapshot(&w, &s);
	if (lt_snapshot_parse(w.buf, w.len, &snap, err, sizeof(err)))
		fail_msg("parse: %s", err);
	assert_int_equal(lt_records_build(&snap, opts.num_callers, &recs), 0);
	assert_int_equal(parse("w.supp", LEAK("fun:malloc\nfun:helper\nfun:main\n")), 0);
	assert_int_equal(lt_supp_apply(&set, &snap, &lt_test_frames, opts.num_callers, &recs), 1);

	struct lt_outbuf *ob = malloc(sizeof(*ob));
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	lt_ob_init(ob, out);
	lt_supp_write_text(ob, &snap, &lt_test_frames, opts.num_callers, recs.recs[0].stack_id,
			   recs.recs[0].kind);
	lt_ob_flush(ob);
	fclose(out);
	free(ob);
	assert_string_equal(text,
		"{\n"
		"   <insert_a_suppression_name_here>\n"
		"   Memcheck:Leak\n"
		"   match-leak-kinds: definite\n"
		"   fun:malloc\n"
		"   fun:helper\n"
		"   fun:main\n"
		"}\n");
}

static bool lsan_matches(const char *pattern)
{
	char line[256];
	snprintf(line, sizeof(line), "leak:%s\n", pattern);
	lt_supp_free(&set);
	if (parse("l.supp", line))
		fail_msg("parse: %s", err);
	return lt_supp_matches(set.order[0], LT_KIND_INDIRECT, frames, 6);
}

/* LeakSanitizer: module, demangled function or source file of any frame. */
static void test_lsan_matching(void **state)
{
	assert_true(lsan_matches("outer(int)"));
	assert_true(lsan_matches("^outer"));
	assert_false(lsan_matches("_Z5outeri"));
	assert_true(lsan_matches("/src/leak.c"));
	assert_true(lsan_matches("leak.c$"));
	assert_true(lsan_matches("libc.so"));
	assert_true(lsan_matches("^/usr/bin/prog$"));
	assert_false(lsan_matches("^prog"));
	assert_false(lsan_matches("nothing"));
}

/* ---- applied to records, in the reports ---- */

static const struct lt_report_ops *const text_ops = &lt_report_text_ops;

static const char *render(const struct lt_report_ops *ops)
{
	size_t size = 0;
	free(text);
	text = NULL;
	FILE *out = open_memstream(&text, &size);
	assert_int_equal(lt_report_render(ops, out, &snap, &recs, &lt_test_frames, &opts,
					  "/usr/bin/leaktrace"), 0);
	fclose(out);
	return text;
}

static void build(const char *supp)
{
	tw_snapshot(&w, &lt_test_small);
	if (lt_snapshot_parse(w.buf, w.len, &snap, err, sizeof(err)))
		fail_msg("parse: %s", err);
	if (supp && parse("s.supp", supp))
		fail_msg("supp: %s", err);
	assert_int_equal(lt_records_build(&snap, opts.num_callers, &recs), 0);
}

/* lt_test_small's records, in order: 1 possible 16 (stack 3), 2 indirect
 * 1,056 (stack 2: malloc, inl, outer(int), main), 3 definite 64 + 1,056
 * (stack 1: malloc, helper, main), 4 reachable 2,000 (stack 3). */
static const char two_supps[] =
	"{\n"
	"   the list\n"
	"   Memcheck:Leak\n"
	"   fun:malloc\n"
	"   fun:helper\n"
	"}\n"
	"{\n"
	"   anything from main\n"
	"   Memcheck:Leak\n"
	"   match-leak-kinds: indirect,reachable\n"
	"   ...\n"
	"   fun:main\n"
	"}\n"
	"{\n"
	"   unused\n"
	"   Memcheck:Leak\n"
	"   fun:calloc\n"
	"}\n";

static void test_apply(void **state)
{
	build(two_supps);
	assert_int_equal(lt_supp_apply(&set, &snap, &lt_test_frames, opts.num_callers, &recs), 2);
	assert_false(recs.recs[0].suppressed);
	assert_true(recs.recs[1].suppressed);
	assert_string_equal(recs.recs[1].supp_name, "anything from main");
	assert_true(recs.recs[2].suppressed);
	assert_string_equal(recs.recs[2].supp_name, "the list");
	assert_false(recs.recs[3].suppressed);   /* stack 3 has no main */
	/* Direct bytes move to "suppressed", as valgrind counts them. */
	assert_true(recs.suppressed_bytes == 64 + 1056);
	assert_true(recs.suppressed_blocks == 4);
	assert_true(recs.kind_bytes[LT_KIND_DEFINITE] == 0);
	assert_true(recs.kind_blocks[LT_KIND_INDIRECT] == 0);
	assert_true(recs.kind_bytes[LT_KIND_POSSIBLE] == 16);
	/* Each suppression's count, bytes (direct and indirect) and blocks,
	 * the one used last first. */
	assert_string_equal(set.order[0]->name, "the list");
	assert_true(set.order[0]->count == 1 && set.order[0]->bytes == 1120 &&
		    set.order[0]->blocks == 2);
	assert_string_equal(set.order[1]->name, "anything from main");
	assert_true(set.order[1]->count == 1 && set.order[1]->bytes == 1056);
	assert_string_equal(set.order[2]->name, "unused");
	assert_true(set.order[2]->count == 0);
	assert_ptr_equal(recs.supps, &set);
}

/* Mapping records are matched as loss records: "the list" (malloc,
 * helper; any kind) takes the definite heap record of stack 1 and the
 * definite mapping of the same stack; "anything from main" (indirect,
 * reachable) takes the reachable mapping of stack 2 (it has main), not
 * the possible mapping of stack 3 (no main). */
static const struct test_mapping supp_mappings[] = {
	{ 0x7f0000100000, 4096, 1, LT_KIND_DEFINITE, LT_MAP_PRIVATE_ANON, 0, NULL },
	{ 0x7f0000200000, 8192, 2, LT_KIND_REACHABLE, LT_MAP_SHARED_ANON, 0, NULL },
	{ 0x7f0000300000, 16384, 3, LT_KIND_POSSIBLE, LT_MAP_PRIVATE_FILE, 0, "/f" },
};

static void test_apply_mappings(void **state)
{
	struct test_snap ts = lt_test_small;
	ts.with_mappings = true;
	ts.mappings = supp_mappings;
	ts.nmappings = 3;
	tw_snapshot(&w, &ts);
	if (lt_snapshot_parse(w.buf, w.len, &snap, err, sizeof(err)))
		fail_msg("parse: %s", err);
	if (parse("s.supp", two_supps))
		fail_msg("supp: %s", err);
	assert_int_equal(lt_records_build(&snap, opts.num_callers, &recs), 0);
	assert_int_equal(recs.nmaps, 3);
	/* 2 loss records and 2 mapping records. */
	assert_int_equal(lt_supp_apply(&set, &snap, &lt_test_frames, opts.num_callers, &recs), 4);
	assert_true(recs.maps[0].suppressed);      /* 4,096 definite, stack 1 */
	assert_string_equal(recs.maps[0].supp_name, "the list");
	assert_true(recs.maps[1].suppressed);      /* 8,192 reachable, stack 2 */
	assert_string_equal(recs.maps[1].supp_name, "anything from main");
	assert_false(recs.maps[2].suppressed);     /* 16,384 possible, stack 3 */
	/* Mappings move from their kind to "suppressed"; types stay. */
	assert_true(recs.map_suppressed_bytes == 4096 + 8192);
	assert_true(recs.map_suppressed_count == 2);
	assert_true(recs.map_kind_bytes[LT_KIND_DEFINITE] == 0);
	assert_true(recs.map_kind_count[LT_KIND_REACHABLE] == 0);
	assert_true(recs.map_kind_bytes[LT_KIND_POSSIBLE] == 16384);
	assert_true(recs.map_type_bytes[LT_MAP_PRIVATE_ANON] == 4096);
	/* The heap's figures are what they were without mappings. */
	assert_true(recs.suppressed_bytes == 64 + 1056 && recs.suppressed_blocks == 4);
	/* Uses: the mapping counted in the suppression's "blocks". */
	const struct lt_supp *list = NULL;
	for (size_t i = 0; i < set.count; i++)
		if (!strcmp(set.order[i]->name, "the list"))
			list = set.order[i];
	assert_non_null(list);
	assert_true(list->count == 2 && list->bytes == 1120 + 4096 && list->blocks == 2 + 1);

	opts.show_leak_kinds = LT_KINDS_ALL;
	render(text_ops);
	assert_null(strstr(text, "mappings (private anonymous)"));
	assert_null(strstr(text, "mappings (shared anonymous)"));
	assert_non_null(strstr(text, P "16,384 bytes in 1 mappings (private file-backed /f) are "
				     "possibly lost in mapping record 3 of 3\n"));
	assert_non_null(strstr(text,
		P "    still reachable: 0 bytes in 0 mappings\n"
		P "         suppressed: 12,288 bytes in 2 mappings\n"));
	/* Suppressed errors: the definite heap record and the definite
	 * mapping; errors: the possible heap record and mapping. */
	assert_non_null(strstr(text, P "ERROR SUMMARY: 2 errors from 2 contexts (suppressed: 2 from 2)\n"));
}

/* num_callers cuts the suppression's lines as it cuts the stack. */
static void test_apply_num_callers(void **state)
{
	opts.num_callers = 2;
	build(LEAK("fun:malloc\nfun:helper\nfun:nothing-after-the-cut\n"));
	assert_int_equal(lt_supp_apply(&set, &snap, &lt_test_frames, opts.num_callers, &recs), 1);
	assert_true(recs.recs[2].suppressed);
}

#define HEADER \
	P "leaktrace-" LT_VERSION ", a memory leak detector\n" \
	P "Command: ./prog -v a\\ b\n" \
	P "\n" \
	P "\n" \
	P "HEAP SUMMARY:\n" \
	P "    in use at exit: 3,136 bytes in 6 blocks\n" \
	P "  total heap usage: 10 allocs, 4 frees, 123,456 bytes allocated\n" \
	P "\n"

#define POSSIBLE_RECORD \
	P "16 bytes in 1 blocks are possibly lost in loss record 1 of 4\n" \
	P "   at 0x7F0000001100: malloc (interpose.c:40)\n" \
	P "   by 0x401020: ??? (in /usr/bin/prog)\n" \
	P "\n"

#define SUMMARY \
	P "LEAK SUMMARY:\n" \
	P "   definitely lost: 0 bytes in 0 blocks\n" \
	P "   indirectly lost: 0 bytes in 0 blocks\n" \
	P "     possibly lost: 16 bytes in 1 blocks\n" \
	P "   still reachable: 2,000 bytes in 1 blocks\n" \
	P "        suppressed: 1,120 bytes in 4 blocks\n" \
	P "Reachable blocks (those to which a pointer was found) are not shown.\n" \
	P "To see them, rerun with: --leak-check=full --show-leak-kinds=all\n" \
	P "\n"

#define USED \
	D "\n" \
	D "used_suppression:      1 the list s.supp:2 suppressed: 1,120 bytes in 2 blocks\n" \
	D "used_suppression:      1 anything from main s.supp:8 suppressed: 1,056 bytes in 2 blocks\n" \
	P "\n"

/* As valgrind 3.19 prints it: suppressed records neither shown nor
 * counted, still numbered; "(suppressed: N from N)" counts those that
 * would have been errors (here the definite one). */
static void test_text_report(void **state)
{
	build(two_supps);
	lt_supp_apply(&set, &snap, &lt_test_frames, opts.num_callers, &recs);
	assert_string_equal(render(text_ops),
		HEADER
		POSSIBLE_RECORD
		SUMMARY
		P "For lists of detected and suppressed errors, rerun with: -s\n"
		P "ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 1 from 1)\n");

	/* -s: the list, then the ERROR SUMMARY again. */
	opts.show_error_list = true;
	assert_string_equal(render(text_ops),
		HEADER
		POSSIBLE_RECORD
		SUMMARY
		P "ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 1 from 1)\n"
		USED
		P "ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 1 from 1)\n");

	/* -q: the records only; -q -s: and the summaries of -s. */
	opts.show_error_list = false;
	opts.verbosity = 0;
	assert_string_equal(render(text_ops), POSSIBLE_RECORD);
	opts.show_error_list = true;
	assert_string_equal(render(text_ops),
		POSSIBLE_RECORD
		P "ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 1 from 1)\n"
		USED
		P "ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 1 from 1)\n");

	/* summary: suppressed blocks still counted, no error either way. */
	opts.show_error_list = false;
	opts.verbosity = 1;
	opts.leak_check = LT_LEAK_CHECK_SUMMARY;
	render(text_ops);
	assert_non_null(strstr(text, P "        suppressed: 1,120 bytes in 4 blocks\n"));
	assert_non_null(strstr(text, P "ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n"));
}

static void test_verbose(void **state)
{
	build(two_supps);
	set.files = calloc(1, sizeof(char *));
	set.files[0] = strdup("/etc/s.supp");
	set.nfiles = 1;
	lt_supp_apply(&set, &snap, &lt_test_frames, opts.num_callers, &recs);
	opts.verbosity = 2;
	opts.num_callers = 20;
	render(text_ops);
	const char *head =
		P "leaktrace-" LT_VERSION ", a memory leak detector\n"
		P "Command: ./prog -v a\\ b\n"
		P "\n"
		D "leaktrace options:\n"
		D "   --num-callers=20\n"
		D "   --verbosity=2\n"
		D "Reading suppressions file: /etc/s.supp\n"
		P "\n"
		P "HEAP SUMMARY:\n";
	if (strncmp(text, head, strlen(head)) != 0)
		fail_msg("got:\n%s\nwant:\n%s", text, head);
	const char *tail =
		P "ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 1 from 1)\n"
		USED
		P "ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 1 from 1)\n";
	size_t tl = strlen(tail), len = strlen(text);
	assert_true(len > tl);
	assert_string_equal(text + len - tl, tail);
}

static void test_xml_suppcounts(void **state)
{
	build(two_supps);
	lt_supp_apply(&set, &snap, &lt_test_frames, opts.num_callers, &recs);
	render(&lt_report_xml_ops);
	assert_null(strstr(text, "definitely lost in loss record"));
	assert_non_null(strstr(text, "<text>16 bytes in 1 blocks are possibly lost in loss record 1 of 4</text>"));
	assert_non_null(strstr(text,
		"<suppcounts>\n"
		"  <pair>\n"
		"    <count>1</count>\n"
		"    <name>the list</name>\n"
		"  </pair>\n"
		"  <pair>\n"
		"    <count>1</count>\n"
		"    <name>anything from main</name>\n"
		"  </pair>\n"
		"</suppcounts>\n\n</valgrindoutput>\n\n"));
}

/* ---- --gen-suppressions ---- */

static void test_gen_text(void **state)
{
	build(NULL);
	opts.show_leak_kinds = LT_KINDS_ALL;
	opts.gen_suppressions = 2;
	render(text_ops);
	/* After the record and its blank line; the mangled name of the
	 * physical frame, the DWARF name of the inlined call; up to main. */
	assert_non_null(strstr(text,
		P "1,056 bytes in 2 blocks are indirectly lost in loss record 2 of 4\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x401030: inl (leak.c:3)\n"
		P "   by 0x401030: outer(int) (leak.c:7)\n"
		P "   by 0x401100: main (leak.c:10)\n"
		P "\n"
		"{\n"
		"   <insert_a_suppression_name_here>\n"
		"   Memcheck:Leak\n"
		"   match-leak-kinds: indirect\n"
		"   fun:malloc\n"
		"   fun:inl\n"
		"   fun:_Z5outeri\n"
		"   fun:main\n"
		"}\n"
		P "1,120 (64 direct, 1,056 indirect) bytes in 2 blocks are definitely lost in loss record 3 of 4\n"));
	/* A frame without a function name: its module. */
	assert_non_null(strstr(text,
		"   match-leak-kinds: reachable\n"
		"   fun:malloc\n"
		"   obj:/usr/bin/prog\n"
		"}\n"
		P "LEAK SUMMARY:\n"));
}

static void test_gen_xml(void **state)
{
	build(NULL);
	opts.gen_suppressions = 2;
	render(&lt_report_xml_ops);
	assert_non_null(strstr(text,
		"  </stack>\n"
		"  <suppression>\n"
		"    <sname>insert_a_suppression_name_here</sname>\n"
		"    <skind>Memcheck:Leak</skind>\n"
		"    <skaux>match-leak-kinds: possible</skaux>\n"
		"    <sframe> <fun>malloc</fun> </sframe>\n"
		"    <sframe> <obj>/usr/bin/prog</obj> </sframe>\n"
		"    <rawtext>\n"
		"<![CDATA[\n"
		"{\n"
		"   <insert_a_suppression_name_here>\n"
		"   Memcheck:Leak\n"
		"   match-leak-kinds: possible\n"
		"   fun:malloc\n"
		"   obj:/usr/bin/prog\n"
		"}\n"
		"]]>\n"
		"    </rawtext>\n"
		"  </suppression>\n"
		"</error>\n"
		"\n"
		"  <suppression>\n"
		"    <sname>insert_a_suppression_name_here</sname>\n"));
	assert_non_null(strstr(text, "  </suppression>\n<error>\n"));
	assert_non_null(strstr(text, "  </suppression>\n<errorcounts>\n"));
}

/* What --gen-suppressions writes, read back, suppresses exactly the
 * records it was written for. */
static void test_gen_round_trip(void **state)
{
	struct lt_outbuf *ob = malloc(sizeof(*ob));
	size_t size = 0;
	char *supp = NULL;
	build(NULL);
	FILE *out = open_memstream(&supp, &size);
	lt_ob_init(ob, out);
	for (size_t i = 0; i < recs.count; i++)
		if (i != 1)   /* all but the indirect record */
			lt_supp_write_text(ob, &snap, &lt_test_frames, opts.num_callers,
					   recs.recs[i].stack_id, recs.recs[i].kind);
	lt_ob_flush(ob);
	fclose(out);
	free(ob);
	assert_int_equal(parse("gen.supp", supp), 0);
	free(supp);
	assert_int_equal(lt_supp_apply(&set, &snap, &lt_test_frames, opts.num_callers, &recs), 3);
	assert_true(recs.recs[0].suppressed);
	assert_false(recs.recs[1].suppressed);
	assert_true(recs.recs[2].suppressed);
	assert_true(recs.recs[3].suppressed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_glob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lsan_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valgrind_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valgrind_kinds_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valgrind_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lsan_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_matching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valgrind_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_our_wrappers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lsan_matching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_mappings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_num_callers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verbose, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xml_suppcounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gen_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gen_xml, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gen_round_trip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
