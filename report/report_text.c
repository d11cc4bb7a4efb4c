/* The text report, in valgrind memcheck's layout, so that people and
 * scripts that read valgrind read it: "==PID== " before every line, HEAP
 * SUMMARY, loss records with at/by frames, LEAK SUMMARY, ERROR SUMMARY.
 * Context: offline side only. Where valgrind has a form, use it exactly;
 * never print a verdict the snapshot does not hold (no LEAK SUMMARY for
 * blocks that were not classified). */
#define _GNU_SOURCE
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static void prefix(struct lt_report *r)
{
	lt_ob_puts(r->out, "==");
	lt_ob_u64(r->out, r->snap->process.pid);
	lt_ob_puts(r->out, "== ");
}

__attribute__((format(printf, 2, 3)))
static void say(struct lt_report *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;
	prefix(r);
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(line)) {
		lt_ob_putn(r->out, line, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	char *big = NULL;
	if (vasprintf(&big, fmt, ap) >= 0)
		lt_ob_puts(r->out, big);
	va_end(ap);
	free(big);
}

/* valgrind's "Command:" line: arguments separated by spaces, with spaces
 * and backslashes escaped by a backslash, and bytes outside printable
 * ASCII (control characters, UTF-8 bytes) shown as '_'. */
static void put_arg(struct lt_report *r, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '\\')
			lt_ob_putc(r->out, '\\');
		lt_ob_putc(r->out, (signed char)*s < 0x20 ? '_' : *s);
	}
}

static void put_command(struct lt_report *r)
{
	const struct lt_snapshot *snap = r->snap;
	prefix(r);
	lt_ob_puts(r->out, "Command:");
	if (!snap->argc) {
		lt_ob_putc(r->out, ' ');
		put_arg(r, snap->exe);
	}
	for (size_t i = 0; i < snap->argc; i++) {
		lt_ob_putc(r->out, ' ');
		put_arg(r, snap->argv[i]);
	}
	lt_ob_putc(r->out, '\n');
}

static bool at_exit(const struct lt_report *r)
{
	return r->snap->process.reason == LT_REASON_EXIT;
}

static void text_begin(struct lt_report *r)
{
	const struct lt_records *rs = r->records;
	const struct lt_snap_totals *t = &r->snap->totals;
	char a[LT_COMMAS_MAX], b[LT_COMMAS_MAX], c[LT_COMMAS_MAX];

	say(r, "leaktrace-%s, a memory leak detector\n", LT_VERSION);
	put_command(r);
	/* valgrind prints one blank line before the program runs and one
	 * after it ends; the report keeps both. */
	say(r, "\n");
	say(r, "\n");
	say(r, "HEAP SUMMARY:\n");
	if (at_exit(r))
		say(r, "    in use at exit: %s bytes in %s blocks\n",
		    lt_fmt_commas(rs->bytes, a), lt_fmt_commas(rs->blocks, b));
	else
		say(r, "        in use now: %s bytes in %s blocks\n",
		    lt_fmt_commas(rs->bytes, a), lt_fmt_commas(rs->blocks, b));
	say(r, "  total heap usage: %s allocs, %s frees, %s bytes allocated\n",
	    lt_fmt_commas(t->allocs, a), lt_fmt_commas(t->frees, b),
	    lt_fmt_commas(t->bytes_allocated, c));
	if (t->dropped)
		say(r, "WARNING: %s blocks could not be tracked (the live table was full): "
		    "they are missing from this report\n", lt_fmt_commas(t->dropped, a));
	say(r, "\n");
	if (r->leak_check == LT_LEAK_CHECK_NO) {
		say(r, "For a detailed leak analysis, rerun with: --leak-check=full\n");
		say(r, "\n");
	} else if (!rs->blocks) {
		say(r, "All heap blocks were freed -- no leaks are possible\n");
		say(r, "\n");
	}
}

