/* The SARIF 2.1.0 report (OASIS Static Analysis Results Interchange
 * Format), for code-scanning annotations: one rule per leak kind, one
 * result per loss record the text report shows, located at the allocation
 * site (the first frame of the program's own code with a source file),
 * with the whole stack as a code flow and as a SARIF stack. Mapping
 * records the text shows are results too, under one rule per mapping
 * type, listed only when the report has mapping records (so that a heap
 * report's rules are what they were).
 * Context: offline side only. URIs are relative to sarif_root (uriBaseId
 * SRCROOT) when the file is under it, absolute file: URIs otherwise. */
#define _GNU_SOURCE
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fingerprint.h"
#include "json.h"

#define SARIF_SCHEMA \
	"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

struct sarif_state {
	struct lt_json_writer w;
	struct lt_record_view view;
	char root[PATH_MAX];      /* sarif_root, absolute and normalized; "" if none */
	size_t root_len;
};

struct rule {
	unsigned kind;
	const char *name, *level, *short_text, *full_text;
};

/* In ruleIndex order. */
static const struct rule rules[] = {
	{ LT_KIND_DEFINITE, "DefinitelyLost", "error", "Memory definitely lost",
	  "A heap block that no pointer reaches any more, and that heads its lost "
	  "structure: the program can never free it." },
	{ LT_KIND_INDIRECT, "IndirectlyLost", "note", "Memory indirectly lost",
	  "A heap block reached only from lost blocks: it is freed once the block that "
	  "heads its structure is." },
	{ LT_KIND_POSSIBLE, "PossiblyLost", "warning", "Memory possibly lost",
	  "A heap block reached only through pointers into its middle: a leak, unless "
	  "the program keeps such interior pointers on purpose." },
	{ LT_KIND_REACHABLE, "StillReachable", "note", "Memory still reachable",
	  "A heap block not freed at exit but still pointed to: not a leak, memory the "
	  "program could have freed." },
	{ LT_KIND_UNCLASSIFIED, "NotClassified", "note", "Memory still allocated",
	  "A heap block still allocated when the report was made, for which no "
	  "reachability scan was made." },
};

struct map_rule {
	unsigned type;
	const char *name, *short_text, *full_text;
};

/* After rules[] in ruleIndex order, when listed. Their results take the
 * level of their kind, as heap results do. */
static const struct map_rule map_rules[] = {
	{ LT_MAP_PRIVATE_ANON, "MmapPrivateAnon", "Private anonymous mapping not unmapped",
	  "Memory the program mapped itself (mmap, MAP_PRIVATE | MAP_ANONYMOUS) and did "
	  "not unmap, classified as heap blocks are: lost when no pointer reaches it." },
	{ LT_MAP_SHARED_ANON, "MmapSharedAnon", "Shared anonymous mapping not unmapped",
	  "Memory the program mapped itself (mmap, MAP_SHARED | MAP_ANONYMOUS) and did "
	  "not unmap, classified as heap blocks are: lost when no pointer reaches it." },
	{ LT_MAP_PRIVATE_FILE, "MmapPrivateFile", "Private file mapping not unmapped",
	  "A file the program mapped (mmap, MAP_PRIVATE) and did not unmap, classified "
	  "as heap blocks are: lost when no pointer reaches it." },
	{ LT_MAP_SHARED_FILE, "MmapSharedFile", "Shared file mapping not unmapped",
	  "A file the program mapped (mmap, MAP_SHARED) and did not unmap, classified "
	  "as heap blocks are: lost when no pointer reaches it." },
};

#define NRULES (sizeof(rules) / sizeof(rules[0]))
#define NMAP_RULES (sizeof(map_rules) / sizeof(map_rules[0]))

static size_t map_rule_index(unsigned type)
{
	for (size_t i = 0; i < NMAP_RULES; i++)
		if (map_rules[i].type == type)
			return NRULES + i;
	return NRULES;
}

static size_t rule_index(unsigned kind)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].kind == kind)
			return i;
	return sizeof(rules) / sizeof(rules[0]) - 1;
}

