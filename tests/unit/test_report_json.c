/* Unit tests of the machine-readable reports and baselines
 * (report/report_json.c, report_sarif.c, fingerprint.c, baseline.c):
 * whole documents rendered from a fake snapshot and symbolizer and
 * compared byte for byte, the fingerprints' canonical text, baselines
 * read, applied (exact and moved-line matches) and written, the text
 * report's order with a baseline, and baseline files that are broken. */
#define _GNU_SOURCE
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "baseline.h"
#include "fingerprint.h"
#include "json.h"
#include "lt_test.h"
#include "report.h"

static struct tw w;
static struct lt_snapshot snap;
static struct lt_options opts;
static struct lt_records recs;
static char *text;

static int setup(void **state)
{
	lt_options_defaults(&opts);
	text = NULL;
	memset(&recs, 0, sizeof(recs));
	return 0;
}

static int teardown(void **state)
{
	free(text);
	lt_records_free(&recs);
	lt_snapshot_free(&snap);
	tw_free(&w);
	return 0;
}

static void load(const struct test_snap *s)
{
	char err[256];
	tw_snapshot(&w, s);
	if (lt_snapshot_parse(w.buf, w.len, &snap, err, sizeof(err)))
		fail_msg("parse: %s", err);
	assert_int_equal(lt_records_build(&snap, opts.num_callers, &recs), 0);
}

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

/* Whole-document comparison that says where: the first line that
 * differs, both ways (cmocka cuts long strings short). LT_TEST_DUMP=file
 * writes what was rendered there. */
static void assert_text(const char *actual, const char *expected)
{
	const char *dump = getenv("LT_TEST_DUMP");
	if (dump) {
		FILE *f = fopen(dump, "w");
		if (f) {
			fputs(actual, f);
			fclose(f);
		}
	}
	if (strcmp(actual, expected) == 0)
		return;
	size_t line = 1;
	const char *a = actual, *e = expected;
	while (*a && *a == *e) {
		if (*a == '\n') {
			line++;
			actual = a + 1;
			expected = e + 1;
		}
		a++;
		e++;
	}
	fail_msg("line %zu differs:\n  got:  %.*s\n  want: %.*s", line,
		 (int)strcspn(actual, "\n"), actual, (int)strcspn(expected, "\n"), expected);
}

#define ALLOC_FRAME \
	"{\"ip\": \"0x7f0000001100\", \"function\": \"malloc\", \"file\": \"interpose.c\", " \
	"\"line\": 40, \"directory\": \"/src/preload\", \"object\": \"/usr/lib/libleaktrace.so\", " \
	"\"offset\": \"0x1100\", \"inlined\": false, \"external\": true}"
#define MAIN_FRAME \
	"{\"ip\": \"0x401100\", \"function\": \"main\", \"file\": \"leak.c\", \"line\": 10, " \
	"\"directory\": \"/src\", \"object\": \"/usr/bin/prog\", \"offset\": \"0x401100\", \"inlined\": false, \"external\": false}"
#define UNKNOWN_FRAME \
	"{\"ip\": \"0x401020\", \"function\": null, \"file\": null, \"line\": null, " \
	"\"directory\": null, \"object\": \"/usr/bin/prog\", \"offset\": \"0x401020\", \"inlined\": false, \"external\": false}"

/* The whole document for the small snapshot with the default options
 * (definite and possible shown): every record is listed, the shown ones
 * say so. The fingerprints were checked against the definition in
 * docs/json-report.md with Python's hashlib (the integration test does
 * the same on real programs). */
