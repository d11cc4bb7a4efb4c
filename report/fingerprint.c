/* Loss-record facts shared by the machine-readable reports and baselines:
 * the display stack with external frames marked, the allocation site and
 * the fingerprints (definition: docs/json-report.md, "Fingerprints").
 * Context: offline side only.
 *
 * A fingerprint must be the same for the same leak in another run (ASLR:
 * no addresses), on another machine or checkout (no absolute paths, no
 * pids), and after rebuilds that leave the frames alone; it must not
 * depend on things outside the program (the debug information installed
 * for system libraries, our own allocator's source lines). */
#include "fingerprint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *lt_kind_id(unsigned kind)
{
	switch (kind) {
	case LT_KIND_DEFINITE: return "definitely-lost";
	case LT_KIND_INDIRECT: return "indirectly-lost";
	case LT_KIND_POSSIBLE: return "possibly-lost";
	case LT_KIND_REACHABLE: return "still-reachable";
	default: return "not-classified";
	}
}

const char *lt_map_type_id(unsigned type)
{
	switch (type) {
	case LT_MAP_PRIVATE_ANON: return "private-anonymous";
	case LT_MAP_SHARED_ANON: return "shared-anonymous";
	case LT_MAP_PRIVATE_FILE: return "private-file";
	default: return "shared-file";
	}
}

bool lt_is_system_object(const char *path)
{
	static const char *const dirs[] = {
		"/lib/", "/lib32/", "/lib64/", "/libx32/", "/usr/lib/", "/usr/lib32/",
		"/usr/lib64/", "/usr/libx32/", "/usr/libexec/",
	};
	if (!path)
		return false;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
			return true;
	return false;
}

/* Resolves "." and ".." in place, lexically: ".." above the root of an
 * absolute path stays at the root, at the start of a relative one it is
 * kept. Paths longer than 4095 bytes are left as they are. */
static void normalize(char *path)
{
	char copy[4096];
	const char *comp[2048];
	size_t n = 0, len = strlen(path);
	bool absolute = path[0] == '/';

	if (len >= sizeof(copy))
		return;
	memcpy(copy, path, len + 1);
	for (char *save = NULL, *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0 && n && strcmp(comp[n - 1], "..") != 0) {
			n--;
			continue;
		}
		if (strcmp(c, "..") == 0 && absolute)
			continue;
		if (n == sizeof(comp) / sizeof(comp[0]))
			return;
		comp[n++] = c;
	}
	char *out = path;
	if (absolute)
		*out++ = '/';
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(comp[i]);
		if (i)
			*out++ = '/';
		memcpy(out, comp[i], k);
		out += k;
	}
	if (out == path)
		*out++ = '.';
	*out = '\0';
}

char *lt_source_path(const struct lt_frame *f, char *buf, size_t len)
{
	int n;
	if (!f->file)
		return NULL;
	if (f->file[0] == '/' || !f->dir)
		n = snprintf(buf, len, "%s", f->file);
	else
		n = snprintf(buf, len, "%s/%s", f->dir, f->file);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	normalize(buf);
	return buf;
}

/* Code compiled from a system header (/usr/include/...): the line numbers
 * belong to the compiler's or the C library's version, not to the
 * program. */
static bool system_source(const struct lt_frame *f)
{
	char path[4096];
	return f->dir && f->dir[0] == '/' && lt_source_path(f, path, sizeof(path)) &&
	       strncmp(path, "/usr/", 5) == 0;
}

struct collector {
	struct lt_record_view *v;
	bool failed;
};

static void collect(void *ctx, uint64_t ip, uint32_t index, const struct lt_frame *f)
{
	struct collector *c = ctx;
	struct lt_record_view *v = c->v;
	if (v->count == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 32;
		struct lt_shown_frame *frames = realloc(v->frames, cap * sizeof(*frames));
		if (!frames) {
			c->failed = true;
			return;
		}
		v->frames = frames;
		v->cap = cap;
	}
	struct lt_shown_frame *s = &v->frames[v->count++];
	s->ip = ip;
	s->index = index;
	s->f = *f;
	s->external = index == 0 || lt_is_system_object(f->obj) || system_source(f);
}

