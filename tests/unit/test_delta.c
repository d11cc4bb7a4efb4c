/* Unit tests of the deltas between reports (report/delta.c): valgrind's
 * "(+N)" figures, the state file's encoding and its validation, and whole
 * reports after a first one, compared byte for byte with what valgrind
 * 3.19 prints for `leak_check full changed|increased` in the same
 * situation. */
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

#include "delta.h"
#include "lt_test.h"
#include "report.h"

#define P "==4242== "

static struct tw w1, w2;
static struct lt_snapshot first, second;
static struct lt_records recs1, recs2;
static struct lt_delta_state prev;
static struct lt_options opts;
static char *text;

/* The second snapshot: the possibly lost block is gone, stack 1 has one
 * more definitely lost block of 100 bytes; the rest is unchanged. */
static const struct test_block later_blocks[] = {
	{ 0x10000, 48, 1, LT_KIND_DEFINITE, 0 },
	{ 0x10100, 56, 2, LT_KIND_INDIRECT, TB_HEAD(0) },
	{ 0x10200, 1000, 2, LT_KIND_INDIRECT, TB_HEAD(1) },
	{ 0x10400, 2000, 3, LT_KIND_REACHABLE, 0 },
	{ 0x10500, 16, 1, LT_KIND_DEFINITE, 0 },
	{ 0x10600, 100, 1, LT_KIND_DEFINITE, 0 },
};

static void load(struct tw *w, const struct test_snap *s, struct lt_snapshot *snap,
		 uint32_t sequence)
{
	char err[256];
	tw_snapshot(w, s);
	if (lt_snapshot_parse(w->buf, w->len, snap, err, sizeof(err)))
		fail_msg("parse: %s", err);
	snap->process.sequence = sequence;
}

/* Two reports on demand of one process: the first's figures go through
 * the state file's encoding, as between two reporters. */
static int setup(void **state)
{
	struct test_snap s = lt_test_small;
	void *buf;
	size_t len;
	char err[160];

	lt_options_defaults(&opts);
	opts.show_leak_kinds = LT_KINDS_ALL;
	text = NULL;
	s.reason = LT_REASON_SIGNAL;
	load(&w1, &s, &first, 1);
	s.blocks = later_blocks;
	s.nblocks = sizeof(later_blocks) / sizeof(later_blocks[0]);
	load(&w2, &s, &second, 2);
	assert_int_equal(lt_records_build(&first, opts.num_callers, &recs1), 0);
	assert_int_equal(lt_records_build(&second, opts.num_callers, &recs2), 0);
	assert_int_equal(lt_delta_state_encode(&recs1, &first, opts.num_callers, &buf, &len), 0);
	assert_int_equal(lt_delta_state_parse(buf, len, &prev, err, sizeof(err)), 0);
	free(buf);
	return 0;
}

static int teardown(void **state)
{
	free(text);
	lt_records_free(&recs1);
	lt_records_free(&recs2);
	lt_delta_state_free(&prev);
	lt_snapshot_free(&first);
	lt_snapshot_free(&second);
	tw_free(&w1);
	tw_free(&w2);
	return 0;
}

static const char *render_second(unsigned mode)
{
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	opts.delta = mode;
	assert_int_equal(lt_delta_compare(&recs2, &second, opts.num_callers, &prev, mode), 0);
	assert_int_equal(lt_report_render(&lt_report_text_ops, out, &second, &recs2,
					  &lt_test_frames, &opts, "/usr/bin/leaktrace"), 0);
	fclose(out);
	return text;
}

static void test_fmt_delta(void **state)
{
	char buf[LT_DELTA_MAX];
	assert_string_equal(lt_fmt_delta(1500, 1000, true, buf), " (+500)");
	assert_string_equal(lt_fmt_delta(0, 1234567, true, buf), " (-1,234,567)");
	assert_string_equal(lt_fmt_delta(7, 7, true, buf), " (+0)");
	assert_string_equal(lt_fmt_delta(UINT64_MAX, 0, true, buf),
			    " (+18,446,744,073,709,551,615)");
	assert_string_equal(lt_fmt_delta(1500, 1000, false, buf), "");
}

