/* The JSON report: one object per report, every loss record with its
 * stack and fingerprints, for programs (CI gates, dashboards, baselines).
 * Schema: docs/json-report.md and docs/leaktrace-report.schema.json; a
 * change to either is a change to both, and to format_version when a
 * consumer could notice.
 * Context: offline side only. Lists every record, shown in the text
 * report or not (each says which), in loss-record order. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fingerprint.h"
#include "json.h"

#define LT_JSON_FORMAT_VERSION 1

struct json_state {
	struct lt_json_writer w;
	struct lt_record_view view;
	bool in_mappings;         /* the "mappings" member is open */
};

static const char *reason_name(uint32_t reason)
{
	switch (reason) {
	case LT_REASON_EXIT: return "exit";
	case LT_REASON_SIGNAL: return "signal";
	case LT_REASON_API: return "api";
	case LT_REASON_INTERVAL: return "interval";
	default: return "unknown";
	}
}

static bool suppressed(const struct lt_loss_record *rec)
{
	return rec->suppressed;
}

static void put_kib(struct lt_json_writer *w, const char *key, uint64_t kib)
{
	lt_jw_key(w, key);
	if (kib == LT_MEM_UNKNOWN)
		lt_jw_null(w);
	else
		lt_jw_u64(w, kib);
}

/* The process's memory when the snapshot was taken (optional: snapshots
 * of older writers have none). */
static void put_memory(struct lt_json_writer *w, const struct lt_snapshot *snap)
{
	if (!snap->has_memory)
		return;
	lt_jw_key(w, "memory");
	lt_jw_object_inline(w);
	put_kib(w, "vss_kib", snap->memory.vss_kib);
	put_kib(w, "rss_kib", snap->memory.rss_kib);
	put_kib(w, "pss_kib", snap->memory.pss_kib);
	put_kib(w, "uss_kib", snap->memory.uss_kib);
	put_kib(w, "swap_kib", snap->memory.swap_kib);
	lt_jw_end(w);
}

static void put_kinds(struct lt_json_writer *w, const char *key, unsigned mask)
{
	static const char *const names[] = { "definite", "indirect", "possible", "reachable" };
	lt_jw_key(w, key);
	lt_jw_array_inline(w);
	for (unsigned k = 0; k < 4; k++)
		if (mask & (1u << k))
			lt_jw_string(w, names[k]);
	lt_jw_end(w);
}

static void put_time(struct lt_json_writer *w, uint64_t ns)
{
	char when[64];
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	if (!ns || !gmtime_r(&sec, &tm)) {
		lt_jw_null(w);
		return;
	}
	size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%03uZ", (unsigned)(ns / 1000000u % 1000u));
	lt_jw_string(w, when);
}

static void put_process(struct lt_json_writer *w, const struct lt_snapshot *snap)
{
	lt_jw_key(w, "process");
	lt_jw_object(w);
	lt_jw_ku64(w, "pid", snap->process.pid);
	lt_jw_ku64(w, "ppid", snap->process.ppid);
	lt_jw_kstring(w, "exe", snap->exe);
	lt_jw_key(w, "argv");
	lt_jw_array_inline(w);
	for (size_t i = 0; i < snap->argc; i++)
		lt_jw_string(w, snap->argv[i]);
	lt_jw_end(w);
	lt_jw_kstring(w, "reason", reason_name(snap->process.reason));
	lt_jw_ku64(w, "sequence", snap->process.sequence);
	lt_jw_key(w, "time");
	put_time(w, snap->process.time_ns);
	lt_jw_end(w);
}

static void put_options(struct lt_json_writer *w, const struct lt_options *o,
			const struct lt_records *rs)
{
	static const char *const checks[] = { "no", "summary", "full" };
	lt_jw_key(w, "options");
	lt_jw_object(w);
	lt_jw_kstring(w, "leak_check", o->leak_check < 3 ? checks[o->leak_check] : "full");
	put_kinds(w, "show_leak_kinds", o->show_leak_kinds);
	put_kinds(w, "errors_for_leak_kinds", o->errors_for_leak_kinds);
	lt_jw_ku64(w, "num_callers", o->num_callers);
	lt_jw_kstring(w, "baseline", rs->baseline);
	lt_jw_end(w);
}