/* A growing text buffer for the canonical form. */
struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 256;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *b = realloc(t->buf, cap);
		if (!b) {
			t->failed = true;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void puts_(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* A netstring: decimal length, ':', the bytes, ','. */
static void field(struct text *t, const char *s)
{
	char len[24];
	size_t n = s ? strlen(s) : 0;
	snprintf(len, sizeof(len), "%zu:", n);
	puts_(t, len);
	put(t, s ? s : "", n);
	put(t, ",", 1);
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

/* The canonical text; map_type is 0 for a loss record, else the type of
 * a mapping record, which adds a "mapping TYPE" line after the kind: the
 * text of a loss record is what it always was. */
static char *fingerprint_text(const struct lt_record_view *v, unsigned kind,
			      unsigned map_type, bool with_lines, size_t *len)
{
	struct text t = { 0 };
	puts_(&t, with_lines ? "leaktrace fingerprint 1\n" : "leaktrace fuzzy fingerprint 1\n");
	puts_(&t, "kind ");
	puts_(&t, lt_kind_id(kind));
	puts_(&t, "\n");
	if (map_type) {
		puts_(&t, "mapping ");
		puts_(&t, lt_map_type_id(map_type));
		puts_(&t, "\n");
	}
	for (size_t i = 0; i < v->count; i++) {
		const struct lt_shown_frame *s = &v->frames[i];
		char line[16] = "";
		/* The allocation function: its name, not what our shim inlined. */
		if (s->index == 0 && s->f.inlined)
			continue;
		bool located = !s->external && s->f.file;
		if (located && with_lines && s->f.line)
			snprintf(line, sizeof(line), "%u", s->f.line);
		puts_(&t, "frame ");
		field(&t, s->f.fn);
		field(&t, located ? s->f.file : NULL);
		field(&t, line);
		field(&t, s->f.fn ? NULL : base_name(s->f.obj));
		puts_(&t, "\n");
	}
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}

char *lt_fingerprint_text(const struct lt_record_view *v, unsigned kind,
			  bool with_lines, size_t *len)
{
	return fingerprint_text(v, kind, 0, with_lines, len);
}

char *lt_map_fingerprint_text(const struct lt_record_view *v, unsigned kind, unsigned type,
			      bool with_lines, size_t *len)
{
	return fingerprint_text(v, kind, type, with_lines, len);
}

static int hash_text(const struct lt_record_view *v, unsigned kind, unsigned map_type,
		     bool with_lines, char out[LT_FINGERPRINT_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	struct lt_sha256 h;
	uint8_t digest[32];
	size_t len;
	char *text = fingerprint_text(v, kind, map_type, with_lines, &len);
	if (!text)
		return -1;
	lt_sha256_init(&h);
	lt_sha256_update(&h, text, len);
	lt_sha256_final(&h, digest);
	free(text);
	for (size_t i = 0; i < LT_FINGERPRINT_HEX / 2; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[LT_FINGERPRINT_HEX] = '\0';
	return 0;
}

static int view_get(struct lt_record_view *v, const struct lt_snapshot *snap,
		    const struct lt_frame_source *src, unsigned num_callers,
		    uint32_t stack_id, unsigned kind, unsigned map_type)
{
	struct collector c = { .v = v };
	v->count = 0;
	v->site = LT_NO_SITE;
	lt_report_walk_stack(snap, src, num_callers, stack_id, collect, &c);
	if (c.failed)
		return -1;
	for (size_t i = 0; i < v->count && v->site == LT_NO_SITE; i++)
		if (!v->frames[i].external && v->frames[i].f.file)
			v->site = i;
	if (hash_text(v, kind, map_type, true, v->fingerprint) ||
	    hash_text(v, kind, map_type, false, v->fuzzy_fingerprint))
		return -1;
	return 0;
}

int lt_record_view_get(struct lt_record_view *v, const struct lt_snapshot *snap,
		       const struct lt_frame_source *src, unsigned num_callers,
		       const struct lt_loss_record *rec)
{
	return view_get(v, snap, src, num_callers, rec->stack_id, rec->kind, 0);
}

int lt_map_record_view_get(struct lt_record_view *v, const struct lt_snapshot *snap,
			   const struct lt_frame_source *src, unsigned num_callers,
			   const struct lt_map_record *rec)
{
	return view_get(v, snap, src, num_callers, rec->stack_id, rec->kind, rec->type);
}

void lt_record_view_free(struct lt_record_view *v)
{
	free(v->frames);
	memset(v, 0, sizeof(*v));
}

void lt_record_sentence(const struct lt_loss_record *rec, size_t number, size_t of,
			bool at_exit, char *buf, size_t len)
{
	char total[LT_COMMAS_MAX], direct[LT_COMMAS_MAX], indirect[LT_COMMAS_MAX];
	char blocks[LT_COMMAS_MAX], num[LT_COMMAS_MAX], count[LT_COMMAS_MAX];
	const char *words = lt_kind_words(rec->kind, at_exit);

	lt_fmt_commas(rec->blocks, blocks);
	lt_fmt_commas(number, num);
	lt_fmt_commas(of, count);
	if (rec->indirect_bytes)
		snprintf(buf, len, "%s (%s direct, %s indirect) bytes in %s blocks are %s in loss record %s of %s",
			 lt_fmt_commas(rec->bytes + rec->indirect_bytes, total),
			 lt_fmt_commas(rec->bytes, direct), lt_fmt_commas(rec->indirect_bytes, indirect),
			 blocks, words, num, count);
	else
		snprintf(buf, len, "%s bytes in %s blocks are %s in loss record %s of %s",
			 lt_fmt_commas(rec->bytes, total), blocks, words, num, count);
}

void lt_map_record_sentence(const struct lt_map_record *rec, size_t number, size_t of,
			    bool at_exit, char *buf, size_t len)
{
	char total[LT_COMMAS_MAX], direct[LT_COMMAS_MAX], indirect[LT_COMMAS_MAX];
	char count[LT_COMMAS_MAX], num[LT_COMMAS_MAX], nof[LT_COMMAS_MAX];
	const char *words = lt_kind_words(rec->kind, at_exit);
	const char *sep = rec->path[0] ? " " : "";

	lt_fmt_commas(rec->count, count);
	lt_fmt_commas(number, num);
	lt_fmt_commas(of, nof);
	if (rec->indirect_bytes)
		snprintf(buf, len,
			 "%s (%s direct, %s indirect) bytes in %s mappings (%s%s%s) are %s in mapping record %s of %s",
			 lt_fmt_commas(rec->bytes + rec->indirect_bytes, total),
			 lt_fmt_commas(rec->bytes, direct), lt_fmt_commas(rec->indirect_bytes, indirect),
			 count, lt_map_type_words(rec->type), sep, rec->path, words, num, nof);
	else
		snprintf(buf, len, "%s bytes in %s mappings (%s%s%s) are %s in mapping record %s of %s",
			 lt_fmt_commas(rec->bytes, total), count, lt_map_type_words(rec->type), sep,
			 rec->path, words, num, nof);
}