static void test_json_document(void **state)
{
	load(&lt_test_small);
	assert_text(render(&lt_report_json_ops),
		"{\n"
		"  \"format\": \"leaktrace-report\",\n"
		"  \"format_version\": 1,\n"
		"  \"fingerprint_version\": 1,\n"
		"  \"tool\": {\"name\": \"leaktrace\", \"version\": \"" LT_VERSION "\"},\n"
		"  \"process\": {\n"
		"    \"pid\": 4242,\n"
		"    \"ppid\": 4241,\n"
		"    \"exe\": \"/usr/bin/prog\",\n"
		"    \"argv\": [\"./prog\", \"-v\", \"a b\"],\n"
		"    \"reason\": \"exit\",\n"
		"    \"sequence\": 1,\n"
		"    \"time\": \"2023-11-14T22:13:20.123Z\"\n"
		"  },\n"
		"  \"options\": {\n"
		"    \"leak_check\": \"full\",\n"
		"    \"show_leak_kinds\": [\"definite\", \"possible\"],\n"
		"    \"errors_for_leak_kinds\": [\"definite\", \"possible\"],\n"
		"    \"num_callers\": 12,\n"
		"    \"baseline\": null\n"
		"  },\n"
		"  \"heap\": {\n"
		"    \"in_use_bytes\": 3136,\n"
		"    \"in_use_blocks\": 6,\n"
		"    \"allocs\": 10,\n"
		"    \"frees\": 4,\n"
		"    \"bytes_allocated\": 123456\n"
		"  },\n"
		"  \"scan\": {\n"
		"    \"classified\": false,\n"
		"    \"complete\": true,\n"
		"    \"unstopped_threads\": 0,\n"
		"    \"untracked_blocks\": 0,\n"
		"    \"notes\": [\n"
		"      \"no reachability scan was made: blocks are not classified\"\n"
		"    ]\n"
		"  },\n"
		"  \"leaks\": {\n"
		"    \"definitely-lost\": {\"bytes\": 64, \"blocks\": 2},\n"
		"    \"indirectly-lost\": {\"bytes\": 1056, \"blocks\": 2},\n"
		"    \"possibly-lost\": {\"bytes\": 16, \"blocks\": 1},\n"
		"    \"still-reachable\": {\"bytes\": 2000, \"blocks\": 1},\n"
		"    \"not-classified\": {\"bytes\": 0, \"blocks\": 0},\n"
		"    \"suppressed\": {\"bytes\": 0, \"blocks\": 0}\n"
		"  },\n"
		"  \"errors\": {\"count\": 2, \"baselined\": 0, \"suppressed\": 0},\n"
		"  \"records\": [\n"
		"    {\n"
		"      \"index\": 1,\n"
		"      \"kind\": \"possibly-lost\",\n"
		"      \"bytes\": 16,\n"
		"      \"direct_bytes\": 16,\n"
		"      \"indirect_bytes\": 0,\n"
		"      \"blocks\": 1,\n"
		"      \"indirect_blocks\": 0,\n"
		"      \"shown\": true,\n"
		"      \"error\": true,\n"
		"      \"suppressed\": false,\n"
		"      \"baselined\": false,\n"
		"      \"message\": \"16 bytes in 1 blocks are possibly lost in loss record 1 of 4\",\n"
		"      \"fingerprint\": \"c8b16fa995f3bc044f711cd3ba3f99a0\",\n"
		"      \"fuzzy_fingerprint\": \"03ed59557bdb7ba9308ca59cbc9ed64f\",\n"
		"      \"site\": null,\n"
		"      \"stack\": [\n"
		"        " ALLOC_FRAME ",\n"
		"        " UNKNOWN_FRAME "\n"
		"      ]\n"
		"    },\n"
		"    {\n"
		"      \"index\": 2,\n"
		"      \"kind\": \"indirectly-lost\",\n"
		"      \"bytes\": 1056,\n"
		"      \"direct_bytes\": 1056,\n"
		"      \"indirect_bytes\": 0,\n"
		"      \"blocks\": 2,\n"
		"      \"indirect_blocks\": 0,\n"
		"      \"shown\": false,\n"
		"      \"error\": false,\n"
		"      \"suppressed\": false,\n"
		"      \"baselined\": false,\n"
		"      \"message\": \"1,056 bytes in 2 blocks are indirectly lost in loss record 2 of 4\",\n"
		"      \"fingerprint\": \"d40d8795543f48c9748068a6ed3c7974\",\n"
		"      \"fuzzy_fingerprint\": \"171a1d7ae2f15000f34c28f82ff8c7df\",\n"
		"      \"site\": 1,\n"
		"      \"stack\": [\n"
		"        " ALLOC_FRAME ",\n"
		"        {\"ip\": \"0x401030\", \"function\": \"inl\", \"file\": \"leak.c\", \"line\": 3, "
		"\"directory\": \"/src\", \"object\": \"/usr/bin/prog\", \"offset\": \"0x401030\", \"inlined\": true, \"external\": false},\n"
		"        {\"ip\": \"0x401030\", \"function\": \"outer(int)\", \"file\": \"leak.c\", \"line\": 7, "
		"\"directory\": \"/src\", \"object\": \"/usr/bin/prog\", \"offset\": \"0x401030\", \"inlined\": false, \"external\": false},\n"
		"        " MAIN_FRAME "\n"
		"      ]\n"
		"    },\n"
		"    {\n"
		"      \"index\": 3,\n"
		"      \"kind\": \"definitely-lost\",\n"
		"      \"bytes\": 1120,\n"
		"      \"direct_bytes\": 64,\n"
		"      \"indirect_bytes\": 1056,\n"
		"      \"blocks\": 2,\n"
		"      \"indirect_blocks\": 2,\n"
		"      \"shown\": true,\n"
		"      \"error\": true,\n"
		"      \"suppressed\": false,\n"
		"      \"baselined\": false,\n"
		"      \"message\": \"1,120 (64 direct, 1,056 indirect) bytes in 2 blocks are definitely lost in loss record 3 of 4\",\n"
		"      \"fingerprint\": \"b90dc1c9d8c4828373063f0c26d92b64\",\n"
		"      \"fuzzy_fingerprint\": \"6cd9b8ed2b5398023026b76422e1374b\",\n"
		"      \"site\": 1,\n"
		"      \"stack\": [\n"
		"        " ALLOC_FRAME ",\n"
		"        {\"ip\": \"0x401010\", \"function\": \"helper\", \"file\": \"leak.c\", \"line\": 5, "
		"\"directory\": \"/src\", \"object\": \"/usr/bin/prog\", \"offset\": \"0x401010\", \"inlined\": false, \"external\": false},\n"
		"        " MAIN_FRAME "\n"
		"      ]\n"
		"    },\n"
		"    {\n"
		"      \"index\": 4,\n"
		"      \"kind\": \"still-reachable\",\n"
		"      \"bytes\": 2000,\n"
		"      \"direct_bytes\": 2000,\n"
		"      \"indirect_bytes\": 0,\n"
		"      \"blocks\": 1,\n"
		"      \"indirect_blocks\": 0,\n"
		"      \"shown\": false,\n"
		"      \"error\": false,\n"
		"      \"suppressed\": false,\n"
		"      \"baselined\": false,\n"
		"      \"message\": \"2,000 bytes in 1 blocks are still reachable in loss record 4 of 4\",\n"
		"      \"fingerprint\": \"9f8effce415b667b1778953c65eded5e\",\n"
		"      \"fuzzy_fingerprint\": \"93b0e0a0e1fafb80578054e06ffa5f0a\",\n"
		"      \"site\": null,\n"
		"      \"stack\": [\n"
		"        " ALLOC_FRAME ",\n"
		"        " UNKNOWN_FRAME "\n"
		"      ]\n"
		"    }\n"
		"  ]\n"
		"}\n");
}


/* ---- fingerprints ---- */

/* The same program seen differently: loaded elsewhere (ASLR), built in
 * another directory, its allocator at another line, or its lines moved. */
static struct {
	uint64_t shift;           /* added to every address of the snapshot */
	const char *dir;          /* replaces the directory of every frame */
	unsigned line_delta;      /* added to the lines of the program's frames */
	unsigned alloc_line;      /* replaces the allocator's line */
	const char *helper_dir;   /* replaces helper()'s directory */
} variant;

