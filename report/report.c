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

static void emit_stack(const struct lt_report_ops *ops, struct lt_report *r,
		       const struct lt_frame_source *src, const struct lt_loss_record *rec)
{
	struct shown_ip ips[LT_SNAP_MAX_DEPTH];
	const struct lt_stack *stack = lt_snapshot_stack(r->snap, rec->stack_id);
	size_t n = stack->depth;
	bool first = true;

	if (n > r->opts->num_callers)
		n = r->opts->num_callers;
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
			ops->frame(r, ips[i].ip, &f, first);
			first = false;
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
	};
	if (!ob)
		return -1;
	lt_ob_init(ob, out);
	r.leak_check = opts->leak_check;
	if (r.leak_check == LT_LEAK_CHECK_SUMMARY && ops->summary_lists_records)
		r.leak_check = LT_LEAK_CHECK_FULL;
	ops->begin(&r);
	for (size_t i = 0; r.leak_check == LT_LEAK_CHECK_FULL && i < records->count; i++) {
		const struct lt_loss_record *rec = &records->recs[i];
		unsigned bit = lt_kind_bit(rec->kind);
		if (!bit || (opts->show_leak_kinds & bit)) {
			ops->leak(&r, rec, i + 1);
			emit_stack(ops, &r, src, rec);
			ops->leak_end(&r, rec);
			r.shown++;
		}
		r.errors += (opts->errors_for_leak_kinds & bit) != 0;
	}
	ops->end(&r);
	int rc = lt_ob_flush(ob) != 0 || fflush(out) != 0 || ferror(out) ? -1 : 0;
	free(ob);
	return rc;
}
