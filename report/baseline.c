/* Baselines: reading the fingerprints of an earlier run, marking the
 * records they know, and writing a baseline file (baseline.h).
 * Context: offline side only. The input is untrusted: the JSON reader is
 * bounded (size, depth, values) and every field is checked before use. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "fingerprint.h"
#include "json.h"

static bool is_fingerprint(const struct lt_json_node *n)
{
	if (!n || n->type != LT_JSON_STRING || n->len != LT_FINGERPRINT_HEX)
		return false;
	for (size_t i = 0; i < n->len; i++)
		if (!strchr("0123456789abcdef", n->str[i]) || !n->str[i])
			return false;
	return true;
}

static int cmp_entries(const void *pa, const void *pb)
{
	const struct lt_baseline_entry *a = pa, *b = pb;
	return strcmp(a->fingerprint, b->fingerprint);
}

/* The fingerprints of an array of records, appended; what names them in
 * messages ("record", "mapping record"). Mapping records of reports made
 * before they had fingerprints have none: optional says to pass over a
 * record without the member (one with a bad value is still an error). */
static int take_records(const struct lt_json_doc *doc, const struct lt_json_node *records,
			const char *which, const char *what, bool optional,
			struct lt_baseline *b, size_t *cap, char *err, size_t errlen)
{
	size_t i = 0;
	for (const struct lt_json_node *rec = lt_json_first(doc, records); rec;
	     rec = lt_json_next(doc, rec), i++) {
		const struct lt_json_node *fp = lt_json_get(doc, rec, "fingerprint");
		const struct lt_json_node *fuzzy = lt_json_get(doc, rec, "fuzzy_fingerprint");
		if (optional && !fp && !fuzzy)
			continue;
		if (!is_fingerprint(fp) || (fuzzy && fuzzy->type != LT_JSON_NULL &&
					    !is_fingerprint(fuzzy))) {
			snprintf(err, errlen, "%s%s %zu: \"fingerprint\" and \"fuzzy_fingerprint\" "
				 "must be %d lower-case hex digits", which, what, i + 1,
				 LT_FINGERPRINT_HEX);
			return -1;
		}
		if (b->count == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			struct lt_baseline_entry *e = realloc(b->entries, ncap * sizeof(*e));
			if (!e) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			b->entries = e;
			*cap = ncap;
		}
		struct lt_baseline_entry *e = &b->entries[b->count++];
		memset(e, 0, sizeof(*e));
		memcpy(e->fingerprint, fp->str, LT_FINGERPRINT_HEX);
		if (is_fingerprint(fuzzy))
			memcpy(e->fuzzy, fuzzy->str, LT_FINGERPRINT_HEX);
	}
	return 0;
}

/* One report or baseline object: its records' fingerprints, appended. */
static int take_document(const struct lt_json_doc *doc, const struct lt_json_node *top,
			 size_t number, struct lt_baseline *b, size_t *cap,
			 char *err, size_t errlen)
{
	const char *format = lt_json_get_string(doc, top, "format");
	const struct lt_json_node *version = lt_json_get(doc, top, "fingerprint_version");
	const struct lt_json_node *records = lt_json_get(doc, top, "records");
	uint64_t v;
	char which[48] = "";

	if (number > 1)
		snprintf(which, sizeof(which), "document %zu: ", number);
	if (!top || top->type != LT_JSON_OBJECT || !format ||
	    (strcmp(format, "leaktrace-report") != 0 && strcmp(format, "leaktrace-baseline") != 0)) {
		snprintf(err, errlen, "%snot a leaktrace JSON report or baseline "
			 "(no \"format\": \"leaktrace-report\" or \"leaktrace-baseline\")", which);
		return -1;
	}
	if (!lt_json_u64(version, &v)) {
		snprintf(err, errlen, "%sno \"fingerprint_version\"", which);
		return -1;
	}
	if (v != LT_FINGERPRINT_VERSION) {
		snprintf(err, errlen, "%sfingerprints of version %llu, this leaktrace computes "
			 "version %d: make the baseline again with this version", which,
			 (unsigned long long)v, LT_FINGERPRINT_VERSION);
		return -1;
	}
	if (!records || records->type != LT_JSON_ARRAY) {
		snprintf(err, errlen, "%sno \"records\" array", which);
		return -1;
	}
	if (take_records(doc, records, which, "record", false, b, cap, err, errlen))
		return -1;
	/* A report's mapping records are known leaks too (a baseline file
	 * has them in "records"). */
	const struct lt_json_node *maps = lt_json_get(doc, top, "mappings");
	const struct lt_json_node *map_records = maps && maps->type == LT_JSON_OBJECT
						 ? lt_json_get(doc, maps, "records") : NULL;
	if (maps && (!map_records || map_records->type != LT_JSON_ARRAY)) {
		snprintf(err, errlen, "%s\"mappings\" without a \"records\" array", which);
		return -1;
	}
	return map_records ? take_records(doc, map_records, which, "mapping record", true, b,
					  cap, err, errlen) : 0;
}