static size_t variant_resolve(void *ctx, const struct lt_stack *stack, uint32_t index,
			      const struct lt_frame **frames)
{
	/* One array per index: the caller keeps every address's frames. */
	static struct lt_frame frames_of[LT_SNAP_MAX_DEPTH][8];
	struct lt_frame *out = frames_of[index];
	uint64_t addr = stack->frames[index] - variant.shift;
	struct lt_stack one = { .id = stack->id, .depth = 1, .frames = &addr };
	const struct lt_frame *base;
	size_t n = lt_test_frames.resolve(NULL, &one, 0, &base);
	for (size_t i = 0; i < n && i < 8; i++) {
		out[i] = base[i];
		if (variant.dir && out[i].dir)
			out[i].dir = variant.dir;
		if (index == 0 && variant.alloc_line)
			out[i].line = variant.alloc_line;
		else if (out[i].line)
			out[i].line += variant.line_delta;
		if (variant.helper_dir && out[i].fn && strcmp(out[i].fn, "helper") == 0)
			out[i].dir = variant.helper_dir;
	}
	*frames = out;
	return n;
}

static const struct lt_frame_source variant_frames = { variant_resolve, NULL };

struct prints {
	char fp[8][LT_FINGERPRINT_HEX + 1], fuzzy[8][LT_FINGERPRINT_HEX + 1];
};

static void fingerprints(const struct lt_frame_source *src, struct prints *p)
{
	struct lt_record_view v = { 0 };
	assert_true(recs.count <= 8);
	for (size_t i = 0; i < recs.count; i++) {
		assert_int_equal(lt_record_view_get(&v, &snap, src, opts.num_callers, &recs.recs[i]), 0);
		strcpy(p->fp[i], v.fingerprint);
		strcpy(p->fuzzy[i], v.fuzzy_fingerprint);
	}
	lt_record_view_free(&v);
}

static void reload_shifted(uint64_t shift)
{
	static struct test_stack stacks[3];
	struct test_snap s = lt_test_small;
	memcpy(stacks, s.stacks, sizeof(stacks));
	for (size_t i = 0; i < 3; i++)
		for (uint32_t f = 0; f < stacks[i].depth; f++)
			stacks[i].frames[f] += shift;
	s.stacks = stacks;
	s.pid = 777;              /* another run */
	lt_records_free(&recs);
	lt_snapshot_free(&snap);
	load(&s);
	variant.shift = shift;
}

static void test_fingerprint_text(void **state)
{
	struct lt_record_view v = { 0 };
	size_t len;
	load(&lt_test_small);
	/* Record 3: definitely lost, malloc <- helper <- main. */
	assert_int_equal(lt_record_view_get(&v, &snap, &lt_test_frames, 12, &recs.recs[2]), 0);
	char *t = lt_fingerprint_text(&v, recs.recs[2].kind, true, &len);
	assert_string_equal(t,
		"leaktrace fingerprint 1\n"
		"kind definitely-lost\n"
		"frame 6:malloc,0:,0:,0:,\n"
		"frame 6:helper,6:leak.c,1:5,0:,\n"
		"frame 4:main,6:leak.c,2:10,0:,\n");
	assert_int_equal(len, strlen(t));
	free(t);
	t = lt_fingerprint_text(&v, recs.recs[2].kind, false, &len);
	assert_string_equal(t,
		"leaktrace fuzzy fingerprint 1\n"
		"kind definitely-lost\n"
		"frame 6:malloc,0:,0:,0:,\n"
		"frame 6:helper,6:leak.c,0:,0:,\n"
		"frame 4:main,6:leak.c,0:,0:,\n");
	free(t);
	/* The kind is part of it. */
	t = lt_fingerprint_text(&v, LT_KIND_POSSIBLE, true, &len);
	assert_non_null(strstr(t, "kind possibly-lost\n"));
	free(t);
	/* Record 1: an unnamed frame says its module's file name only. */
	assert_int_equal(lt_record_view_get(&v, &snap, &lt_test_frames, 12, &recs.recs[0]), 0);
	t = lt_fingerprint_text(&v, recs.recs[0].kind, true, &len);
	assert_string_equal(t,
		"leaktrace fingerprint 1\n"
		"kind possibly-lost\n"
		"frame 6:malloc,0:,0:,0:,\n"
		"frame 0:,0:,0:,4:prog,\n");
	free(t);
	assert_int_equal(v.site, LT_NO_SITE);
	/* Record 2: the inlined frame counts like any other; the site is
	 * the innermost frame of the program's own code. */
	assert_int_equal(lt_record_view_get(&v, &snap, &lt_test_frames, 12, &recs.recs[1]), 0);
	t = lt_fingerprint_text(&v, recs.recs[1].kind, true, &len);
	assert_string_equal(t,
		"leaktrace fingerprint 1\n"
		"kind indirectly-lost\n"
		"frame 6:malloc,0:,0:,0:,\n"
		"frame 3:inl,6:leak.c,1:3,0:,\n"
		"frame 10:outer(int),6:leak.c,1:7,0:,\n"
		"frame 4:main,6:leak.c,2:10,0:,\n");
	free(t);
	assert_int_equal(v.site, 1);
	assert_true(v.frames[0].external);
	assert_false(v.frames[1].external);
	lt_record_view_free(&v);
}