static void put_text(struct lt_json_writer *w, const char *key, const char *text)
{
	lt_jw_key(w, key);
	lt_jw_object_inline(w);
	lt_jw_kstring(w, "text", text);
	lt_jw_end(w);
}

/* RFC 3986: everything but unreserved characters and '/' percent-encoded. */
static void put_uri(struct lt_json_writer *w, const char *prefix, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(prefix), cap = n + 3 * strlen(path) + 1;
	char *uri = malloc(cap), *o;
	if (!uri) {
		w->failed = true;
		return;
	}
	memcpy(uri, prefix, n);
	o = uri + n;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	lt_jw_string(w, uri);
	free(uri);
}

static void put_artifact(struct sarif_state *st, const char *path)
{
	struct lt_json_writer *w = &st->w;
	lt_jw_key(w, "artifactLocation");
	lt_jw_object_inline(w);
	lt_jw_key(w, "uri");
	if (st->root_len && strncmp(path, st->root, st->root_len) == 0 &&
	    path[st->root_len] == '/') {
		put_uri(w, "", path + st->root_len + 1);
		lt_jw_kstring(w, "uriBaseId", "SRCROOT");
	} else {
		put_uri(w, "file://", path);
	}
	lt_jw_end(w);
}

/* The frame's source file: as the file system resolves it when it is
 * there (symbolic links in the build directory), lexically otherwise. */
static char *source_path(const struct lt_frame *f, char *buf, size_t len)
{
	char raw[PATH_MAX];
	int n;
	if (!f->file)
		return NULL;
	if (f->file[0] != '/' && f->dir) {
		n = snprintf(raw, sizeof(raw), "%s/%s", f->dir, f->file);
		if (n > 0 && (size_t)n < sizeof(raw) && len >= PATH_MAX && realpath(raw, buf))
			return buf;
	} else if (len >= PATH_MAX && realpath(f->file, buf)) {
		return buf;
	}
	return lt_source_path(f, buf, len);
}

/* "fn (file:line)", "fn (in /obj)", "???": the frame as the text report
 * says it. */
static void frame_words(const struct lt_frame *f, char *buf, size_t len)
{
	const char *fn = f->fn ? f->fn : "???";
	if (f->file)
		snprintf(buf, len, "%s (%s:%u)", fn, f->file, f->line);
	else if (f->obj)
		snprintf(buf, len, "%s (in %s)", fn, f->obj);
	else
		snprintf(buf, len, "%s", fn);
}

/* A SARIF location for a frame: physical when its source file is known,
 * logical (the function) always when named. */
static void put_location(struct sarif_state *st, const struct lt_shown_frame *s,
			 bool physical, bool with_message)
{
	struct lt_json_writer *w = &st->w;
	char path[PATH_MAX], words[1024];
	lt_jw_object(w);
	/* A relative directory (glibc's "./nptl") says nowhere a viewer
	 * could open: logical location only. */
	if (physical && source_path(&s->f, path, sizeof(path)) && path[0] == '/') {
		lt_jw_key(w, "physicalLocation");
		lt_jw_object(w);
		put_artifact(st, path);
		if (s->f.line) {
			lt_jw_key(w, "region");
			lt_jw_object_inline(w);
			lt_jw_ku64(w, "startLine", s->f.line);
			lt_jw_end(w);
		}
		lt_jw_end(w);
	}
	if (s->f.fn) {
		lt_jw_key(w, "logicalLocations");
		lt_jw_array(w);
		lt_jw_object_inline(w);
		lt_jw_kstring(w, "fullyQualifiedName", s->f.fn);
		lt_jw_kstring(w, "kind", "function");
		lt_jw_end(w);
		lt_jw_end(w);
	}
	if (with_message) {
		frame_words(&s->f, words, sizeof(words));
		put_text(w, "message", words);
	}
	lt_jw_end(w);
}

