/* The report driver: walks the loss records, decides which are shown and
 * which count as errors, and which frames of each stack are shown, as
 * valgrind does:
 * - leak_check=full shows the records of the show_leak_kinds kinds and
 *   counts those of errors_for_leak_kinds as errors; summary and no show
 *   and count none (except valgrind's XML, which lists them in summary
 *   mode too). Blocks not classified are shown in full mode, never errors.
 * - at most num_callers addresses per stack (the inlined frames of an
 *   address do not count against it), and nothing below main: the stack
 *   stops at main or, when main is not in it, at the innermost of glibc's
 *   start-up functions, which shows as "(below main)".
 * - with a baseline applied (records->baseline), the records it does not
 *   know come first, the known ones after, each group after a note line;
 *   known records are never errors (docs/json-report.md, Baselines).
 * Context: offline side only. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

struct shown_ip {
	uint64_t ip;
	const struct lt_frame *frames;
	size_t count;
};

/* How many of the stack's first n addresses valgrind would print. */
static size_t cut_below_main(const struct shown_ip *ips, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		enum lt_fn_kind kind = ips[i].frames[ips[i].count - 1].kind;
		if (kind == LT_FN_MAIN)
			return i + 1;
		if (kind == LT_FN_BELOW_MAIN)
			n = i + 1;
	}
	return n;
}

void lt_report_walk_stack(const struct lt_snapshot *snap, const struct lt_frame_source *src,
			  unsigned num_callers, uint32_t stack_id,
			  lt_frame_visit visit, void *ctx)
{
	struct shown_ip ips[LT_SNAP_MAX_DEPTH];
	const struct lt_stack *stack = lt_snapshot_stack(snap, stack_id);
	size_t n;

	if (!stack)
		return;
	n = stack->depth;
	if (n > num_callers)
		n = num_callers;
	if (n > LT_SNAP_MAX_DEPTH)
		n = LT_SNAP_MAX_DEPTH;
	for (uint32_t i = 0; i < n; i++) {
		ips[i].ip = stack->frames[i];
		ips[i].count = src->resolve(src->ctx, stack, i, &ips[i].frames);
	}
	n = cut_below_main(ips, n);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < ips[i].count; k++) {
			struct lt_frame f = ips[i].frames[k];
			if (f.kind == LT_FN_BELOW_MAIN && !f.inlined)
				f.fn = "(below main)";
			visit(ctx, ips[i].ip, (uint32_t)i, &f);
		}
	}
}

struct emit_ctx {
	const struct lt_report_ops *ops;
	struct lt_report *r;
	bool first;
};

static void emit_frame(void *ctx, uint64_t ip, uint32_t index, const struct lt_frame *f)
{
	struct emit_ctx *c = ctx;
	c->ops->frame(c->r, ip, f, c->first);
	c->first = false;
}

static void emit_stack_of(const struct lt_report_ops *ops, struct lt_report *r,
			  const struct lt_frame_source *src, uint32_t stack_id)
{
	struct emit_ctx c = { ops, r, true };
	if (ops->frame)
		lt_report_walk_stack(r->snap, src, r->opts->num_callers, stack_id,
				     emit_frame, &c);
}

static void emit_stack(const struct lt_report_ops *ops, struct lt_report *r,
		       const struct lt_frame_source *src, const struct lt_loss_record *rec)
{
	emit_stack_of(ops, r, src, rec->stack_id);
}

bool lt_report_shows(const struct lt_options *opts, const struct lt_loss_record *rec)
{
	unsigned bit = lt_kind_bit(rec->kind);
	return opts->leak_check == LT_LEAK_CHECK_FULL && !rec->suppressed &&
	       !rec->delta_hidden && (!bit || (opts->show_leak_kinds & bit));
}

bool lt_report_map_shows(const struct lt_options *opts, const struct lt_map_record *rec)
{
	unsigned bit = lt_kind_bit(rec->kind);
	return opts->leak_check == LT_LEAK_CHECK_FULL && !rec->suppressed &&
	       (!bit || (opts->show_leak_kinds & bit));
}

bool lt_report_map_counts(const struct lt_options *opts, const struct lt_map_record *rec)
{
	return opts->leak_check == LT_LEAK_CHECK_FULL && !rec->suppressed && !rec->baselined &&
	       (opts->errors_for_leak_kinds & lt_kind_bit(rec->kind));
}

bool lt_report_counts(const struct lt_options *opts, const struct lt_loss_record *rec)
{
	return opts->leak_check == LT_LEAK_CHECK_FULL && !rec->suppressed &&
	       !rec->delta_hidden &&
	       (opts->errors_for_leak_kinds & lt_kind_bit(rec->kind)) && !rec->baselined;
}

/* The text form of a note, in the report's own layout: "==PID== text",
 * then an empty "==PID== " line, as valgrind separates paragraphs, so
 * that parsers of valgrind's text see it as a paragraph of its own and
 * the loss records around it unchanged. Used for the text backend until
 * it has a note operation of its own. */
static void text_note(struct lt_report *r, const char *text)
{
	for (int i = 0; i < 2; i++) {
		lt_ob_puts(r->out, "==");
		lt_ob_u64(r->out, r->snap->process.pid);
		lt_ob_puts(r->out, "== ");
		if (!i)
			lt_ob_puts(r->out, text);
		lt_ob_putc(r->out, '\n');
	}
}

/* With a baseline, records are listed in two groups, new ones first,
 * each after a note saying which group it is; n is the number of records
 * of the group that are shown, what the records' name ("loss record"). */
