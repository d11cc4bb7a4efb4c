/* Unit tests of the text report (report/report_text.c, report.c,
 * format.c): whole reports rendered into memory and compared with what
 * valgrind prints in the same situation, byte for byte. */
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
#include "report.h"

#define P "==4242== "
/* valgrind's line before the ERROR SUMMARY, without -s. */
#define HINT P "For lists of detected and suppressed errors, rerun with: -s\n"

#define HEADER \
	P "leaktrace-" LT_VERSION ", a memory leak detector\n" \
	P "Command: ./prog -v a\\ b\n" \
	P "\n" \
	P "\n"

static struct tw w;
static struct lt_snapshot snap;
static struct lt_options opts;
static char *text;

/* Most tests show every kind (valgrind --show-leak-kinds=all); the
 * defaults (definite,possible) have tests of their own. */
static int setup(void **state)
{
	lt_options_defaults(&opts);
	opts.show_leak_kinds = LT_KINDS_ALL;
	text = NULL;
	return 0;
}

static int teardown(void **state)
{
	free(text);
	lt_snapshot_free(&snap);
	tw_free(&w);
	return 0;
}

static const char *render_ops(const struct test_snap *s, const struct lt_report_ops *ops)
{
	char err[256];
	size_t size = 0;
	struct lt_records recs;
	FILE *out = open_memstream(&text, &size);
	tw_snapshot(&w, s);
	if (lt_snapshot_parse(w.buf, w.len, &snap, err, sizeof(err)))
		fail_msg("parse: %s", err);
	assert_int_equal(lt_records_build(&snap, opts.num_callers, &recs), 0);
	assert_int_equal(lt_report_render(ops, out, &snap, &recs, &lt_test_frames, &opts,
					  "/usr/bin/leaktrace"), 0);
	fclose(out);
	lt_records_free(&recs);
	return text;
}

static const char *render(const struct test_snap *s)
{
	return render_ops(s, &lt_report_text_ops);
}

static void test_classified(void **state)
{
	assert_string_equal(render(&lt_test_small),
		HEADER
		P "HEAP SUMMARY:\n"
		P "    in use at exit: 3,136 bytes in 6 blocks\n"
		P "  total heap usage: 10 allocs, 4 frees, 123,456 bytes allocated\n"
		P "\n"
		P "16 bytes in 1 blocks are possibly lost in loss record 1 of 4\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x401020: ??? (in /usr/bin/prog)\n"
		P "\n"
		P "1,056 bytes in 2 blocks are indirectly lost in loss record 2 of 4\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x401030: inl (leak.c:3)\n"
		P "   by 0x401030: outer(int) (leak.c:7)\n"
		P "   by 0x401100: main (leak.c:10)\n"
		P "\n"
		P "1,120 (64 direct, 1,056 indirect) bytes in 2 blocks are definitely lost in loss record 3 of 4\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x401010: helper (leak.c:5)\n"
		P "   by 0x401100: main (leak.c:10)\n"
		P "\n"
		P "2,000 bytes in 1 blocks are still reachable in loss record 4 of 4\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x401020: ??? (in /usr/bin/prog)\n"
		P "\n"
		P "LEAK SUMMARY:\n"
		P "   definitely lost: 64 bytes in 2 blocks\n"
		P "   indirectly lost: 1,056 bytes in 2 blocks\n"
		P "     possibly lost: 16 bytes in 1 blocks\n"
		P "   still reachable: 2,000 bytes in 1 blocks\n"
		P "        suppressed: 0 bytes in 0 blocks\n"
		P "\n"
		HINT
		P "ERROR SUMMARY: 2 errors from 2 contexts (suppressed: 0 from 0)\n");
}

static const struct test_stack one_stack[] = {
	{ .id = 1, .depth = 3, .frames = { 0x7f0000001100, 0x401010, 0x401100 } },
};