static void test_fingerprint_stability(void **state)
{
	struct prints a, b;
	load(&lt_test_small);
	memset(&variant, 0, sizeof(variant));
	fingerprints(&variant_frames, &a);

	/* Another run: every address moved, other pid; another checkout;
	 * another version of our allocator. */
	reload_shifted(0x100000000ull);
	variant.dir = "/home/someone/elsewhere/src";
	variant.alloc_line = 4242;
	fingerprints(&variant_frames, &b);
	for (size_t i = 0; i < recs.count; i++) {
		assert_string_equal(a.fp[i], b.fp[i]);
		assert_string_equal(a.fuzzy[i], b.fuzzy[i]);
	}

	/* Lines moved (an edit above the leak): the fingerprint changes
	 * where the program's frames have lines, the fuzzy one does not. */
	variant.line_delta = 2;
	fingerprints(&variant_frames, &b);
	assert_string_equal(a.fp[0], b.fp[0]);    /* no line in it */
	for (size_t i = 1; i < 3; i++) {
		assert_string_not_equal(a.fp[i], b.fp[i]);
		assert_string_equal(a.fuzzy[i], b.fuzzy[i]);
	}

	/* A frame from a system header is not the program's: its file and
	 * line stay out (they belong to the compiler's version). */
	variant.line_delta = 0;
	variant.helper_dir = "/usr/include/c++/12/bits/../bits";
	fingerprints(&variant_frames, &b);
	assert_string_not_equal(a.fp[2], b.fp[2]);
	variant.line_delta = 7;
	struct prints c;
	fingerprints(&variant_frames, &c);
	struct lt_record_view v = { 0 };
	assert_int_equal(lt_record_view_get(&v, &snap, &variant_frames, 12, &recs.recs[2]), 0);
	assert_true(v.frames[1].external);
	assert_int_equal(v.site, 2);              /* main, the first of the program's */
	size_t len;
	char *t = lt_fingerprint_text(&v, recs.recs[2].kind, true, &len);
	assert_non_null(strstr(t, "frame 6:helper,0:,0:,0:,\n"));
	free(t);
	lt_record_view_free(&v);
	memset(&variant, 0, sizeof(variant));
}

static void test_system_objects(void **state)
{
	assert_true(lt_is_system_object("/lib/x86_64-linux-gnu/libc.so.6"));
	assert_true(lt_is_system_object("/usr/lib/x86_64-linux-gnu/libstdc++.so.6"));
	assert_true(lt_is_system_object("/lib64/ld-linux-x86-64.so.2"));
	assert_true(lt_is_system_object("/usr/libexec/foo"));
	assert_false(lt_is_system_object("/usr/local/lib/libmine.so"));
	assert_false(lt_is_system_object("/usr/bin/prog"));
	assert_false(lt_is_system_object("/home/me/build/libmine.so"));
	assert_false(lt_is_system_object("/library/x.so"));
	assert_false(lt_is_system_object(NULL));

	char buf[256];
	struct lt_frame f = { .dir = "/tmp/b/../../work/./main//examples", .file = "x.c" };
	assert_string_equal(lt_source_path(&f, buf, sizeof(buf)), "/work/main/examples/x.c");
	f = (struct lt_frame){ .dir = "./nptl/./nptl", .file = "pthread_create.c" };
	assert_string_equal(lt_source_path(&f, buf, sizeof(buf)), "nptl/nptl/pthread_create.c");
	f = (struct lt_frame){ .dir = "../../src", .file = "a.c" };
	assert_string_equal(lt_source_path(&f, buf, sizeof(buf)), "../../src/a.c");
	f = (struct lt_frame){ .dir = "/../..", .file = "a.c" };
	assert_string_equal(lt_source_path(&f, buf, sizeof(buf)), "/a.c");
	f = (struct lt_frame){ .file = "a.c" };
	assert_string_equal(lt_source_path(&f, buf, sizeof(buf)), "a.c");
	f = (struct lt_frame){ .dir = "/d", .file = "/abs/b.c" };
	assert_string_equal(lt_source_path(&f, buf, sizeof(buf)), "/abs/b.c");
	f = (struct lt_frame){ .dir = "/d" };
	assert_null(lt_source_path(&f, buf, sizeof(buf)));
	f = (struct lt_frame){ .dir = "/a-long-directory", .file = "x.c" };
	assert_null(lt_source_path(&f, buf, 8));
}

/* ---- SARIF ---- */

static const struct lt_json_node *path(const struct lt_json_doc *doc,
				       const struct lt_json_node *n, const char *p)
{
	char part[64];
	while (n && *p) {
		size_t len = strcspn(p, ".");
		snprintf(part, sizeof(part), "%.*s", (int)len, p);
		if (part[0] >= '0' && part[0] <= '9') {
			n = lt_json_first(doc, n);
			for (int i = atoi(part); n && i > 0; i--)
				n = lt_json_next(doc, n);
		} else {
			n = lt_json_get(doc, n, part);
		}
		p += len + (p[len] == '.');
	}
	return n;
}

static const char *str_at(const struct lt_json_doc *doc, const struct lt_json_node *n,
			  const char *p)
{
	n = path(doc, n, p);
	if (!n || n->type != LT_JSON_STRING)
		fail_msg("%s: not a string", p);
	return n->str;
}

static uint64_t num_at(const struct lt_json_doc *doc, const struct lt_json_node *n,
		       const char *p)
{
	uint64_t v;
	if (!lt_json_u64(path(doc, n, p), &v))
		fail_msg("%s: not a number", p);
	return v;
}