int lt_baseline_parse(const char *text, size_t len, struct lt_baseline *b,
		      char *err, size_t errlen)
{
	struct lt_json_doc doc;
	size_t cap = 0, number = 0;
	int rc = 0;

	memset(b, 0, sizeof(*b));
	if (lt_json_parse(text, len, &lt_json_default_limits, true, &doc, err, errlen))
		return -1;
	for (const struct lt_json_node *top = lt_json_at(&doc, doc.first); top && !rc;
	     top = lt_json_next(&doc, top))
		rc = take_document(&doc, top, ++number, b, &cap, err, errlen);
	lt_json_free(&doc);
	if (rc) {
		lt_baseline_free(b);
		return -1;
	}
	if (b->count)
		qsort(b->entries, b->count, sizeof(*b->entries), cmp_entries);
	return 0;
}

int lt_baseline_load(const char *path, struct lt_baseline *b, char *err, size_t errlen)
{
	size_t max = lt_json_default_limits.max_bytes, len = 0, cap = 1 << 16;
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	int rc = -1;

	memset(b, 0, sizeof(*b));
	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	/* Grown as it is read, up to one byte more than allowed, which
	 * tells a file that is too large. */
	for (;;) {
		if (len == cap || !buf) {
			cap = buf ? cap * 2 : cap;
			if (cap > max + 1)
				cap = max + 1;
			char *nb = realloc(buf, cap);
			if (!nb) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (!n || len > max)
			break;
	}
	if (ferror(f))
		snprintf(err, errlen, "%s", strerror(errno ? errno : EIO));
	else if (len > max)
		snprintf(err, errlen, "larger than %zu bytes", max);
	else
		rc = lt_baseline_parse(buf, len, b, err, errlen);
out:
	free(buf);
	fclose(f);
	return rc;
}

void lt_baseline_free(struct lt_baseline *b)
{
	free(b->entries);
	memset(b, 0, sizeof(*b));
}

static int cmp_fuzzy(const void *pa, const void *pb)
{
	const struct lt_baseline_entry *const *a = pa, *const *b = pb;
	int c = strcmp((*a)->fuzzy, (*b)->fuzzy);
	/* Ties by position: the same baseline always matches the same way. */
	return c ? c : (*a > *b) - (*a < *b);
}

static struct lt_baseline_entry *find(struct lt_baseline *b, const char *fingerprint)
{
	struct lt_baseline_entry key;
	memcpy(key.fingerprint, fingerprint, sizeof(key.fingerprint));
	struct lt_baseline_entry *e = bsearch(&key, b->entries, b->count, sizeof(*e), cmp_entries);
	/* The first of equal entries. */
	while (e && e > b->entries && strcmp(e[-1].fingerprint, fingerprint) == 0)
		e--;
	return e;
}

/* A record to match, loss or mapping record: its fingerprints and where
 * to say it is known. */
struct item {
	char fingerprint[LT_FINGERPRINT_HEX + 1];
	char fuzzy[LT_FINGERPRINT_HEX + 1];
	bool *baselined;
};

/* The fingerprints of every loss record, then of every mapping record;
 * NULL when out of memory. */
static struct item *fingerprint_all(const struct lt_snapshot *snap,
				    const struct lt_frame_source *src, unsigned num_callers,
				    struct lt_records *rs)
{
	size_t n = rs->count + rs->nmaps;
	struct item *items = calloc(n ? n : 1, sizeof(*items));
	struct lt_record_view v = { 0 };
	if (!items)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool loss = i < rs->count;
		int rc = loss ? lt_record_view_get(&v, snap, src, num_callers, &rs->recs[i])
			      : lt_map_record_view_get(&v, snap, src, num_callers,
						       &rs->maps[i - rs->count]);
		if (rc != 0) {
			free(items);
			items = NULL;
			break;
		}
		memcpy(items[i].fingerprint, v.fingerprint, sizeof(v.fingerprint));
		memcpy(items[i].fuzzy, v.fuzzy_fingerprint, sizeof(v.fuzzy_fingerprint));
		items[i].baselined = loss ? &rs->recs[i].baselined
					  : &rs->maps[i - rs->count].baselined;
	}
	lt_record_view_free(&v);
	return items;
}

