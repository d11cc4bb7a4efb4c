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

#include "delta.h"
#include "report.h"
#include "suppress.h"

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

static void put_scan_notes(struct lt_report *r)
{
	char notes[LT_SCAN_NOTES_MAX][LT_SCAN_NOTE_LEN];
	size_t n = lt_scan_notes(&r->snap->totals, notes);
	for (size_t i = 0; i < n; i++)
		say(r, "%s\n", notes[i]);
}

/* valgrind's "--PID-- " lines: what -v and -s add. */
__attribute__((format(printf, 2, 3)))
static void debug_say(struct lt_report *r, const char *fmt, ...)
{
	char line[LT_OPT_LIST_MAX + 256];
	va_list ap;
	lt_ob_puts(r->out, "--");
	lt_ob_u64(r->out, r->snap->process.pid);
	lt_ob_puts(r->out, "-- ");
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		lt_ob_putn(r->out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* -v: the options in effect, in the command line's spelling, and the
 * suppressions files read, where valgrind says its own. */
static void put_verbose_preamble(struct lt_report *r)
{
	static char list[sizeof(struct lt_options) + 4096];
	const struct lt_supp_set *supps = r->records->supps;
	lt_options_format(r->opts, list, sizeof(list));
	debug_say(r, "leaktrace options:\n");
	for (char *item = list, *next; *item; item = next) {
		next = item + strcspn(item, ":");
		if (*next)
			*next++ = '\0';
		for (char *p = item; *p && *p != '='; p++)
			if (*p == '_')
				*p = '-';
		debug_say(r, "   --%s\n", item);
	}
	for (size_t i = 0; supps && i < supps->nfiles; i++)
		debug_say(r, "Reading suppressions file: %s\n", supps->files[i]);
}

static void text_begin(struct lt_report *r)
{
	const struct lt_records *rs = r->records;
	const struct lt_snap_totals *t = &r->snap->totals;
	char a[LT_COMMAS_MAX], b[LT_COMMAS_MAX], c[LT_COMMAS_MAX];

	/* -q: only what is wrong, the loss records; and what may make the
	 * verdicts wrong. */
	if (r->opts->verbosity == 0) {
		if (t->dropped)
			say(r, "WARNING: %s blocks could not be tracked (the live table was "
			    "full): they are missing from this report\n", lt_fmt_commas(t->dropped, a));
		put_scan_notes(r);
		return;
	}
	say(r, "leaktrace-%s, a memory leak detector\n", LT_VERSION);
	put_command(r);
	/* valgrind prints one blank line before the program runs and one
	 * after it ends; the report keeps both. */
	say(r, "\n");
	if (r->opts->verbosity >= 2)
		put_verbose_preamble(r);
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
	put_scan_notes(r);
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
	char figures[8 * LT_DELTA_MAX + 64], num[LT_COMMAS_MAX], of[LT_COMMAS_MAX];
	const char *words = lt_kind_words(rec->kind, at_exit(r));

	lt_record_figures(r->records, rec, figures, sizeof(figures));
	lt_fmt_commas(number, num);
	lt_fmt_commas(r->records->count, of);
	say(r, "%s are %s in loss record %s of %s\n", figures, words, num, of);
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
	if (r->opts->gen_suppressions)
		lt_supp_write_text(r->out, r->snap, r->src, r->opts->num_callers, rec->stack_id,
				   rec->kind);
}

/* "N bytes in M blocks", with valgrind's deltas after a first report. */
static void summary_figures(struct lt_report *r, const char *label, uint64_t bytes,
			    uint64_t old_bytes, uint64_t blocks, uint64_t old_blocks)
{
	char a[LT_COMMAS_MAX], b[LT_COMMAS_MAX], da[LT_DELTA_MAX], db[LT_DELTA_MAX];
	bool on = r->records->has_previous;
	say(r, "%s: %s%s bytes in %s%s blocks\n", label, lt_fmt_commas(bytes, a),
	    lt_fmt_delta(bytes, old_bytes, on, da), lt_fmt_commas(blocks, b),
	    lt_fmt_delta(blocks, old_blocks, on, db));
}

static void summary_line(struct lt_report *r, const char *label, unsigned kind)
{
	const struct lt_records *rs = r->records;
	summary_figures(r, label, rs->kind_bytes[kind], rs->previous.kind_bytes[kind],
			rs->kind_blocks[kind], rs->previous.kind_blocks[kind]);
}

/* valgrind's lines under "still reachable": the heuristics that made
 * blocks reachable, those with blocks only, in valgrind's order. */
static void put_heuristics(struct lt_report *r)
{
	const struct lt_records *rs = r->records;
	const struct lt_records_previous *p = &rs->previous;
	char label[64];
	bool any = false;
	/* As valgrind: a heuristic with blocks now or in the previous report. */
	for (unsigned h = 1; h < LT_SNAP_HEUR_COUNT; h++)
		any |= rs->heur_blocks[h] != 0 || p->heur_blocks[h] != 0;
	if (!any)
		return;
	say(r, "                      of which reachable via heuristic:\n");
	for (unsigned h = 1; h < LT_SNAP_HEUR_COUNT; h++)
		if (rs->heur_blocks[h] || p->heur_blocks[h]) {
			snprintf(label, sizeof(label), "                        %-19s",
				 lt_heuristic_name(h));
			summary_figures(r, label, rs->heur_bytes[h], p->heur_bytes[h],
					rs->heur_blocks[h], p->heur_blocks[h]);
		}
}

/* valgrind's ERROR SUMMARY: suppressed errors are the suppressed records
 * that would have counted as errors, each its own context. */
static void error_summary(struct lt_report *r)
{
	const struct lt_records *rs = r->records;
	char a[LT_COMMAS_MAX], b[LT_COMMAS_MAX], c[LT_COMMAS_MAX], d[LT_COMMAS_MAX];
	size_t suppressed = 0;
	for (size_t i = 0; i < rs->count; i++)
		suppressed += rs->recs[i].suppressed && r->leak_check == LT_LEAK_CHECK_FULL &&
			      (r->opts->errors_for_leak_kinds & lt_kind_bit(rs->recs[i].kind));
	for (size_t i = 0; i < rs->nmaps; i++)
		suppressed += rs->maps[i].suppressed && r->leak_check == LT_LEAK_CHECK_FULL &&
			      (r->opts->errors_for_leak_kinds & lt_kind_bit(rs->maps[i].kind));
	say(r, "ERROR SUMMARY: %s errors from %s contexts (suppressed: %s from %s)\n",
	    lt_fmt_commas(r->errors, a), lt_fmt_commas(r->errors, b),
	    lt_fmt_commas(suppressed, c), lt_fmt_commas(suppressed, d));
}

/* -s: the suppressions used, in valgrind's order (the one that matched
 * last first), then the ERROR SUMMARY again, as valgrind ends. */
static void used_suppressions(struct lt_report *r)
{
	const struct lt_supp_set *set = r->records->supps;
	char a[LT_COMMAS_MAX], b[LT_COMMAS_MAX];
	bool any = false;
	for (size_t i = 0; set && i < set->count; i++) {
		const struct lt_supp *s = set->order[i];
		if (!s->count)
			continue;
		if (!any)
			debug_say(r, "\n");
		any = true;
		debug_say(r, "used_suppression: %6llu %s %s:%u suppressed: %s bytes in %s blocks\n",
			  (unsigned long long)s->count, s->name, s->file, s->lineno,
			  lt_fmt_commas(s->bytes, a), lt_fmt_commas(s->blocks, b));
	}
	if (!any)
		return;
	say(r, "\n");
	error_summary(r);
}

/* ---- mappings (track_mmap=yes): their records and MAPPING SUMMARY ---- */

static void text_mapping(struct lt_report *r, const struct lt_map_record *rec, size_t number)
{
	char total[LT_COMMAS_MAX], direct[LT_COMMAS_MAX], indirect[LT_COMMAS_MAX];
	char count[LT_COMMAS_MAX], num[LT_COMMAS_MAX], of[LT_COMMAS_MAX];
	const char *words = lt_kind_words(rec->kind, at_exit(r));
	const char *sep = rec->path[0] ? " " : "";

	lt_fmt_commas(rec->count, count);
	lt_fmt_commas(number, num);
	lt_fmt_commas(r->records->nmaps, of);
	if (rec->indirect_bytes)
		say(r, "%s (%s direct, %s indirect) bytes in %s mappings (%s%s%s) are %s in mapping record %s of %s\n",
		    lt_fmt_commas(rec->bytes + rec->indirect_bytes, total),
		    lt_fmt_commas(rec->bytes, direct), lt_fmt_commas(rec->indirect_bytes, indirect),
		    count, lt_map_type_words(rec->type), sep, rec->path, words, num, of);
	else
		say(r, "%s bytes in %s mappings (%s%s%s) are %s in mapping record %s of %s\n",
		    lt_fmt_commas(rec->bytes, total), count, lt_map_type_words(rec->type), sep,
		    rec->path, words, num, of);
}

static void text_mapping_end(struct lt_report *r, const struct lt_map_record *rec)
{
	say(r, "\n");
	if (r->opts->gen_suppressions)
		lt_supp_write_text(r->out, r->snap, r->src, r->opts->num_callers, rec->stack_id,
				   rec->kind);
}

static void map_line(struct lt_report *r, const char *label, uint64_t bytes, uint64_t count)
{
	char a[LT_COMMAS_MAX], b[LT_COMMAS_MAX];
	say(r, "%19s: %s bytes in %s mappings\n", label, lt_fmt_commas(bytes, a),
	    lt_fmt_commas(count, b));
}

/* After the LEAK SUMMARY, in its shape: the verdicts, then the bytes of
 * each type of mapping, whatever their verdict. */
static void mapping_summary(struct lt_report *r)
{
	const struct lt_records *rs = r->records;
	char a[LT_COMMAS_MAX];
	uint64_t unclassified = rs->map_kind_count[LT_KIND_UNCLASSIFIED];

	if (!rs->has_mappings || (!rs->map_count && !rs->maps_dropped) ||
	    r->leak_check == LT_LEAK_CHECK_NO)
		return;
	say(r, "MAPPING SUMMARY:\n");
	map_line(r, at_exit(r) ? "in use at exit" : "in use now", rs->map_bytes, rs->map_count);
	if (rs->map_count > unclassified) {
		map_line(r, "definitely lost", rs->map_kind_bytes[LT_KIND_DEFINITE],
			 rs->map_kind_count[LT_KIND_DEFINITE]);
		map_line(r, "indirectly lost", rs->map_kind_bytes[LT_KIND_INDIRECT],
			 rs->map_kind_count[LT_KIND_INDIRECT]);
		map_line(r, "possibly lost", rs->map_kind_bytes[LT_KIND_POSSIBLE],
			 rs->map_kind_count[LT_KIND_POSSIBLE]);
		map_line(r, "still reachable", rs->map_kind_bytes[LT_KIND_REACHABLE],
			 rs->map_kind_count[LT_KIND_REACHABLE]);
		map_line(r, "suppressed", rs->map_suppressed_bytes, rs->map_suppressed_count);
	}
	if (unclassified)
		map_line(r, "not classified", rs->map_kind_bytes[LT_KIND_UNCLASSIFIED], unclassified);
	for (unsigned t = LT_MAP_PRIVATE_ANON; t < LT_MAP_NTYPES; t++)
		map_line(r, lt_map_type_words(t), rs->map_type_bytes[t], rs->map_type_count[t]);
	if (rs->maps_dropped)
		say(r, "WARNING: %s mappings could not be tracked (too many): they were scanned "
		    "as roots and are missing from this report\n", lt_fmt_commas(rs->maps_dropped, a));
	say(r, "\n");
}

static void text_end(struct lt_report *r)
{
	const struct lt_records *rs = r->records;
	uint64_t unclassified = rs->kind_blocks[LT_KIND_UNCLASSIFIED];
	bool show_list = r->opts->show_error_list || r->opts->verbosity >= 2;

	if (r->opts->verbosity == 0) {
		/* valgrind -q says nothing more, unless asked for the list. */
		if (show_list) {
			error_summary(r);
			used_suppressions(r);
		}
		return;
	}
	if (r->leak_check != LT_LEAK_CHECK_NO && rs->blocks > unclassified) {
		say(r, "LEAK SUMMARY:\n");
		summary_line(r, "   definitely lost", LT_KIND_DEFINITE);
		summary_line(r, "   indirectly lost", LT_KIND_INDIRECT);
		summary_line(r, "     possibly lost", LT_KIND_POSSIBLE);
		summary_line(r, "   still reachable", LT_KIND_REACHABLE);
		put_heuristics(r);
		summary_figures(r, "        suppressed", rs->suppressed_bytes,
				rs->previous.suppressed_bytes, rs->suppressed_blocks,
				rs->previous.suppressed_blocks);
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
	mapping_summary(r);
	if (!show_list)
		say(r, "For lists of detected and suppressed errors, rerun with: -s\n");
	error_summary(r);
	if (show_list)
		used_suppressions(r);
}

const struct lt_report_ops lt_report_text_ops = {
	.name = "text",
	.begin = text_begin,
	.leak = text_leak,
	.frame = text_frame,
	.leak_end = text_leak_end,
	.end = text_end,
	.mapping = text_mapping,
	.mapping_end = text_mapping_end,
};