/* The shim does not classify yet: say what is known, no LEAK SUMMARY. */
static void test_unclassified(void **state)
{
	const struct test_block blocks[] = {
		{ 1, 1000000, 1, LT_KIND_UNCLASSIFIED, 0 },
		{ 2, 234567, 1, LT_KIND_UNCLASSIFIED, 0 },
	};
	struct test_snap s = lt_test_small;
	s.stacks = one_stack;
	s.nstacks = 1;
	s.blocks = blocks;
	s.nblocks = 2;
	s.totals = (struct lt_snap_totals){ 1234567, 1234565, 9876543210, 0 };
	lt_options_defaults(&opts);           /* not a kind: shown whatever the kinds */
	assert_string_equal(render(&s),
		HEADER
		P "HEAP SUMMARY:\n"
		P "    in use at exit: 1,234,567 bytes in 2 blocks\n"
		P "  total heap usage: 1,234,567 allocs, 1,234,565 frees, 9,876,543,210 bytes allocated\n"
		P "\n"
		P "1,234,567 bytes in 2 blocks are still allocated at exit (not yet classified) in loss record 1 of 1\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x401010: helper (leak.c:5)\n"
		P "   by 0x401100: main (leak.c:10)\n"
		P "\n"
		HINT
		P "ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n");
}

static void test_no_blocks(void **state)
{
	struct test_snap s = lt_test_small;
	s.nblocks = 0;
	s.totals = (struct lt_snap_totals){ 1, 1, 10, 0 };
	assert_string_equal(render(&s),
		HEADER
		P "HEAP SUMMARY:\n"
		P "    in use at exit: 0 bytes in 0 blocks\n"
		P "  total heap usage: 1 allocs, 1 frees, 10 bytes allocated\n"
		P "\n"
		P "All heap blocks were freed -- no leaks are possible\n"
		P "\n"
		HINT
		P "ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n");
}

static void test_dropped_and_snapshot_reason(void **state)
{
	const struct test_block blocks[] = { { 1, 5, 1, LT_KIND_UNCLASSIFIED, 0 } };
	struct test_snap s = lt_test_small;
	s.stacks = one_stack;
	s.nstacks = 1;
	s.blocks = blocks;
	s.nblocks = 1;
	s.reason = LT_REASON_SIGNAL;
	s.totals = (struct lt_snap_totals){ 3000, 0, 3000, 2999 };
	render(&s);
	assert_non_null(strstr(text, P "        in use now: 5 bytes in 1 blocks\n"));
	assert_non_null(strstr(text, P "WARNING: 2,999 blocks could not be tracked (the live table was full): "
				     "they are missing from this report\n"));
	assert_non_null(strstr(text, "5 bytes in 1 blocks are still allocated (not yet classified) in loss record 1 of 1\n"));
}