static void test_sarif(void **state)
{
	struct lt_json_doc doc;
	char err[200];
	load(&lt_test_small);
	strcpy(opts.sarif_root, "/src/");
	const char *out = render(&lt_report_sarif_ops);
	assert_int_equal(lt_json_parse(out, strlen(out), NULL, false, &doc, err, sizeof(err)), 0);
	const struct lt_json_node *top = lt_json_at(&doc, doc.first);
	assert_string_equal(str_at(&doc, top, "version"), "2.1.0");
	assert_non_null(strstr(str_at(&doc, top, "$schema"), "sarif-schema-2.1.0.json"));
	const struct lt_json_node *run = path(&doc, top, "runs.0");
	assert_int_equal(path(&doc, top, "runs")->count, 1);
	assert_string_equal(str_at(&doc, run, "tool.driver.name"), "leaktrace");
	assert_string_equal(str_at(&doc, run, "tool.driver.version"), LT_VERSION);
	assert_int_equal(path(&doc, run, "tool.driver.rules")->count, 5);
	assert_string_equal(str_at(&doc, run, "tool.driver.rules.0.id"), "leaktrace/definitely-lost");
	assert_string_equal(str_at(&doc, run, "tool.driver.rules.2.id"), "leaktrace/possibly-lost");
	assert_string_equal(str_at(&doc, run, "originalUriBaseIds.SRCROOT.uri"), "file:///src/");
	assert_int_equal(num_at(&doc, run, "invocations.0.processId"), 4242);

	/* The records the text report shows: possibly lost (1), definitely
	 * lost (3). */
	const struct lt_json_node *results = path(&doc, run, "results");
	assert_int_equal(results->count, 2);
	const struct lt_json_node *r1 = path(&doc, results, "0"), *r3 = path(&doc, results, "1");
	assert_string_equal(str_at(&doc, r1, "ruleId"), "leaktrace/possibly-lost");
	assert_int_equal(num_at(&doc, r1, "ruleIndex"), 2);
	assert_string_equal(str_at(&doc, r1, "level"), "warning");
	/* No frame of the program has a file: the innermost named one is
	 * the allocator, which is never the site: no location at all. */
	assert_int_equal(path(&doc, r1, "locations")->count, 0);
	assert_string_equal(str_at(&doc, r1, "partialFingerprints.leaktraceStack/v1"),
			    "c8b16fa995f3bc044f711cd3ba3f99a0");

	assert_string_equal(str_at(&doc, r3, "level"), "error");
	assert_string_equal(str_at(&doc, r3, "message.text"),
		"1,120 (64 direct, 1,056 indirect) bytes in 2 blocks are definitely lost in loss record 3 of 4");
	assert_string_equal(str_at(&doc, r3, "locations.0.physicalLocation.artifactLocation.uri"),
			    "leak.c");
	assert_string_equal(str_at(&doc, r3, "locations.0.physicalLocation.artifactLocation.uriBaseId"),
			    "SRCROOT");
	assert_int_equal(num_at(&doc, r3, "locations.0.physicalLocation.region.startLine"), 5);
	assert_string_equal(str_at(&doc, r3, "locations.0.logicalLocations.0.fullyQualifiedName"),
			    "helper");
	assert_string_equal(str_at(&doc, r3, "partialFingerprints.leaktraceStack/v1"),
			    "b90dc1c9d8c4828373063f0c26d92b64");
	assert_string_equal(str_at(&doc, r3, "partialFingerprints.leaktraceStackNoLines/v1"),
			    "6cd9b8ed2b5398023026b76422e1374b");
	assert_null(path(&doc, r3, "baselineState"));
	/* The code flow runs main -> helper -> malloc; the allocator's frame
	 * points to no file. */
	const struct lt_json_node *flow = path(&doc, r3, "codeFlows.0.threadFlows.0.locations");
	assert_int_equal(flow->count, 3);
	assert_string_equal(str_at(&doc, flow, "0.location.message.text"), "main (leak.c:10)");
	assert_int_equal(num_at(&doc, flow, "0.nestingLevel"), 0);
	assert_string_equal(str_at(&doc, flow, "1.location.message.text"), "helper (leak.c:5)");
	assert_string_equal(str_at(&doc, flow, "2.location.message.text"), "malloc (interpose.c:40)");
	assert_null(path(&doc, flow, "2.location.physicalLocation"));
	/* The SARIF stack, innermost first, with modules. */
	const struct lt_json_node *frames = path(&doc, r3, "stacks.0.frames");
	assert_int_equal(frames->count, 3);
	assert_string_equal(str_at(&doc, frames, "0.module"), "libleaktrace.so");
	assert_string_equal(str_at(&doc, frames, "0.location.physicalLocation.artifactLocation.uri"),
			    "preload/interpose.c");
	assert_int_equal(num_at(&doc, r3, "properties.lossRecord"), 3);
	assert_true(path(&doc, r3, "properties.countsAsError")->type == LT_JSON_TRUE);
	lt_json_free(&doc);

	/* Without a root, absolute file: URIs; odd bytes percent-encoded. */
	opts.sarif_root[0] = '\0';
	out = render(&lt_report_sarif_ops);
	assert_non_null(strstr(out, "\"uri\": \"file:///src/leak.c\""));
	assert_null(strstr(out, "SRCROOT"));
}

/* ---- baselines ---- */

static int parse_baseline(const char *s, struct lt_baseline *b, char *err)
{
	return lt_baseline_parse(s, strlen(s), b, err, 300);
}

static void test_baseline_errors(void **state)
{
	static const struct { const char *in, *msg; } cases[] = {
		{ "", "line 1, column 1: no JSON value (empty input)" },
		{ "{\"format\": \"leaktrace-report\", \"records\": [",
		  "line 1, column 44: unexpected end of input (truncated?), expected a JSON value" },
		{ "<?xml version=\"1.0\"?>", "line 1, column 1: unexpected '<', expected a JSON value" },
		{ "[]", "not a leaktrace JSON report or baseline (no \"format\": \"leaktrace-report\" "
			"or \"leaktrace-baseline\")" },
		{ "{\"version\": \"2.1.0\", \"runs\": []}", "not a leaktrace JSON report or baseline "
			"(no \"format\": \"leaktrace-report\" or \"leaktrace-baseline\")" },
		{ "{\"format\": \"leaktrace-baseline\", \"records\": []}", "no \"fingerprint_version\"" },
		{ "{\"format\": \"leaktrace-baseline\", \"fingerprint_version\": 2, \"records\": []}",
		  "fingerprints of version 2, this leaktrace computes version 1: make the baseline "
		  "again with this version" },
		{ "{\"format\": \"leaktrace-baseline\", \"fingerprint_version\": 1}", "no \"records\" array" },
		{ "{\"format\": \"leaktrace-baseline\", \"fingerprint_version\": 1, \"records\": [{}]}",
		  "record 1: \"fingerprint\" and \"fuzzy_fingerprint\" must be 32 lower-case hex digits" },
		{ "{\"format\": \"leaktrace-baseline\", \"fingerprint_version\": 1, \"records\": "
		  "[{\"fingerprint\": \"0123456789abcdef0123456789abcdef\"}, "
		  "{\"fingerprint\": \"0123456789ABCDEF0123456789abcdef\"}]}",
		  "record 2: \"fingerprint\" and \"fuzzy_fingerprint\" must be 32 lower-case hex digits" },
		{ "{\"format\": \"leaktrace-baseline\", \"fingerprint_version\": 1, \"records\": []}\n"
		  "{\"format\": \"x\"}",
		  "document 2: not a leaktrace JSON report or baseline (no \"format\": "
		  "\"leaktrace-report\" or \"leaktrace-baseline\")" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lt_baseline b;
		char err[300] = "";
		int rc = parse_baseline(cases[i].in, &b, err);
		if (rc != -1 || strcmp(err, cases[i].msg) != 0)
			fail_msg("case %zu: rc %d, '%s'", i, rc, err);
		assert_null(b.entries);
	}
	struct lt_baseline b;
	char err[300];
	assert_int_equal(lt_baseline_load("/nonexistent/base.json", &b, err, sizeof(err)), -1);
	assert_string_equal(err, "No such file or directory");
	assert_int_equal(lt_baseline_load("/", &b, err, sizeof(err)), -1);
	assert_string_equal(err, "Is a directory");
}

/* Random edits of a real JSON report read as a baseline: 0 or -1, never
 * a crash or a read out of bounds. */
static void test_baseline_fuzz(void **state)
{
	load(&lt_test_small);
	const char *doc = render(&lt_report_json_ops);
	size_t len = strlen(doc);
	uint64_t x = 88172645463325252ull;
	int ok = 0;
	char *buf = malloc(len + 1);
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(buf, doc, len);
		size_t n = len;
		/* One edit: mostly a byte changed (to a letter, which keeps
		 * strings valid, or to anything), sometimes a cut. */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t at = x % n;
		switch ((x >> 40) % 4) {
		case 0: buf[at] = (char)('a' + (x >> 48) % 26); break;
		case 1: buf[at] = (char)(x >> 48); break;
		case 2: buf[at] = "{}[],:\"0"[(x >> 48) % 8]; break;
		default: n = at + 1; break;
		}
		char *exact = malloc(n);
		memcpy(exact, buf, n);
		struct lt_baseline b;
		char err[300];
		int rc = lt_baseline_parse(exact, n, &b, err, sizeof(err));
		assert_true(rc == 0 || rc == -1);
		ok += rc == 0;
		if (rc == 0)
			lt_baseline_free(&b);
		free(exact);
	}
	free(buf);
	assert_true(ok > 0);
}