long lt_baseline_apply(struct lt_baseline *b, const struct lt_snapshot *snap,
		       const struct lt_frame_source *src, unsigned num_callers,
		       struct lt_records *rs)
{
	size_t n = rs->count + rs->nmaps;
	struct item *items = fingerprint_all(snap, src, num_callers, rs);
	struct lt_baseline_entry **by_fuzzy = NULL;
	long marked = 0;

	if (!items)
		return -1;
	for (size_t i = 0; i < b->count; i++)
		b->entries[i].used = false;
	/* Exact matches: every entry with the fingerprint is taken. (A mapping
	 * record's fingerprint text differs from any loss record's, so each
	 * matches entries of its own sort only.) */
	for (size_t i = 0; i < n; i++) {
		struct lt_baseline_entry *e = find(b, items[i].fingerprint);
		*items[i].baselined = e != NULL;
		for (; e && e < b->entries + b->count &&
		       strcmp(e->fingerprint, items[i].fingerprint) == 0; e++)
			e->used = true;
		marked += *items[i].baselined;
	}
	/* Moved lines: one entry left over per record, by fuzzy fingerprint. */
	by_fuzzy = malloc((b->count ? b->count : 1) * sizeof(*by_fuzzy));
	if (!by_fuzzy) {
		marked = -1;
		goto out;
	}
	for (size_t k = 0; k < b->count; k++)
		by_fuzzy[k] = &b->entries[k];
	if (b->count)
		qsort(by_fuzzy, b->count, sizeof(*by_fuzzy), cmp_fuzzy);
	for (size_t i = 0; i < n; i++) {
		if (*items[i].baselined)
			continue;
		size_t lo = 0, hi = b->count;
		while (lo < hi) {         /* the first entry not below the fuzzy one */
			size_t mid = lo + (hi - lo) / 2;
			if (strcmp(by_fuzzy[mid]->fuzzy, items[i].fuzzy) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < b->count && strcmp(by_fuzzy[lo]->fuzzy, items[i].fuzzy) == 0; lo++) {
			if (!by_fuzzy[lo]->used) {
				by_fuzzy[lo]->used = true;
				*items[i].baselined = true;
				marked++;
				break;
			}
		}
	}
out:
	free(items);
	free(by_fuzzy);
	return marked;
}

struct entry_out {
	char fingerprint[LT_FINGERPRINT_HEX + 1];
	char fuzzy[LT_FINGERPRINT_HEX + 1];
	const char *kind;
	const char *type;         /* a mapping record's type; NULL for a loss record */
	char site[512];
};

static int cmp_out(const void *pa, const void *pb)
{
	const struct entry_out *a = pa, *b = pb;
	return strcmp(a->fingerprint, b->fingerprint);
}

/* "fn (file:line)" of the allocation site, else of the innermost named
 * caller: for the people who review a baseline, not for matching. */
static void site_words(const struct lt_record_view *v, char *buf, size_t len)
{
	size_t at = v->site;
	for (size_t i = 0; at == LT_NO_SITE && i < v->count; i++)
		if (v->frames[i].index > 0 && v->frames[i].f.fn)
			at = i;
	if (at == LT_NO_SITE) {
		snprintf(buf, len, "???");
		return;
	}
	const struct lt_frame *f = &v->frames[at].f;
	if (f->file)
		snprintf(buf, len, "%s (%s:%u)", f->fn ? f->fn : "???", f->file, f->line);
	else
		snprintf(buf, len, "%s", f->fn ? f->fn : "???");
}

/* One baseline entry from a record's view; `type` only for a mapping record. */
static void fill_entry(struct entry_out *e, const struct lt_record_view *v, unsigned kind,
		       const char *type)
{
	memcpy(e->fingerprint, v->fingerprint, sizeof(v->fingerprint));
	memcpy(e->fuzzy, v->fuzzy_fingerprint, sizeof(v->fuzzy_fingerprint));
	e->kind = lt_kind_id(kind);
	e->type = type;
	site_words(v, e->site, sizeof(e->site));
}

int lt_baseline_write(FILE *out, const struct lt_snapshot *snap,
		      const struct lt_frame_source *src, const struct lt_options *opts,
		      const struct lt_records *rs)
{
	size_t total = rs->count + rs->nmaps;
	struct entry_out *entries = calloc(total ? total : 1, sizeof(*entries));
	struct lt_outbuf *ob = malloc(sizeof(*ob));
	struct lt_record_view v = { 0 };
	struct lt_json_writer w;
	size_t n = 0;
	int rc = -1;

	if (!entries || !ob)
		goto out;
	for (size_t i = 0; i < rs->count; i++) {
		const struct lt_loss_record *rec = &rs->recs[i];
		/* A suppressed record is no leak anyone needs to know about. */
		if (!(opts->errors_for_leak_kinds & lt_kind_bit(rec->kind)) || rec->suppressed)
			continue;
		if (lt_record_view_get(&v, snap, src, opts->num_callers, rec) != 0)
			goto out;
		fill_entry(&entries[n++], &v, rec->kind, NULL);
	}
	/* Mapping records of an error kind, as loss records; suppressed ones
	 * are no leak anyone needs to know about. */
	for (size_t i = 0; i < rs->nmaps; i++) {
		const struct lt_map_record *m = &rs->maps[i];
		if (!(opts->errors_for_leak_kinds & lt_kind_bit(m->kind)) || m->suppressed)
			continue;
		if (lt_map_record_view_get(&v, snap, src, opts->num_callers, m) != 0)
			goto out;
		fill_entry(&entries[n++], &v, m->kind, lt_map_type_id(m->type));
	}
	if (n)
		qsort(entries, n, sizeof(*entries), cmp_out);

	const char *slash = strrchr(snap->exe, '/');
	lt_ob_init(ob, out);
	lt_jw_init(&w, ob);
	lt_jw_object(&w);
	lt_jw_kstring(&w, "format", "leaktrace-baseline");
	lt_jw_ku64(&w, "format_version", 1);
	lt_jw_ku64(&w, "fingerprint_version", LT_FINGERPRINT_VERSION);
	lt_jw_key(&w, "tool");
	lt_jw_object_inline(&w);
	lt_jw_kstring(&w, "name", "leaktrace");
	lt_jw_kstring(&w, "version", LT_VERSION);
	lt_jw_end(&w);
	lt_jw_kstring(&w, "program", slash ? slash + 1 : snap->exe);
	lt_jw_key(&w, "records");
	lt_jw_array(&w);
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(entries[i].fingerprint, entries[i - 1].fingerprint) == 0)
			continue;
		lt_jw_object_inline(&w);
		lt_jw_kstring(&w, "fingerprint", entries[i].fingerprint);
		lt_jw_kstring(&w, "fuzzy_fingerprint", entries[i].fuzzy);
		lt_jw_kstring(&w, "kind", entries[i].kind);
		if (entries[i].type)
			lt_jw_kstring(&w, "mapping", entries[i].type);
		lt_jw_kstring(&w, "site", entries[i].site);
		lt_jw_end(&w);
	}
	lt_jw_end(&w);
	lt_jw_end(&w);
	rc = lt_jw_finish(&w);
	if (lt_ob_flush(ob) || fflush(out) || ferror(out))
		rc = -1;
out:
	lt_record_view_free(&v);
	free(entries);
	free(ob);
	return rc;
}