static void put_scan(struct lt_json_writer *w, const struct lt_snap_totals *t)
{
	char note[200];
	lt_jw_key(w, "scan");
	lt_jw_object(w);
	lt_jw_kbool(w, "classified", t->scan_flags & LT_SCAN_CLASSIFIED);
	lt_jw_kbool(w, "complete", !(t->scan_flags & LT_SCAN_INCOMPLETE));
	lt_jw_ku64(w, "unstopped_threads", t->unstopped_threads);
	lt_jw_ku64(w, "untracked_blocks", t->dropped);
	lt_jw_key(w, "notes");
	lt_jw_array(w);
	if (!(t->scan_flags & LT_SCAN_CLASSIFIED))
		lt_jw_string(w, "no reachability scan was made: blocks are not classified");
	if (t->scan_flags & LT_SCAN_INCOMPLETE)
		lt_jw_string(w, "not every thread could be listed: some roots may have been missed");
	if (t->unstopped_threads) {
		snprintf(note, sizeof(note), "%u threads did not pause for the scan: "
			 "their stacks were scanned whole", t->unstopped_threads);
		lt_jw_string(w, note);
	}
	if (t->dropped) {
		snprintf(note, sizeof(note), "%llu blocks could not be tracked (the live table "
			 "was full): they are missing from this report",
			 (unsigned long long)t->dropped);
		lt_jw_string(w, note);
	}
	lt_jw_end(w);
	lt_jw_end(w);
}

static void put_amount(struct lt_json_writer *w, const char *key, uint64_t bytes, uint64_t blocks)
{
	lt_jw_key(w, key);
	lt_jw_object_inline(w);
	lt_jw_ku64(w, "bytes", bytes);
	lt_jw_ku64(w, "blocks", blocks);
	lt_jw_end(w);
}

/* LEAK SUMMARY, every block counted once, and the error counts. */
static void put_summaries(struct lt_json_writer *w, const struct lt_report *r)
{
	static const unsigned kinds[] = {
		LT_KIND_DEFINITE, LT_KIND_INDIRECT, LT_KIND_POSSIBLE, LT_KIND_REACHABLE,
		LT_KIND_UNCLASSIFIED,
	};
	const struct lt_records *rs = r->records;
	uint64_t errors = 0, baselined = 0, sup_errors = 0;

	for (size_t i = 0; i < rs->count; i++) {
		const struct lt_loss_record *rec = &rs->recs[i];
		bool kind_counts = r->opts->leak_check == LT_LEAK_CHECK_FULL &&
				   (r->opts->errors_for_leak_kinds & lt_kind_bit(rec->kind));
		if (suppressed(rec))
			sup_errors += kind_counts;
		else if (lt_report_counts(r->opts, rec)) {
			errors++;
		} else {
			baselined += kind_counts && rec->baselined;
		}
	}
	for (size_t i = 0; i < rs->nmaps; i++) {
		const struct lt_map_record *m = &rs->maps[i];
		bool kind_counts = r->opts->leak_check == LT_LEAK_CHECK_FULL &&
				   (r->opts->errors_for_leak_kinds & lt_kind_bit(m->kind));
		errors += lt_report_map_counts(r->opts, m);
		sup_errors += kind_counts && m->suppressed;
		baselined += kind_counts && !m->suppressed && m->baselined;
	}
	lt_jw_key(w, "leaks");
	lt_jw_object(w);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		put_amount(w, lt_kind_id(kinds[i]), rs->kind_bytes[kinds[i]], rs->kind_blocks[kinds[i]]);
	put_amount(w, "suppressed", rs->suppressed_bytes, rs->suppressed_blocks);
	lt_jw_end(w);

	lt_jw_key(w, "errors");
	lt_jw_object_inline(w);
	lt_jw_ku64(w, "count", errors);
	lt_jw_ku64(w, "baselined", baselined);
	lt_jw_ku64(w, "suppressed", sup_errors);
	lt_jw_end(w);
}

static void json_begin(struct lt_report *r)
{
	struct json_state *st = calloc(1, sizeof(*st));
	const struct lt_snapshot *snap = r->snap;
	const struct lt_records *rs = r->records;
	r->priv = st;
	if (!st) {
		r->out->failed = true;
		return;
	}
	struct lt_json_writer *w = &st->w;
	lt_jw_init(w, r->out);
	lt_jw_object(w);
	lt_jw_kstring(w, "format", "leaktrace-report");
	lt_jw_ku64(w, "format_version", LT_JSON_FORMAT_VERSION);
	lt_jw_ku64(w, "fingerprint_version", LT_FINGERPRINT_VERSION);
	lt_jw_key(w, "tool");
	lt_jw_object_inline(w);
	lt_jw_kstring(w, "name", "leaktrace");
	lt_jw_kstring(w, "version", LT_VERSION);
	lt_jw_end(w);
	put_process(w, snap);
	put_options(w, r->opts, rs);

	lt_jw_key(w, "heap");
	lt_jw_object(w);
	lt_jw_ku64(w, "in_use_bytes", rs->bytes);
	lt_jw_ku64(w, "in_use_blocks", rs->blocks);
	lt_jw_ku64(w, "allocs", snap->totals.allocs);
	lt_jw_ku64(w, "frees", snap->totals.frees);
	lt_jw_ku64(w, "bytes_allocated", snap->totals.bytes_allocated);
	lt_jw_end(w);
	put_memory(w, snap);
	put_scan(w, &snap->totals);
	put_summaries(w, r);
	/* The report the records' "previous" figures come from. */
	if (rs->has_previous)
		lt_jw_ku64(w, "previous_sequence", rs->previous.sequence);
	lt_jw_key(w, "records");
	lt_jw_array(w);
}