/* A baseline made of this very report knows every record. */
static void test_baseline_all_known(void **state)
{
	struct lt_baseline b;
	char err[300];
	load(&lt_test_small);
	char *doc = strdup(render(&lt_report_json_ops));
	assert_int_equal(parse_baseline(doc, &b, err), 0);
	assert_int_equal(b.count, 4);
	assert_int_equal(lt_baseline_apply(&b, &snap, &lt_test_frames, 12, &recs), 4);
	recs.baseline = "base.json";
	const char *json = render(&lt_report_json_ops);
	assert_non_null(strstr(json, "\"errors\": {\"count\": 0, \"baselined\": 2, \"suppressed\": 0}"));
	assert_non_null(strstr(json, "\"baseline\": \"base.json\""));
	assert_null(strstr(json, "\"baselined\": false"));
	lt_baseline_free(&b);
	free(doc);

	const char *t = render(&lt_report_text_ops);
	assert_non_null(strstr(t,
		"==4242== leaktrace: no new loss records (all are in the baseline base.json)\n"
		"==4242== \n"
		"==4242== leaktrace: 2 loss records in the baseline base.json (known, not counted as errors):\n"
		"==4242== \n"
		"==4242== 16 bytes in 1 blocks are possibly lost in loss record 1 of 4\n"));
	assert_non_null(strstr(t, "ERROR SUMMARY: 0 errors from 0 contexts"));
}

#define FP3 "b90dc1c9d8c4828373063f0c26d92b64"
#define FZ3 "6cd9b8ed2b5398023026b76422e1374b"

/* Only the definite record is known: the possible one is new, printed
 * first, and the only error. */
static void test_baseline_new_first(void **state)
{
	struct lt_baseline b;
	char err[300];
	load(&lt_test_small);
	assert_int_equal(parse_baseline("{\"format\": \"leaktrace-baseline\", \"fingerprint_version\": 1,"
		" \"records\": [{\"fingerprint\": \"" FP3 "\"}]}", &b, err), 0);
	assert_int_equal(lt_baseline_apply(&b, &snap, &lt_test_frames, 12, &recs), 1);
	assert_true(recs.recs[2].baselined);
	lt_baseline_free(&b);
	recs.baseline = "base.json";

	const char *t = render(&lt_report_text_ops);
	const char *news = strstr(t, "==4242== leaktrace: 1 new loss record (not in the baseline base.json):\n"
				  "==4242== \n"
				  "==4242== 16 bytes in 1 blocks are possibly lost in loss record 1 of 4\n");
	const char *known = strstr(t, "==4242== leaktrace: 1 loss record in the baseline base.json "
				   "(known, not counted as errors):\n"
				   "==4242== \n"
				   "==4242== 1,120 (64 direct, 1,056 indirect) bytes in 2 blocks are definitely "
				   "lost in loss record 3 of 4\n");
	assert_non_null(news);
	assert_non_null(known);
	assert_true(news < known);
	assert_non_null(strstr(t, "ERROR SUMMARY: 1 errors from 1 contexts"));

	/* SARIF says which is which. */
	const char *s = render(&lt_report_sarif_ops);
	const char *st1 = strstr(s, "\"baselineState\": \"new\"");
	const char *st3 = strstr(s, "\"baselineState\": \"unchanged\"");
	assert_non_null(st1);
	assert_non_null(st3);
	assert_true(st1 < st3);
	/* XML lists both, valgrind's parsers need no marker. */
	const char *x = render(&lt_report_xml_ops);
	assert_non_null(strstr(x, "loss record 1 of 4"));
	assert_non_null(strstr(x, "loss record 3 of 4"));
}