/* valgrind 3.19's lines for a new record heading another, and for one
 * that went away. */
static void test_record_figures(void **state)
{
	struct lt_records rs = { .has_previous = true };
	struct lt_loss_record head = { .bytes = 16, .blocks = 1, .indirect_bytes = 24,
				       .indirect_blocks = 1 };
	struct lt_loss_record gone = { .old_bytes = 100, .old_blocks = 1 };
	char buf[256];
	lt_record_figures(&rs, &head, buf, sizeof(buf));
	assert_string_equal(buf, "40 (+40) (16 (+16) direct, 24 (+24) indirect) bytes in 1 (+1) blocks");
	lt_record_figures(&rs, &gone, buf, sizeof(buf));
	assert_string_equal(buf, "0 (-100) bytes in 0 (-1) blocks");
	rs.has_previous = false;
	lt_record_figures(&rs, &head, buf, sizeof(buf));
	assert_string_equal(buf, "40 (16 direct, 24 indirect) bytes in 1 blocks");
}

static void test_state_round_trip(void **state)
{
	assert_int_equal(prev.pid, 4242);
	assert_int_equal(prev.sequence, 1);
	assert_int_equal(prev.count, 4);
	assert_int_equal(prev.summary.kind_bytes[LT_KIND_DEFINITE], 64);
	assert_int_equal(prev.summary.kind_blocks[LT_KIND_INDIRECT], 2);
	assert_int_equal(prev.summary.kind_bytes[LT_KIND_POSSIBLE], 16);
	for (size_t i = 0; i < prev.count; i++) {
		const struct lt_stack *s = lt_snapshot_stack(&first, prev.recs[i].stack_id);
		assert_non_null(s);
		assert_int_equal(prev.recs[i].nframes, s->depth);
		assert_memory_equal(prev.recs[i].frames, s->frames, s->depth * 8);
	}
}

static void expect_parse_error(const void *buf, size_t len, const char *reason)
{
	struct lt_delta_state s;
	char err[160];
	assert_int_equal(lt_delta_state_parse(buf, len, &s, err, sizeof(err)), -1);
	assert_string_equal(err, reason);
}