static void put_rule(struct lt_json_writer *w, const char *id, const char *name,
		     const char *short_text, const char *full_text, const char *level)
{
	lt_jw_object(w);
	lt_jw_kstring(w, "id", id);
	lt_jw_kstring(w, "name", name);
	put_text(w, "shortDescription", short_text);
	put_text(w, "fullDescription", full_text);
	lt_jw_key(w, "defaultConfiguration");
	lt_jw_object_inline(w);
	lt_jw_kstring(w, "level", level);
	lt_jw_end(w);
	lt_jw_end(w);
}

/* "leaktrace/mapping-private-anonymous", ... */
static void map_rule_id(unsigned type, char *buf, size_t len)
{
	snprintf(buf, len, "leaktrace/mapping-%s", lt_map_type_id(type));
}

static void put_rules(struct lt_json_writer *w, bool mappings)
{
	char id[64];
	lt_jw_key(w, "rules");
	lt_jw_array(w);
	for (size_t i = 0; i < NRULES; i++) {
		snprintf(id, sizeof(id), "leaktrace/%s", lt_kind_id(rules[i].kind));
		put_rule(w, id, rules[i].name, rules[i].short_text, rules[i].full_text,
			 rules[i].level);
	}
	for (size_t i = 0; mappings && i < NMAP_RULES; i++) {
		map_rule_id(map_rules[i].type, id, sizeof(id));
		put_rule(w, id, map_rules[i].name, map_rules[i].short_text,
			 map_rules[i].full_text, "warning");
	}
	lt_jw_end(w);
}

static void put_invocation(struct lt_json_writer *w, const struct lt_snapshot *snap)
{
	char when[64];
	uint64_t ns = snap->process.time_ns;
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;

	lt_jw_key(w, "invocations");
	lt_jw_array(w);
	lt_jw_object(w);
	lt_jw_kbool(w, "executionSuccessful", true);
	lt_jw_kstring(w, "commandLine", snap->cmdline && snap->cmdline[0] ? snap->cmdline : snap->exe);
	lt_jw_key(w, "arguments");
	lt_jw_array_inline(w);
	for (size_t i = 0; i < snap->argc; i++)
		lt_jw_string(w, snap->argv[i]);
	lt_jw_end(w);
	lt_jw_ku64(w, "processId", snap->process.pid);
	if (ns && gmtime_r(&sec, &tm)) {
		size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(when + n, sizeof(when) - n, ".%03uZ", (unsigned)(ns / 1000000u % 1000u));
		lt_jw_kstring(w, "endTimeUtc", when);
	}
	lt_jw_end(w);
	lt_jw_end(w);
}

/* sarif_root as an absolute, normalized directory. */
static void set_root(struct sarif_state *st, const char *root)
{
	char buf[PATH_MAX];
	struct lt_frame f = { .file = root };
	st->root[0] = '\0';
	st->root_len = 0;
	if (!root[0])
		return;
	if (realpath(root, buf))
		f.file = buf;
	else if (root[0] != '/' && getcwd(buf, sizeof(buf)))
		f = (struct lt_frame){ .dir = buf, .file = root };
	if (!lt_source_path(&f, st->root, sizeof(st->root)) || st->root[0] != '/') {
		st->root[0] = '\0';
		return;
	}
	st->root_len = strlen(st->root);
	if (st->root_len == 1)
		st->root_len = 0;     /* "/": every absolute path; keep them file: URIs */
}

static void sarif_begin(struct lt_report *r)
{
	struct sarif_state *st = calloc(1, sizeof(*st));
	r->priv = st;
	if (!st) {
		r->out->failed = true;
		return;
	}
	struct lt_json_writer *w = &st->w;
	set_root(st, r->opts->sarif_root);
	lt_jw_init(w, r->out);
	lt_jw_object(w);
	lt_jw_kstring(w, "$schema", SARIF_SCHEMA);
	lt_jw_kstring(w, "version", "2.1.0");
	lt_jw_key(w, "runs");
	lt_jw_array(w);
	lt_jw_object(w);
	lt_jw_key(w, "tool");
	lt_jw_object(w);
	lt_jw_key(w, "driver");
	lt_jw_object(w);
	lt_jw_kstring(w, "name", "leaktrace");
	lt_jw_kstring(w, "version", LT_VERSION);
	lt_jw_kstring(w, "semanticVersion", LT_VERSION);
	put_rules(w, r->records->nmaps > 0);
	lt_jw_end(w);
	lt_jw_end(w);
	if (st->root_len) {
		lt_jw_key(w, "originalUriBaseIds");
		lt_jw_object(w);
		lt_jw_key(w, "SRCROOT");
		lt_jw_object_inline(w);
		lt_jw_key(w, "uri");
		char dir[PATH_MAX + 1];
		snprintf(dir, sizeof(dir), "%s/", st->root);
		put_uri(w, "file://", dir);
		lt_jw_end(w);
		lt_jw_end(w);
	}
	put_invocation(w, r->snap);
	lt_jw_key(w, "results");
	lt_jw_array(w);
}