/* num_callers counts addresses; the inlined frames of one do not count. */
static void test_num_callers(void **state)
{
	opts.num_callers = 2;
	render(&lt_test_small);
	assert_non_null(strstr(text,
		P "1,056 bytes in 2 blocks are indirectly lost in loss record 2 of 4\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x401030: inl (leak.c:3)\n"
		P "   by 0x401030: outer(int) (leak.c:7)\n"
		P "\n"));
	opts.num_callers = 1;
	free(text);
	lt_snapshot_free(&snap);
	render(&lt_test_small);
	/* Cut to one frame, every stack is the same: one stack per kind. */
	assert_non_null(strstr(text,
		P "1,120 (64 direct, 1,056 indirect) bytes in 2 blocks are definitely lost in loss record 3 of 4\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "\n"));
}

/* Nothing below main; without main, stop at the innermost start-up
 * function and call it "(below main)". Frame forms of every kind. */
static void test_below_main_and_forms(void **state)
{
	const struct test_stack stacks[] = {
		{ .id = 1, .depth = 5, .frames = { 0x7f0000001100, 0x401100, 0x402000, 0x402100, 0x402200 } },
		{ .id = 2, .depth = 6, .frames = { 0x7f0000001100, 0x999, 0x403000, 0x402000, 0x402100, 0x402200 } },
	};
	const struct test_block blocks[] = {
		{ 1, 1, 1, LT_KIND_DEFINITE, 0 },
		{ 2, 2, 2, LT_KIND_DEFINITE, 0 },
	};
	struct test_snap s = lt_test_small;
	s.stacks = stacks;
	s.nstacks = 2;
	s.blocks = blocks;
	s.nblocks = 2;
	render(&s);
	assert_non_null(strstr(text,
		P "1 bytes in 1 blocks are definitely lost in loss record 1 of 2\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x401100: main (leak.c:10)\n"
		P "\n"));
	assert_non_null(strstr(text,
		P "2 bytes in 1 blocks are definitely lost in loss record 2 of 2\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x999: ???\n"
		P "   by 0x403000: Box<std::vector<int> >::make() (in /usr/bin/prog)\n"
		P "   by 0x402000: (below main) (libc_start_call_main.h:58)\n"
		P "\n"));
}

static void test_command_escapes(void **state)
{
	struct test_snap s = lt_test_small;
	static const char cmd[] = "/bin/x\0a\\b\0\0tab\there\0\xc3\xbc";
	s.cmdline = cmd;
	s.cmdline_len = sizeof(cmd) - 1;
	render(&s);
	assert_non_null(strstr(text, P "Command: /bin/x a\\\\b  tab_here __\n"));
}

#define SMALL_SUMMARY \
	P "LEAK SUMMARY:\n" \
	P "   definitely lost: 64 bytes in 2 blocks\n" \
	P "   indirectly lost: 1,056 bytes in 2 blocks\n" \
	P "     possibly lost: 16 bytes in 1 blocks\n" \
	P "   still reachable: 2,000 bytes in 1 blocks\n" \
	P "        suppressed: 0 bytes in 0 blocks\n"

/* valgrind's defaults: definite and possible shown and counted; the
 * numbering still counts every record. */
static void test_default_kinds(void **state)
{
	lt_options_defaults(&opts);
	assert_string_equal(render(&lt_test_small),
		HEADER
		P "HEAP SUMMARY:\n"
		P "    in use at exit: 3,136 bytes in 6 blocks\n"
		P "  total heap usage: 10 allocs, 4 frees, 123,456 bytes allocated\n"
		P "\n"
		P "16 bytes in 1 blocks are possibly lost in loss record 1 of 4\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x401020: ??? (in /usr/bin/prog)\n"
		P "\n"
		P "1,120 (64 direct, 1,056 indirect) bytes in 2 blocks are definitely lost in loss record 3 of 4\n"
		P "   at 0x7F0000001100: malloc (interpose.c:40)\n"
		P "   by 0x401010: helper (leak.c:5)\n"
		P "   by 0x401100: main (leak.c:10)\n"
		P "\n"
		SMALL_SUMMARY
		P "Reachable blocks (those to which a pointer was found) are not shown.\n"
		P "To see them, rerun with: --leak-check=full --show-leak-kinds=all\n"
		P "\n"
		HINT
		P "ERROR SUMMARY: 2 errors from 2 contexts (suppressed: 0 from 0)\n");
}

static void test_errors_for_leak_kinds(void **state)
{
	opts.show_leak_kinds = LT_KINDS_DEFINITE;
	opts.errors_for_leak_kinds = LT_KINDS_ALL;
	render(&lt_test_small);
	assert_null(strstr(text, "possibly lost in loss record"));
	assert_non_null(strstr(text, "definitely lost in loss record 3 of 4\n"));
	assert_non_null(strstr(text, P "ERROR SUMMARY: 4 errors from 4 contexts (suppressed: 0 from 0)\n"));
}

static void test_leak_check_summary(void **state)
{
	opts.leak_check = LT_LEAK_CHECK_SUMMARY;
	assert_string_equal(render(&lt_test_small),
		HEADER
		P "HEAP SUMMARY:\n"
		P "    in use at exit: 3,136 bytes in 6 blocks\n"
		P "  total heap usage: 10 allocs, 4 frees, 123,456 bytes allocated\n"
		P "\n"
		SMALL_SUMMARY
		P "Rerun with --leak-check=full to see details of leaked memory\n"
		P "\n"
		HINT
		P "ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n");
	/* valgrind's XML lists the records in summary mode all the same. */
	free(text);
	lt_snapshot_free(&snap);
	render_ops(&lt_test_small, &lt_report_xml_ops);
	assert_non_null(strstr(text, "<unique>0x3</unique>"));
}

static void test_leak_check_no(void **state)
{
	opts.leak_check = LT_LEAK_CHECK_NO;
	assert_string_equal(render(&lt_test_small),
		HEADER
		P "HEAP SUMMARY:\n"
		P "    in use at exit: 3,136 bytes in 6 blocks\n"
		P "  total heap usage: 10 allocs, 4 frees, 123,456 bytes allocated\n"
		P "\n"
		P "For a detailed leak analysis, rerun with: --leak-check=full\n"
		P "\n"
		HINT
		P "ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n");
}

/* valgrind 3.19's lines for blocks reached through interior pointers
 * (what it prints for a new[] array of objects with destructors and a
 * pointer to a second base class), and our notes on an incomplete scan:
 * after the heap summary in the text, in the preamble in XML. */
static void test_heuristics_and_notes(void **state)
{
	const struct test_block blocks[] = {
		{ 1, 28, 1, LT_KIND_REACHABLE, 0, LT_SNAP_HEUR_NEWARRAY },
		{ 2, 40, 1, LT_KIND_REACHABLE, 0, LT_SNAP_HEUR_MULTIPLEINHERITANCE },
		{ 3, 1234, 1, LT_KIND_REACHABLE, 0, LT_SNAP_HEUR_NONE },
		{ 4, 1000, 1, LT_KIND_REACHABLE, 0, LT_SNAP_HEUR_STDSTRING },
	};
	struct test_snap s = lt_test_small;
	s.stacks = one_stack;
	s.nstacks = 1;
	s.blocks = blocks;
	s.nblocks = 4;
	s.totals = (struct lt_snap_totals){ 5, 1, 2400, 0, LT_SCAN_CLASSIFIED | LT_SCAN_INCOMPLETE, 2 };
	lt_options_defaults(&opts);
	assert_string_equal(render(&s),
		HEADER
		P "HEAP SUMMARY:\n"
		P "    in use at exit: 2,302 bytes in 4 blocks\n"
		P "  total heap usage: 5 allocs, 1 frees, 2,400 bytes allocated\n"
		P "Note: 2 threads could not be paused for the leak scan; their whole stacks were "
		  "scanned, so some leaks may show as reachable.\n"
		P "Note: not every thread could be listed for the leak scan; blocks referenced only "
		  "from an unlisted thread's stack or registers may show as lost.\n"
		P "\n"
		P "LEAK SUMMARY:\n"
		P "   definitely lost: 0 bytes in 0 blocks\n"
		P "   indirectly lost: 0 bytes in 0 blocks\n"
		P "     possibly lost: 0 bytes in 0 blocks\n"
		P "   still reachable: 2,302 bytes in 4 blocks\n"
		P "                      of which reachable via heuristic:\n"
		P "                        stdstring          : 1,000 bytes in 1 blocks\n"
		P "                        newarray           : 28 bytes in 1 blocks\n"
		P "                        multipleinheritance: 40 bytes in 1 blocks\n"
		P "        suppressed: 0 bytes in 0 blocks\n"
		P "Reachable blocks (those to which a pointer was found) are not shown.\n"
		P "To see them, rerun with: --leak-check=full --show-leak-kinds=all\n"
		P "\n"
		HINT
		P "ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n");
	free(text);
	lt_snapshot_free(&snap);
	s.totals.scan_flags = LT_SCAN_CLASSIFIED;
	s.totals.unstopped_threads = 1;
	render_ops(&s, &lt_report_xml_ops);
	assert_non_null(strstr(text,
		"  <line>Command: ./prog -v a b</line>\n"
		"  <line>Note: 1 thread could not be paused for the leak scan; its whole stack was "
		"scanned, so some leaks may show as reachable.</line>\n"
		"</preamble>\n"));
	assert_null(strstr(text, "heuristic"));
	/* No scan, no verdict to qualify: no note. */
	free(text);
	lt_snapshot_free(&snap);
	s.totals.scan_flags = 0;
	render(&s);
	assert_null(strstr(text, "Note:"));
}

static void test_commas(void **state)
{
	char b[LT_COMMAS_MAX];
	assert_string_equal(lt_fmt_commas(0, b), "0");
	assert_string_equal(lt_fmt_commas(999, b), "999");
	assert_string_equal(lt_fmt_commas(1000, b), "1,000");
	assert_string_equal(lt_fmt_commas(100000, b), "100,000");
	assert_string_equal(lt_fmt_commas(1000000, b), "1,000,000");
	assert_string_equal(lt_fmt_commas(UINT64_MAX, b), "18,446,744,073,709,551,615");
}

/* ---- XML ---- */

static void test_xml(void **state)
{
	opts.num_callers = 20;                /* the snapshot's own options */
	render_ops(&lt_test_small, &lt_report_xml_ops);
	const char *head =
		"<?xml version=\"1.0\"?>\n\n<valgrindoutput>\n\n"
		"<protocolversion>4</protocolversion>\n"
		"<protocoltool>memcheck</protocoltool>\n\n"
		"<preamble>\n"
		"  <line>leaktrace-" LT_VERSION ", a memory leak detector</line>\n"
		"  <line>Command: ./prog -v a b</line>\n"
		"</preamble>\n\n"
		"<pid>4242</pid>\n<ppid>4241</ppid>\n<tool>memcheck</tool>\n\n"
		"<args>\n"
		"  <vargv>\n"
		"    <exe>/usr/bin/leaktrace</exe>\n"
		"    <arg>--num-callers=20</arg>\n"
		"    <arg>--show-leak-kinds=all</arg>\n"
		"  </vargv>\n"
		"  <argv>\n"
		"    <exe>./prog</exe>\n"
		"    <arg>-v</arg>\n"
		"    <arg>a b</arg>\n"
		"  </argv>\n"
		"</args>\n\n"
		"<status>\n  <state>RUNNING</state>\n  <time>00:00:00:00.000 </time>\n</status>\n\n\n"
		"<status>\n  <state>FINISHED</state>\n  <time>2023-11-14T22:13:20.123Z</time>\n</status>\n\n"
		"<error>\n"
		"  <unique>0x0</unique>\n"
		"  <tid>1</tid>\n"
		"  <kind>Leak_PossiblyLost</kind>\n"
		"  <xwhat>\n"
		"    <text>16 bytes in 1 blocks are possibly lost in loss record 1 of 4</text>\n"
		"    <leakedbytes>16</leakedbytes>\n"
		"    <leakedblocks>1</leakedblocks>\n"
		"  </xwhat>\n"
		"  <stack>\n"
		"    <frame>\n"
		"      <ip>0x7F0000001100</ip>\n"
		"      <obj>/usr/lib/libleaktrace.so</obj>\n"
		"      <fn>malloc</fn>\n"
		"      <dir>/src/preload</dir>\n"
		"      <file>interpose.c</file>\n"
		"      <line>40</line>\n"
		"    </frame>\n"
		"    <frame>\n"
		"      <ip>0x401020</ip>\n"
		"      <obj>/usr/bin/prog</obj>\n"
		"    </frame>\n"
		"  </stack>\n"
		"</error>\n\n";
	if (strncmp(text, head, strlen(head)) != 0)
		fail_msg("XML starts:\n%s\nexpected:\n%s", text, head);
	assert_non_null(strstr(text,
		"  <kind>Leak_DefinitelyLost</kind>\n"
		"  <xwhat>\n"
		"    <text>1,120 (64 direct, 1,056 indirect) bytes in 2 blocks are definitely lost in loss record 3 of 4</text>\n"
		"    <leakedbytes>1120</leakedbytes>\n"
		"    <leakedblocks>2</leakedblocks>\n"
		"  </xwhat>\n"));
	assert_non_null(strstr(text, "<unique>0x3</unique>"));
	const char *tail = "</error>\n\n<errorcounts>\n</errorcounts>\n\n"
			   "<suppcounts>\n</suppcounts>\n\n</valgrindoutput>\n\n";
	size_t tl = strlen(tail), len = strlen(text);
	assert_true(len > tl);
	assert_string_equal(text + len - tl, tail);
}

static void test_xml_escaping_and_unclassified(void **state)
{
	const struct test_stack stacks[] = {
		{ .id = 1, .depth = 2, .frames = { 0x7f0000001100, 0x403000 } },
	};
	const struct test_block blocks[] = { { 1, 7, 1, LT_KIND_UNCLASSIFIED, 0 } };
	struct test_snap s = lt_test_small;
	s.stacks = stacks;
	s.nstacks = 1;
	s.blocks = blocks;
	s.nblocks = 1;
	s.cmdline = "./a&b\0<x>";
	s.cmdline_len = 9;
	render_ops(&s, &lt_report_xml_ops);
	assert_non_null(strstr(text, "<fn>Box&lt;std::vector&lt;int&gt; &gt;::make()</fn>"));
	assert_non_null(strstr(text, "<line>Command: ./a&amp;b &lt;x&gt;</line>"));
	assert_non_null(strstr(text, "<kind>Leak_NotClassified</kind>"));
	assert_non_null(strstr(text, "<text>7 bytes in 1 blocks are still allocated at exit "
				     "(not yet classified) in loss record 1 of 1</text>"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_classified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unclassified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_and_snapshot_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(test_num_callers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_below_main_and_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_for_leak_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leak_check_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leak_check_no, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heuristics_and_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xml, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xml_escaping_and_unclassified, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