static void test_state_bad(void **state)
{
	void *buf;
	size_t len;
	struct lt_delta_state s;
	char err[160];
	assert_int_equal(lt_delta_state_encode(&recs1, &first, opts.num_callers, &buf, &len), 0);
	unsigned char *b = buf;
	/* An empty file: no report yet. */
	assert_int_equal(lt_delta_state_parse(b, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.sequence, 0);
	expect_parse_error(b, 20, "truncated header (20 bytes)");
	expect_parse_error(b, len - 8, "record 4 of 4 malformed");
	b[len] = 0;
	unsigned char *longer = calloc(1, len + 8);
	memcpy(longer, b, len);
	expect_parse_error(longer, len + 8, "8 bytes after the last record");
	longer[20] = 0xff;                      /* the record count */
	expect_parse_error(longer, len + 8, "record count 255 larger than the file");
	longer[0] = 'X';
	expect_parse_error(longer, len + 8, "not a leaktrace delta state of version 1");
	free(longer);
	free(buf);
}

/* valgrind `leak_check full changed`: new, grown, shrunk and gone records;
 * a gone record keeps its number for one report, with 0 blocks. */
static void test_changed(void **state)
{
	assert_string_equal(render_second(LT_DELTA_CHANGED),
		P "leaktrace-" LT_VERSION ", a memory leak detector\n"
		P "Command: ./prog -v a\\ b\n"
		P "\n"
		P "\n"
		P "HEAP SUMMARY:\n"
		P "        in use now: 3,220 bytes in 6 blocks\n"
		P "  total heap usage: 10 allocs, 4 frees, 123,456 bytes allocated\n"
		P "\n"
		P "0 (-16) bytes in 0 (-1) blocks are possibly lost in loss record 1 of 4\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x401020: ??? (in /usr/bin/prog)\n"
		P "\n"
		P "1,220 (+100) (164 (+100) direct, 1,056 (+0) indirect) bytes in 3 (+1) blocks are definitely lost in loss record 3 of 4\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x401010: helper (leak.c:5)\n"
		P "   by 0x401100: main (leak.c:10)\n"
		P "\n"
		P "LEAK SUMMARY:\n"
		P "   definitely lost: 164 (+100) bytes in 3 (+1) blocks\n"
		P "   indirectly lost: 1,056 (+0) bytes in 2 (+0) blocks\n"
		P "     possibly lost: 0 (-16) bytes in 0 (-1) blocks\n"
		P "   still reachable: 2,000 (+0) bytes in 1 (+0) blocks\n"
		P "        suppressed: 0 (+0) bytes in 0 (+0) blocks\n"
		P "\n"
		P "For lists of detected and suppressed errors, rerun with: -s\n"
		P "ERROR SUMMARY: 2 errors from 2 contexts (suppressed: 0 from 0)\n");
}

/* increased: only the grown record, and show_leak_kinds filters among the
 * records the mode keeps. */
static void test_increased(void **state)
{
	const char *t = render_second(LT_DELTA_INCREASED);
	assert_non_null(strstr(t, P "1,220 (+100) (164 (+100) direct, 1,056 (+0) indirect) bytes in 3 (+1) blocks are definitely lost in loss record 3 of 4\n"));
	assert_null(strstr(t, "possibly lost in loss record"));
	assert_null(strstr(t, "still reachable in loss record"));
	assert_non_null(strstr(t, P "ERROR SUMMARY: 1 errors from 1 contexts"));
	for (size_t i = 0; i < recs2.count; i++) {
		const struct lt_loss_record *r = &recs2.recs[i];
		opts.show_leak_kinds = LT_KINDS_REACHABLE | LT_KINDS_POSSIBLE;
		assert_false(lt_report_shows(&opts, r));
		opts.show_leak_kinds = LT_KINDS_DEFINITE;
		assert_int_equal(lt_report_shows(&opts, r), r->kind == LT_KIND_DEFINITE);
	}
}

/* any: every record with blocks, each with its deltas; the gone one is
 * counted in "of 4" but not shown, as valgrind does. */
static void test_any(void **state)
{
	const char *t = render_second(LT_DELTA_ANY);
	assert_null(strstr(t, "are possibly lost in loss record"));
	assert_non_null(strstr(t, P "1,056 (+0) bytes in 2 (+0) blocks are indirectly lost in loss record 2 of 4\n"));
	assert_non_null(strstr(t, P "2,000 (+0) bytes in 1 (+0) blocks are still reachable in loss record 4 of 4\n"));
	assert_non_null(strstr(t, P "ERROR SUMMARY: 1 errors from 1 contexts"));
}

/* At exit every record is shown, whatever the mode. */
static void test_exit_is_complete(void **state)
{
	second.process.reason = LT_REASON_EXIT;
	const char *t = render_second(LT_DELTA_INCREASED);
	assert_non_null(strstr(t, P "2,000 (+0) bytes in 1 (+0) blocks are still reachable in loss record 4 of 4\n"));
	assert_non_null(strstr(t, P "1,056 (+0) bytes in 2 (+0) blocks are indirectly lost in loss record 2 of 4\n"));
	assert_null(strstr(t, "are possibly lost in loss record"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_delta),
		cmocka_unit_test(test_record_figures),
		cmocka_unit_test_setup_teardown(test_state_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_increased, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_is_complete, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