/* A result's members up to its properties: rule, level, message, the
 * allocation site, fingerprints, baseline state, and the stack in v as a
 * code flow and as a SARIF stack. */
static void put_result(struct lt_report *r, struct sarif_state *st, const char *id,
		       size_t index, const char *level, const char *sentence, bool baselined)
{
	struct lt_json_writer *w = &st->w;
	struct lt_record_view *v = &st->view;
	lt_jw_object(w);
	lt_jw_kstring(w, "ruleId", id);
	lt_jw_ku64(w, "ruleIndex", index);
	lt_jw_kstring(w, "level", level);
	put_text(w, "message", sentence);

	/* The allocation site; without one, the innermost named caller as a
	 * logical location (its file, if any, is not the program's). */
	size_t at = v->site;
	for (size_t i = 0; at == LT_NO_SITE && i < v->count; i++)
		if (v->frames[i].index > 0 && v->frames[i].f.fn)
			at = i;
	lt_jw_key(w, "locations");
	lt_jw_array(w);
	if (at != LT_NO_SITE)
		put_location(st, &v->frames[at], at == v->site, false);
	lt_jw_end(w);

	lt_jw_key(w, "partialFingerprints");
	lt_jw_object(w);
	lt_jw_kstring(w, "leaktraceStack/v1", v->fingerprint);
	lt_jw_kstring(w, "leaktraceStackNoLines/v1", v->fuzzy_fingerprint);
	lt_jw_end(w);
	if (r->records->baseline)
		lt_jw_kstring(w, "baselineState", baselined ? "unchanged" : "new");

	/* The stack as a code flow: in execution order, main first. Only the
	 * program's own frames point into files: the allocator's and the
	 * system's are not in the program's sources. */
	lt_jw_key(w, "codeFlows");
	lt_jw_array(w);
	lt_jw_object(w);
	lt_jw_key(w, "threadFlows");
	lt_jw_array(w);
	lt_jw_object(w);
	lt_jw_key(w, "locations");
	lt_jw_array(w);
	for (size_t i = v->count; i-- > 0;) {
		lt_jw_object(w);
		lt_jw_ku64(w, "nestingLevel", v->count - 1 - i);
		lt_jw_key(w, "location");
		put_location(st, &v->frames[i], !v->frames[i].external, true);
		lt_jw_end(w);
	}
	lt_jw_end(w);
	lt_jw_end(w);
	lt_jw_end(w);
	lt_jw_end(w);
	lt_jw_end(w);

	/* The same stack as SARIF's call stack: innermost frame first. */
	lt_jw_key(w, "stacks");
	lt_jw_array(w);
	lt_jw_object(w);
	put_text(w, "message", "allocation stack");
	lt_jw_key(w, "frames");
	lt_jw_array(w);
	for (size_t i = 0; i < v->count; i++) {
		const struct lt_shown_frame *s = &v->frames[i];
		const char *slash = s->f.obj ? strrchr(s->f.obj, '/') : NULL;
		lt_jw_object(w);
		lt_jw_key(w, "location");
		put_location(st, s, true, true);
		if (s->f.obj)
			lt_jw_kstring(w, "module", slash ? slash + 1 : s->f.obj);
		lt_jw_end(w);
	}
	lt_jw_end(w);
	lt_jw_end(w);
	lt_jw_end(w);
}