/* Lines moved: the fuzzy fingerprint matches, one record per entry. */
static void test_baseline_moved_lines(void **state)
{
	struct lt_baseline b;
	char err[300];
	load(&lt_test_small);
	assert_int_equal(parse_baseline("{\"format\": \"leaktrace-baseline\", \"fingerprint_version\": 1,"
		" \"records\": [{\"fingerprint\": \"00000000000000000000000000000000\","
		" \"fuzzy_fingerprint\": \"" FZ3 "\"}]}", &b, err), 0);
	assert_int_equal(lt_baseline_apply(&b, &snap, &lt_test_frames, 12, &recs), 1);
	assert_true(recs.recs[2].baselined);
	lt_baseline_free(&b);

	/* Two records with the same fuzzy fingerprint (the same stack at
	 * other lines), one entry: one of them stays new. */
	for (size_t i = 0; i < recs.count; i++)
		recs.recs[i].baselined = false;
	recs.recs[1].stack_id = recs.recs[2].stack_id;
	recs.recs[1].kind = recs.recs[2].kind;
	assert_int_equal(parse_baseline("{\"format\": \"leaktrace-baseline\", \"fingerprint_version\": 1,"
		" \"records\": [{\"fingerprint\": \"00000000000000000000000000000000\","
		" \"fuzzy_fingerprint\": \"" FZ3 "\"}]}", &b, err), 0);
	assert_int_equal(lt_baseline_apply(&b, &snap, &lt_test_frames, 12, &recs), 1);
	lt_baseline_free(&b);
	/* Two entries, or an exact match: both. */
	assert_int_equal(parse_baseline("{\"format\": \"leaktrace-baseline\", \"fingerprint_version\": 1,"
		" \"records\": [{\"fingerprint\": \"" FP3 "\"}]}", &b, err), 0);
	assert_int_equal(lt_baseline_apply(&b, &snap, &lt_test_frames, 12, &recs), 2);
	lt_baseline_free(&b);
}

static void test_baseline_write(void **state)
{
	char *out = NULL;
	size_t size = 0;
	load(&lt_test_small);
	FILE *f = open_memstream(&out, &size);
	assert_int_equal(lt_baseline_write(f, &snap, &lt_test_frames, &opts, &recs), 0);
	fclose(f);
	/* errors_for_leak_kinds (definite, possible), sorted by fingerprint. */
	assert_text(out,
		"{\n"
		"  \"format\": \"leaktrace-baseline\",\n"
		"  \"format_version\": 1,\n"
		"  \"fingerprint_version\": 1,\n"
		"  \"tool\": {\"name\": \"leaktrace\", \"version\": \"" LT_VERSION "\"},\n"
		"  \"program\": \"prog\",\n"
		"  \"records\": [\n"
		"    {\"fingerprint\": \"" FP3 "\", \"fuzzy_fingerprint\": \"" FZ3 "\", "
		"\"kind\": \"definitely-lost\", \"site\": \"helper (leak.c:5)\"},\n"
		"    {\"fingerprint\": \"c8b16fa995f3bc044f711cd3ba3f99a0\", "
		"\"fuzzy_fingerprint\": \"03ed59557bdb7ba9308ca59cbc9ed64f\", "
		"\"kind\": \"possibly-lost\", \"site\": \"???\"}\n"
		"  ]\n"
		"}\n");
	/* And it reads back as a baseline that knows both. */
	struct lt_baseline b;
	char err[300];
	assert_int_equal(lt_baseline_parse(out, size, &b, err, sizeof(err)), 0);
	assert_int_equal(lt_baseline_apply(&b, &snap, &lt_test_frames, 12, &recs), 2);
	assert_true(recs.recs[0].baselined && recs.recs[2].baselined);
	lt_baseline_free(&b);
	free(out);
}

/* The reporter's path: a broken baseline is one line naming the file,
 * and every leak counts. */
static void test_baseline_broken_file(void **state)
{
	char name[] = "/tmp/lt-baseline-XXXXXX";
	char *diag = NULL;
	size_t size = 0;
	int fd = mkstemp(name);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"format\": \"leaktrace-report\", \"records\": [{", 44), 44);
	close(fd);
	load(&lt_test_small);
	strcpy(opts.baseline, name);
	FILE *d = open_memstream(&diag, &size);
	assert_int_equal(lt_report_use_baseline(&snap, &lt_test_frames, &opts, &recs, d), -1);
	fclose(d);
	char want[512];
	snprintf(want, sizeof(want), "leaktrace: cannot use baseline '%s': line 1, column 45: "
		 "unexpected end of input (truncated?), expected a member name in quotes; "
		 "every leak counts\n", name);
	assert_string_equal(diag, want);
	assert_null(recs.baseline);
	for (size_t i = 0; i < recs.count; i++)
		assert_false(recs.recs[i].baselined);
	char err[512];
	assert_int_equal(lt_baseline_check(&opts, err, sizeof(err)), -1);
	assert_non_null(strstr(err, name));
	unlink(name);
	free(diag);
}

/* ---- mapping records: fingerprints, baselines, SARIF ---- */

/* lt_test_small's heap blocks and two mappings: a definitely lost private
 * anonymous one of stack 1 (the stack of the definitely lost heap record)
 * and a still reachable shared file one of stack 3. */
static const struct test_mapping two_mappings[] = {
	{ 0x7f0000100000, 4096, 1, LT_KIND_DEFINITE, LT_MAP_PRIVATE_ANON, 0, NULL },
	{ 0x7f0000200000, 8192, 3, LT_KIND_REACHABLE, LT_MAP_SHARED_FILE, 0, "/data/a" },
};

static void load_with_mappings(void)
{
	struct test_snap s = lt_test_small;
	s.with_mappings = true;
	s.mappings = two_mappings;
	s.nmappings = 2;
	load(&s);
	assert_int_equal(recs.nmaps, 2);
	assert_int_equal(recs.maps[0].kind, LT_KIND_DEFINITE);
}

/* A mapping record's text has its type after the kind, so it never
 * shares a fingerprint with the loss record of the same stack and kind. */