static void text_leak(struct lt_report *r, const struct lt_loss_record *rec, size_t number)
{
	char total[LT_COMMAS_MAX], direct[LT_COMMAS_MAX], indirect[LT_COMMAS_MAX];
	char blocks[LT_COMMAS_MAX], num[LT_COMMAS_MAX], of[LT_COMMAS_MAX];
	const char *words = lt_kind_words(rec->kind, at_exit(r));

	lt_fmt_commas(rec->blocks, blocks);
	lt_fmt_commas(number, num);
	lt_fmt_commas(r->records->count, of);
	if (rec->indirect_bytes)
		say(r, "%s (%s direct, %s indirect) bytes in %s blocks are %s in loss record %s of %s\n",
		    lt_fmt_commas(rec->bytes + rec->indirect_bytes, total),
		    lt_fmt_commas(rec->bytes, direct), lt_fmt_commas(rec->indirect_bytes, indirect),
		    blocks, words, num, of);
	else
		say(r, "%s bytes in %s blocks are %s in loss record %s of %s\n",
		    lt_fmt_commas(rec->bytes, total), blocks, words, num, of);
}

/* valgrind's forms: "fn (file:line)", "fn (in /obj)", "??? (in /obj)",
 * and "???" alone. The hot path of the report: no printf. */
static void text_frame(struct lt_report *r, uint64_t ip, const struct lt_frame *f, bool first)
{
	struct lt_outbuf *o = r->out;
	prefix(r);
	lt_ob_puts(o, first ? "   at " : "   by ");
	lt_ob_hex(o, ip);
	lt_ob_puts(o, ": ");
	lt_ob_puts(o, f->fn ? f->fn : "???");
	if (f->file) {
		lt_ob_puts(o, " (");
		lt_ob_puts(o, f->file);
		lt_ob_putc(o, ':');
		lt_ob_u64(o, f->line);
		lt_ob_putc(o, ')');
	} else if (f->obj) {
		lt_ob_puts(o, " (in ");
		lt_ob_puts(o, f->obj);
		lt_ob_putc(o, ')');
	}
	lt_ob_putc(o, '\n');
}

static void text_leak_end(struct lt_report *r, const struct lt_loss_record *rec)
{
	say(r, "\n");
}

static void summary_line(struct lt_report *r, const char *label, unsigned kind)
{
	char a[LT_COMMAS_MAX], b[LT_COMMAS_MAX];
	say(r, "%s: %s bytes in %s blocks\n", label,
	    lt_fmt_commas(r->records->kind_bytes[kind], a),
	    lt_fmt_commas(r->records->kind_blocks[kind], b));
}

static void text_end(struct lt_report *r)
{
	const struct lt_records *rs = r->records;
	char a[LT_COMMAS_MAX], b[LT_COMMAS_MAX];
	uint64_t unclassified = rs->kind_blocks[LT_KIND_UNCLASSIFIED];

	if (r->leak_check != LT_LEAK_CHECK_NO && rs->blocks > unclassified) {
		say(r, "LEAK SUMMARY:\n");
		summary_line(r, "   definitely lost", LT_KIND_DEFINITE);
		summary_line(r, "   indirectly lost", LT_KIND_INDIRECT);
		summary_line(r, "     possibly lost", LT_KIND_POSSIBLE);
		summary_line(r, "   still reachable", LT_KIND_REACHABLE);
		say(r, "        suppressed: 0 bytes in 0 blocks\n");
		if (unclassified)
			summary_line(r, "    not classified", LT_KIND_UNCLASSIFIED);
		if (r->leak_check == LT_LEAK_CHECK_SUMMARY)
			say(r, "Rerun with --leak-check=full to see details of leaked memory\n");
		if (r->leak_check == LT_LEAK_CHECK_FULL && rs->kind_blocks[LT_KIND_REACHABLE] &&
		    !(r->opts->show_leak_kinds & LT_KINDS_REACHABLE)) {
			say(r, "Reachable blocks (those to which a pointer was found) are not shown.\n");
			say(r, "To see them, rerun with: --leak-check=full --show-leak-kinds=all\n");
		}
		say(r, "\n");
	}
	say(r, "ERROR SUMMARY: %s errors from %s contexts (suppressed: 0 from 0)\n",
	    lt_fmt_commas(r->errors, a), lt_fmt_commas(r->errors, b));
}

const struct lt_report_ops lt_report_text_ops = {
	.name = "text",
	.begin = text_begin,
	.leak = text_leak,
	.frame = text_frame,
	.leak_end = text_leak_end,
	.end = text_end,
};