static void put_frame(struct lt_json_writer *w, const struct lt_shown_frame *s)
{
	lt_jw_object_inline(w);
	lt_jw_key(w, "ip");
	lt_jw_hex(w, s->ip);
	lt_jw_kstring(w, "function", s->f.fn);
	lt_jw_kstring(w, "file", s->f.file);
	lt_jw_key(w, "line");
	if (s->f.file && s->f.line)
		lt_jw_u64(w, s->f.line);
	else
		lt_jw_null(w);
	lt_jw_kstring(w, "directory", s->f.file ? s->f.dir : NULL);
	lt_jw_kstring(w, "object", s->f.obj);
	/* The module-relative address: what a stripped frame still says. */
	lt_jw_key(w, "offset");
	if (s->f.obj)
		lt_jw_hex(w, s->ip - s->f.obj_bias);
	else
		lt_jw_null(w);
	lt_jw_kbool(w, "inlined", s->f.inlined);
	lt_jw_kbool(w, "external", s->external);
	lt_jw_end(w);
}

/* A record's bytes: in all, then split into direct and indirect. */
static void put_bytes(struct lt_json_writer *w, uint64_t direct, uint64_t indirect)
{
	lt_jw_ku64(w, "bytes", direct + indirect);
	lt_jw_ku64(w, "direct_bytes", direct);
	lt_jw_ku64(w, "indirect_bytes", indirect);
}

/* What every record ends with: the keys that identify it across reports
 * (fingerprints, allocation site) and its stack. */
static void put_identity_and_stack(struct lt_json_writer *w, const struct lt_record_view *v)
{
	lt_jw_kstring(w, "fingerprint", v->fingerprint);
	lt_jw_kstring(w, "fuzzy_fingerprint", v->fuzzy_fingerprint);
	lt_jw_key(w, "site");
	if (v->site == LT_NO_SITE)
		lt_jw_null(w);
	else
		lt_jw_u64(w, v->site);
	lt_jw_key(w, "stack");
	lt_jw_array(w);
	for (size_t i = 0; i < v->count; i++)
		put_frame(w, &v->frames[i]);
	lt_jw_end(w);
}

static void json_leak(struct lt_report *r, const struct lt_loss_record *rec, size_t number)
{
	struct json_state *st = r->priv;
	char sentence[256];
	if (!st)
		return;
	struct lt_json_writer *w = &st->w;
	struct lt_record_view *v = &st->view;
	if (lt_record_view_get(v, r->snap, r->src, r->opts->num_callers, rec) != 0) {
		r->out->failed = true;
		return;
	}
	lt_record_sentence(rec, number, r->records->count,
			   r->snap->process.reason == LT_REASON_EXIT, sentence, sizeof(sentence));
	lt_jw_object(w);
	lt_jw_ku64(w, "index", number);
	lt_jw_kstring(w, "kind", lt_kind_id(rec->kind));
	put_bytes(w, rec->bytes, rec->indirect_bytes);
	lt_jw_ku64(w, "blocks", rec->blocks);
	lt_jw_ku64(w, "indirect_blocks", rec->indirect_blocks);
	lt_jw_kbool(w, "shown", lt_report_shows(r->opts, rec));
	lt_jw_kbool(w, "error", lt_report_counts(r->opts, rec) && !suppressed(rec));
	lt_jw_kbool(w, "suppressed", suppressed(rec));
	lt_jw_kbool(w, "baselined", rec->baselined);
	lt_jw_kstring(w, "message", sentence);
	/* After a process's first report: the record's figures in the
	 * previous one (0 for a new record; a record that went away has 0
	 * blocks now). */
	if (r->records->has_previous) {
		lt_jw_key(w, "previous");
		lt_jw_object(w);
		put_bytes(w, rec->old_bytes, rec->old_indirect_bytes);
		lt_jw_ku64(w, "blocks", rec->old_blocks);
		lt_jw_end(w);
	}
	put_identity_and_stack(w, v);
	lt_jw_end(w);
}