/* A record's bytes in its properties: in all, then direct and indirect. */
static void put_bytes(struct lt_json_writer *w, uint64_t direct, uint64_t indirect)
{
	lt_jw_ku64(w, "bytes", direct + indirect);
	lt_jw_ku64(w, "directBytes", direct);
	lt_jw_ku64(w, "indirectBytes", indirect);
}

static void sarif_leak(struct lt_report *r, const struct lt_loss_record *rec, size_t number)
{
	struct sarif_state *st = r->priv;
	char id[64], sentence[256];
	if (!st)
		return;
	struct lt_json_writer *w = &st->w;
	const struct rule *rule = &rules[rule_index(rec->kind)];
	if (lt_record_view_get(&st->view, r->snap, r->src, r->opts->num_callers, rec) != 0) {
		r->out->failed = true;
		return;
	}
	lt_record_sentence(rec, number, r->records->count,
			   r->snap->process.reason == LT_REASON_EXIT, sentence, sizeof(sentence));
	snprintf(id, sizeof(id), "leaktrace/%s", lt_kind_id(rec->kind));
	put_result(r, st, id, rule_index(rec->kind), rule->level, sentence, rec->baselined);

	lt_jw_key(w, "properties");
	lt_jw_object(w);
	lt_jw_ku64(w, "lossRecord", number);
	lt_jw_kstring(w, "leakKind", lt_kind_id(rec->kind));
	put_bytes(w, rec->bytes, rec->indirect_bytes);
	lt_jw_ku64(w, "blocks", rec->blocks);
	lt_jw_kbool(w, "countsAsError", lt_report_counts(r->opts, rec));
	lt_jw_end(w);
	lt_jw_end(w);
}

/* A mapping record the text shows: its type's rule, its kind's level. */
static void sarif_mapping(struct lt_report *r, const struct lt_map_record *rec, size_t number)
{
	struct sarif_state *st = r->priv;
	char id[64], sentence[LT_OPT_PATH_MAX + 256];
	if (!st)
		return;
	struct lt_json_writer *w = &st->w;
	if (lt_map_record_view_get(&st->view, r->snap, r->src, r->opts->num_callers, rec) != 0) {
		r->out->failed = true;
		return;
	}
	lt_map_record_sentence(rec, number, r->records->nmaps,
			       r->snap->process.reason == LT_REASON_EXIT, sentence, sizeof(sentence));
	map_rule_id(rec->type, id, sizeof(id));
	put_result(r, st, id, map_rule_index(rec->type), rules[rule_index(rec->kind)].level,
		   sentence, rec->baselined);

	lt_jw_key(w, "properties");
	lt_jw_object(w);
	lt_jw_ku64(w, "mappingRecord", number);
	lt_jw_kstring(w, "leakKind", lt_kind_id(rec->kind));
	lt_jw_kstring(w, "mappingType", lt_map_type_id(rec->type));
	lt_jw_kstring(w, "path", rec->path[0] ? rec->path : NULL);
	put_bytes(w, rec->bytes, rec->indirect_bytes);
	lt_jw_ku64(w, "mappings", rec->count);
	lt_jw_kbool(w, "countsAsError", lt_report_map_counts(r->opts, rec));
	lt_jw_end(w);
	lt_jw_end(w);
}

static void sarif_leak_end(struct lt_report *r, const struct lt_loss_record *rec)
{
}

static void sarif_end(struct lt_report *r)
{
	struct sarif_state *st = r->priv;
	if (!st)
		return;
	lt_jw_end(&st->w);        /* results */
	lt_jw_end(&st->w);        /* the run */
	lt_jw_end(&st->w);        /* runs */
	lt_jw_end(&st->w);        /* the log */
	if (lt_jw_finish(&st->w) != 0)
		r->out->failed = true;
	lt_record_view_free(&st->view);
	free(st);
	r->priv = NULL;
}

const struct lt_report_ops lt_report_sarif_ops = {
	.name = "sarif",
	.begin = sarif_begin,
	.leak = sarif_leak,
	.leak_end = sarif_leak_end,
	.end = sarif_end,
	.mapping = sarif_mapping,
};