static void group_note(const struct lt_report_ops *ops, struct lt_report *r, bool known,
		       size_t n, const char *what)
{
	void (*note)(struct lt_report *, const char *) = ops->note;
	const struct lt_records *rs = r->records;
	char text[LT_OPT_PATH_MAX + 160];

	if (!note && ops == &lt_report_text_ops)
		note = text_note;
	if (!note || r->leak_check != LT_LEAK_CHECK_FULL)
		return;
	if (known && !n)
		return;
	if (known)
		snprintf(text, sizeof(text), "leaktrace: %zu %s%s in the baseline %s "
			 "(known, not counted as errors):", n, what, n == 1 ? "" : "s", rs->baseline);
	else if (n)
		snprintf(text, sizeof(text), "leaktrace: %zu new %s%s "
			 "(not in the baseline %s):", n, what, n == 1 ? "" : "s", rs->baseline);
	else
		snprintf(text, sizeof(text), "leaktrace: no new %ss "
			 "(all are in the baseline %s)", what, rs->baseline);
	note(r, text);
}

static size_t shown_in_group(const struct lt_report *r, bool known)
{
	const struct lt_records *rs = r->records;
	size_t n = 0;
	for (size_t i = 0; i < rs->count; i++)
		n += rs->recs[i].baselined == known && lt_report_shows(r->opts, &rs->recs[i]);
	return n;
}

static size_t maps_shown_in_group(const struct lt_report *r, bool known)
{
	const struct lt_records *rs = r->records;
	size_t n = 0;
	for (size_t i = 0; i < rs->nmaps; i++)
		n += rs->maps[i].baselined == known && lt_report_map_shows(r->opts, &rs->maps[i]);
	return n;
}

/* Mapping records come after the loss records, in their own numbering,
 * so that the loss records stay numbered as valgrind numbers them.
 * Suppressed ones are neither shown nor errors, baselined ones not
 * errors, as loss records; with a baseline they are grouped the same way
 * (notes only when some mapping record is shown, so that a report
 * without mappings stays as it was). */
static void emit_mappings(const struct lt_report_ops *ops, struct lt_report *r)
{
	const struct lt_records *rs = r->records;
	bool full = r->leak_check == LT_LEAK_CHECK_FULL;
	bool grouped = rs->baseline && !ops->all_records && ops->mapping;
	size_t shown[2] = { 0, 0 };
	if (grouped) {
		shown[0] = maps_shown_in_group(r, false);
		shown[1] = maps_shown_in_group(r, true);
		grouped = shown[0] + shown[1] > 0;
	}
	for (int pass = 0; pass < (grouped ? 2 : 1); pass++) {
		if (grouped)
			group_note(ops, r, pass == 1, shown[pass], "mapping record");
		for (size_t i = 0; i < rs->nmaps; i++) {
			const struct lt_map_record *m = &rs->maps[i];
			unsigned bit = lt_kind_bit(m->kind);
			if (grouped && m->baselined != (pass == 1))
				continue;
			if (ops->mapping && (ops->all_records ||
					     (full && !m->suppressed &&
					      (!bit || (r->opts->show_leak_kinds & bit))))) {
				ops->mapping(r, m, i + 1);
				emit_stack_of(ops, r, r->src, m->stack_id);
				if (ops->mapping_end)
					ops->mapping_end(r, m);
			}
			r->errors += full && !m->suppressed && !m->baselined &&
				     (r->opts->errors_for_leak_kinds & bit) != 0;
		}
	}
}

int lt_report_render(const struct lt_report_ops *ops, FILE *out,
		     const struct lt_snapshot *snap, const struct lt_records *records,
		     const struct lt_frame_source *src, const struct lt_options *opts,
		     const char *tool_path)
{
	struct lt_outbuf *ob = malloc(sizeof(*ob));   /* 32 KiB: not on the stack */
	struct lt_report r = {
		.out = ob,
		.snap = snap,
		.opts = opts,
		.records = records,
		.tool_path = tool_path,
		.src = src,
	};
	if (!ob)
		return -1;
	lt_ob_init(ob, out);
	r.leak_check = opts->leak_check;
	if (r.leak_check == LT_LEAK_CHECK_SUMMARY && ops->summary_lists_records)
		r.leak_check = LT_LEAK_CHECK_FULL;
	ops->begin(&r);
	/* With a baseline, new records first (machine-readable backends keep
	 * loss-record order: each record says whether it is baselined). */
	bool grouped = records->baseline && !ops->all_records;
	for (int pass = 0; pass < (grouped ? 2 : 1); pass++) {
		if (grouped)
			group_note(ops, &r, pass == 1, shown_in_group(&r, pass == 1),
				   "loss record");
		for (size_t i = 0; i < records->count; i++) {
			const struct lt_loss_record *rec = &records->recs[i];
			unsigned bit = lt_kind_bit(rec->kind);
			if (grouped && rec->baselined != (pass == 1))
				continue;
			if (ops->all_records || (r.leak_check == LT_LEAK_CHECK_FULL &&
						 !rec->suppressed && !rec->delta_hidden &&
						 (!bit || (opts->show_leak_kinds & bit)))) {
				ops->leak(&r, rec, i + 1);
				emit_stack(ops, &r, src, rec);
				ops->leak_end(&r, rec);
				r.shown++;
			}
			r.errors += r.leak_check == LT_LEAK_CHECK_FULL && !rec->suppressed &&
				    !rec->delta_hidden &&
				    (opts->errors_for_leak_kinds & bit) != 0 && !rec->baselined;
		}
	}
	emit_mappings(ops, &r);
	ops->end(&r);
	int rc = lt_ob_flush(ob) != 0 || fflush(out) != 0 || ferror(out) ? -1 : 0;
	free(ob);
	return rc;
}