static void json_leak_end(struct lt_report *r, const struct lt_loss_record *rec)
{
}

/* ---- mappings (track_mmap=yes): a member of their own after the loss
 * records, so that consumers of the records see heap blocks only ---- */

static void put_map_amount(struct lt_json_writer *w, const char *key, uint64_t bytes,
			   uint64_t count)
{
	lt_jw_key(w, key);
	lt_jw_object_inline(w);
	lt_jw_ku64(w, "bytes", bytes);
	lt_jw_ku64(w, "mappings", count);
	lt_jw_end(w);
}

/* Closes the loss records and opens "mappings" with its summary. */
static void open_mappings(struct lt_report *r, struct json_state *st)
{
	static const unsigned kinds[] = {
		LT_KIND_DEFINITE, LT_KIND_INDIRECT, LT_KIND_POSSIBLE, LT_KIND_REACHABLE,
		LT_KIND_UNCLASSIFIED,
	};
	const struct lt_records *rs = r->records;
	struct lt_json_writer *w = &st->w;
	lt_jw_end(w);             /* records */
	lt_jw_key(w, "mappings");
	lt_jw_object(w);
	lt_jw_ku64(w, "in_use_bytes", rs->map_bytes);
	lt_jw_ku64(w, "in_use_mappings", rs->map_count);
	lt_jw_ku64(w, "untracked_mappings", rs->maps_dropped);
	lt_jw_key(w, "leaks");
	lt_jw_object(w);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		put_map_amount(w, lt_kind_id(kinds[i]), rs->map_kind_bytes[kinds[i]],
			       rs->map_kind_count[kinds[i]]);
	put_map_amount(w, "suppressed", rs->map_suppressed_bytes, rs->map_suppressed_count);
	lt_jw_end(w);
	lt_jw_key(w, "types");
	lt_jw_object(w);
	for (unsigned t = LT_MAP_PRIVATE_ANON; t < LT_MAP_NTYPES; t++)
		put_map_amount(w, lt_map_type_id(t), rs->map_type_bytes[t], rs->map_type_count[t]);
	lt_jw_end(w);
	lt_jw_key(w, "records");
	lt_jw_array(w);
	st->in_mappings = true;
}

static void json_mapping(struct lt_report *r, const struct lt_map_record *rec, size_t number)
{
	struct json_state *st = r->priv;
	char sentence[LT_OPT_PATH_MAX + 256];
	if (!st)
		return;
	if (!st->in_mappings)
		open_mappings(r, st);
	struct lt_json_writer *w = &st->w;
	struct lt_record_view *v = &st->view;
	if (lt_map_record_view_get(v, r->snap, r->src, r->opts->num_callers, rec) != 0) {
		r->out->failed = true;
		return;
	}
	lt_map_record_sentence(rec, number, r->records->nmaps,
			       r->snap->process.reason == LT_REASON_EXIT, sentence, sizeof(sentence));
	lt_jw_object(w);
	lt_jw_ku64(w, "index", number);
	lt_jw_kstring(w, "kind", lt_kind_id(rec->kind));
	lt_jw_kstring(w, "type", lt_map_type_id(rec->type));
	lt_jw_kstring(w, "path", rec->path[0] ? rec->path : NULL);
	put_bytes(w, rec->bytes, rec->indirect_bytes);
	lt_jw_ku64(w, "mappings", rec->count);
	lt_jw_ku64(w, "indirect_mappings", rec->indirect_count);
	lt_jw_kbool(w, "shown", lt_report_map_shows(r->opts, rec));
	lt_jw_kbool(w, "error", lt_report_map_counts(r->opts, rec));
	lt_jw_kbool(w, "suppressed", rec->suppressed);
	lt_jw_kbool(w, "baselined", rec->baselined);
	lt_jw_kstring(w, "message", sentence);
	put_identity_and_stack(w, v);
	lt_jw_end(w);
}

static void json_end(struct lt_report *r)
{
	struct json_state *st = r->priv;
	if (!st)
		return;
	if (r->records->has_mappings && !st->in_mappings)
		open_mappings(r, st);
	if (st->in_mappings)
		lt_jw_end(&st->w);    /* mappings' records */
	lt_jw_end(&st->w);        /* records, or mappings */
	lt_jw_end(&st->w);        /* the report */
	if (lt_jw_finish(&st->w) != 0)
		r->out->failed = true;
	lt_record_view_free(&st->view);
	free(st);
	r->priv = NULL;
}

const struct lt_report_ops lt_report_json_ops = {
	.name = "json",
	.all_records = true,
	.begin = json_begin,
	.leak = json_leak,
	.leak_end = json_leak_end,
	.end = json_end,
	.mapping = json_mapping,
};