static void test_mapping_fingerprint(void **state)
{
	struct lt_record_view v = { 0 };
	size_t len;
	load_with_mappings();
	assert_int_equal(lt_map_record_view_get(&v, &snap, &lt_test_frames, 12, &recs.maps[0]), 0);
	char *t = lt_map_fingerprint_text(&v, LT_KIND_DEFINITE, LT_MAP_PRIVATE_ANON, true, &len);
	assert_string_equal(t,
		"leaktrace fingerprint 1\n"
		"kind definitely-lost\n"
		"mapping private-anonymous\n"
		"frame 6:malloc,0:,0:,0:,\n"
		"frame 6:helper,6:leak.c,1:5,0:,\n"
		"frame 4:main,6:leak.c,2:10,0:,\n");
	assert_int_equal(len, strlen(t));
	free(t);
	t = lt_map_fingerprint_text(&v, LT_KIND_DEFINITE, LT_MAP_SHARED_FILE, false, &len);
	assert_string_equal(t,
		"leaktrace fuzzy fingerprint 1\n"
		"kind definitely-lost\n"
		"mapping shared-file\n"
		"frame 6:malloc,0:,0:,0:,\n"
		"frame 6:helper,6:leak.c,0:,0:,\n"
		"frame 4:main,6:leak.c,0:,0:,\n");
	free(t);
	assert_int_equal(strlen(v.fingerprint), LT_FINGERPRINT_HEX);
	assert_string_not_equal(v.fingerprint, FP3);
	assert_string_not_equal(v.fuzzy_fingerprint, FZ3);
	assert_int_equal(v.site, 1);
	lt_record_view_free(&v);
}

/* A baseline that names the lost mapping record only: that record is
 * known and no error, the heap record of the same stack stays new. */
static void test_mapping_baseline(void **state)
{
	struct lt_record_view v = { 0 };
	struct lt_baseline b;
	char err[300], doc[512];
	load_with_mappings();
	assert_int_equal(lt_map_record_view_get(&v, &snap, &lt_test_frames, 12, &recs.maps[0]), 0);
	snprintf(doc, sizeof(doc), "{\"format\": \"leaktrace-baseline\", \"fingerprint_version\": 1,"
		 " \"records\": [{\"fingerprint\": \"%s\"}]}", v.fingerprint);
	assert_int_equal(parse_baseline(doc, &b, err), 0);
	assert_int_equal(lt_baseline_apply(&b, &snap, &lt_test_frames, 12, &recs), 1);
	assert_true(recs.maps[0].baselined);
	assert_false(recs.maps[1].baselined);
	assert_false(recs.recs[2].baselined);
	lt_baseline_free(&b);
	recs.baseline = "base.json";
	opts.show_leak_kinds = LT_KINDS_ALL;
	assert_false(lt_report_map_counts(&opts, &recs.maps[0]));
	const char *json = render(&lt_report_json_ops);
	assert_non_null(strstr(json, "\"errors\": {\"count\": 2, \"baselined\": 1, \"suppressed\": 0}"));
	const char *t = render(&lt_report_text_ops);
	assert_non_null(strstr(t,
		"==4242== leaktrace: 1 new mapping record (not in the baseline base.json):\n"
		"==4242== \n"
		"==4242== 8,192 bytes in 1 mappings (shared file-backed /data/a) are still reachable "
		"in mapping record 2 of 2\n"));
	assert_non_null(strstr(t,
		"==4242== leaktrace: 1 mapping record in the baseline base.json (known, not counted as errors):\n"
		"==4242== \n"
		"==4242== 4,096 bytes in 1 mappings (private anonymous) are definitely lost in mapping record 1 of 2\n"));
	assert_non_null(strstr(t, "ERROR SUMMARY: 2 errors from 2 contexts"));

	/* The whole JSON report as a baseline: every record, heap and
	 * mapping, is known. */
	recs.baseline = NULL;
	char *report = strdup(render(&lt_report_json_ops));
	assert_int_equal(parse_baseline(report, &b, err), 0);
	assert_int_equal(b.count, 6);
	assert_int_equal(lt_baseline_apply(&b, &snap, &lt_test_frames, 12, &recs), 6);
	lt_baseline_free(&b);
	free(report);

	/* write_baseline: the mapping record of an error kind, with its
	 * type; the still reachable one left out. */
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	assert_int_equal(lt_baseline_write(f, &snap, &lt_test_frames, &opts, &recs), 0);
	fclose(f);
	char want[256];
	snprintf(want, sizeof(want), "{\"fingerprint\": \"%s\", \"fuzzy_fingerprint\": \"%s\", "
		 "\"kind\": \"definitely-lost\", \"mapping\": \"private-anonymous\", "
		 "\"site\": \"helper (leak.c:5)\"}", v.fingerprint, v.fuzzy_fingerprint);
	assert_non_null(strstr(out, want));
	assert_null(strstr(out, "shared-file"));
	free(out);
	lt_record_view_free(&v);
}

/* SARIF: the mapping records shown are results under their type's rule,
 * which comes after the five kind rules. */
static void test_mapping_sarif(void **state)
{
	load_with_mappings();
	opts.show_leak_kinds = LT_KINDS_DEFINITE;
	const char *s = render(&lt_report_sarif_ops);
	assert_non_null(strstr(s, "\"id\": \"leaktrace/mapping-shared-file\""));
	assert_non_null(strstr(s,
		"\"ruleId\": \"leaktrace/mapping-private-anonymous\",\n"
		"          \"ruleIndex\": 5,\n"
		"          \"level\": \"error\",\n"
		"          \"message\": {\"text\": \"4,096 bytes in 1 mappings (private anonymous) are "
		"definitely lost in mapping record 1 of 2\"},"));
	/* Not shown (still reachable): no result. */
	assert_null(strstr(s, "\"ruleId\": \"leaktrace/mapping-shared-file\""));
	assert_non_null(strstr(s, "\"mappingRecord\": 1"));
	assert_null(strstr(s, "\"mappingRecord\": 2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_json_document, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint_stability, setup, teardown),
		cmocka_unit_test(test_system_objects),
		cmocka_unit_test_setup_teardown(test_sarif, setup, teardown),
		cmocka_unit_test(test_baseline_errors),
		cmocka_unit_test_setup_teardown(test_baseline_fuzz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_baseline_all_known, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mapping_fingerprint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mapping_baseline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mapping_sarif, setup, teardown),
		cmocka_unit_test_setup_teardown(test_baseline_new_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_baseline_moved_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_baseline_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_baseline_broken_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
