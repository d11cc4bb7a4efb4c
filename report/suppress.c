/* Suppressions: loading (the format is told by the first line), matching
 * a record's stack as valgrind and LeakSanitizer do, applying them to the
 * loss records, and writing valgrind suppressions for records.
 *
 * valgrind (m_errormgr.c semantics, our code): the stack is the record's
 * addresses up to num_callers, each expanded into its inlined calls
 * (innermost first), nothing cut below main; the suppression's lines must
 * match a prefix of it, "..." standing for any number of frames. fun:
 * sees the name as in the binary (C++ mangled; an inlined call's DWARF
 * name), obj: the module's path, src: the source file's name and line.
 * LeakSanitizer (lsan_common.cpp semantics): a leak: pattern suppresses a
 * record when it matches the module, the function (demangled) or the
 * source file of any of its frames.
 * Context: offline side only. */
#define _GNU_SOURCE
#include "suppress.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- sets ---- */

struct lt_supp *lt_supp_add(struct lt_supp_set *set)
{
	struct lt_supp **order = realloc(set->order, (set->count + 1) * sizeof(*order));
	if (!order)
		return NULL;
	set->order = order;
	struct lt_supp *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->kinds = LT_KINDS_ALL;
	/* valgrind prepends each suppression it reads to its list. */
	memmove(order + 1, order, set->count * sizeof(*order));
	order[0] = s;
	set->count++;
	return s;
}

void lt_supp_free(struct lt_supp_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		struct lt_supp *s = set->order[i];
		for (size_t k = 0; k < s->nlocs; k++)
			free(s->locs[k].pattern);
		free(s->locs);
		free(s->name);
		free(s->pattern);
		free(s);
	}
	for (size_t i = 0; i < set->nfiles; i++)
		free(set->files[i]);
	free(set->files);
	free(set->order);
	memset(set, 0, sizeof(*set));
}

/* ---- lines ---- */

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

bool lt_supp_next_line(struct lt_supp_lines *l, const char **line)
{
	while (l->p < l->end) {
		const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
		const char *start = l->p, *stop = nl ? nl : l->end;
		l->p = nl ? nl + 1 : l->end;
		l->lineno++;
		while (start < stop && blank(*start))
			start++;
		while (stop > start && blank(stop[-1]))
			stop--;
		if (start == stop || *start == '#')
			continue;
		size_t n = (size_t)(stop - start);
		if (n + 1 > l->cap) {
			char *b = realloc(l->buf, n + 1);
			if (!b)
				return false;
			l->buf = b;
			l->cap = n + 1;
		}
		memcpy(l->buf, start, n);
		l->buf[n] = '\0';
		/* A NUL byte in a line ends it: no pattern can match past it. */
		*line = l->buf;
		return true;
	}
	return false;
}

/* ---- loading ---- */

int lt_supp_parse(struct lt_supp_set *set, const char *file, const char *text, size_t len,
		  char *err, size_t errlen)
{
	struct lt_supp_lines l = { .p = text, .end = text + len };
	const char *line;
	bool any = lt_supp_next_line(&l, &line);
	bool valgrind = any && strcmp(line, "{") == 0;
	bool lsan = any && strncmp(line, "leak:", 5) == 0;
	unsigned first = l.lineno;
	free(l.buf);
	if (!any)
		return 0;             /* nothing but comments: valid, and empty */
	if (valgrind)
		return lt_supp_parse_valgrind(set, file, text, len, err, errlen);
	if (lsan)
		return lt_supp_parse_lsan(set, file, text, len, err, errlen);
	snprintf(err, errlen, "%s:%u: not a suppressions file: expected '{' (valgrind's format) "
		 "or leak:PATTERN (LeakSanitizer's)", file, first);
	return -1;
}

#define MAX_FILE_SIZE (64u << 20)

int lt_supp_load(struct lt_supp_set *set, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc = -1;
	if (!f) {
		snprintf(err, errlen, "%s: cannot read the suppressions file: %s", path,
			 strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			char *t = cap <= MAX_FILE_SIZE ? realloc(text, cap) : NULL;
			if (!t) {
				snprintf(err, errlen, "%s: suppressions file too large", path);
				goto out;
			}
			text = t;
		}
		size_t n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read the suppressions file: %s", path,
			 strerror(errno));
		goto out;
	}
	char **files = realloc(set->files, (set->nfiles + 1) * sizeof(*files));
	if (!files || !(files[set->nfiles] = strdup(path))) {
		if (files)
			set->files = files;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	set->files = files;
	rc = lt_supp_parse(set, files[set->nfiles++], text, len, err, errlen);
out:
	free(text);
	fclose(f);
	return rc;
}

int lt_supp_load_options(struct lt_supp_set *set, const struct lt_options *opts,
			 char *err, size_t errlen)
{
	char path[LT_OPT_LIST_MAX];
	const char *cur = NULL, *v;
	size_t n;
	if (opts->default_suppressions &&
	    lt_supp_parse(set, lt_default_suppressions_name, lt_default_suppressions,
			  lt_default_suppressions_len, err, errlen))
		return -1;
	while ((v = lt_options_list_next(opts->suppressions, &cur, &n))) {
		memcpy(path, v, n);
		path[n] = '\0';
		if (lt_supp_load(set, path, err, errlen))
			return -1;
	}
	return 0;
}

int lt_supp_check(const struct lt_options *opts, char *err, size_t errlen)
{
	struct lt_supp_set set = { 0 };
	int rc = lt_supp_load_options(&set, opts, err, errlen);
	lt_supp_free(&set);
	return rc;
}

/* ---- string matching ---- */

bool lt_supp_glob(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;
	for (;;) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (*p == '\0' && *s == '\0')
			return true;
		if (*p == '\\' && p[1] && *s == p[1]) {
			p += 2;
			s++;
			continue;
		}
		if (*p && *p != '\\' && *s && (*p == '?' || *p == *s)) {
			p++;
			s++;
			continue;
		}
		/* Mismatch: let the last star take one more character. */
		if (!star_p || !*star_s)
			return false;
		p = star_p;
		s = ++star_s;
	}
}

/* LeakSanitizer's template: the text anywhere in s unless '^' anchors it
 * at the start or '$' at the end (a '$' ends the template), '*' any run;
 * every other character, '?' and '\\' included, stands for itself. Done
 * as the equivalent whole-string glob. (LeakSanitizer's own loop takes the
 * first occurrence of each piece between stars, so it can miss a match
 * this finds, never the reverse.) */
bool lt_supp_lsan_match(const char *pattern, const char *s)
{
	char buf[1024], *g = buf;
	size_t need = 2 * strlen(pattern) + 3;
	bool ok;
	if (!s || !*s)
		return false;
	if (need > sizeof(buf) && !(g = malloc(need)))
		return false;
	char *o = g;
	const char *p = pattern;
	if (*p == '^')
		p++;
	else
		*o++ = '*';
	for (; *p && *p != '$'; p++) {
		if (*p == '?' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	if (*p != '$')
		*o++ = '*';
	*o = '\0';
	ok = lt_supp_glob(g, s);
	if (g != buf)
		free(g);
	return ok;
}

/* ---- the frames of a record ---- */

/* A module's path as valgrind names it: the file behind the mapping, with
 * symbolic links resolved (the loader's l_name can be a link such as
 * /lib/x86_64-linux-gnu/libc.so.6). NULL when that is the path itself or
 * the file is gone. Cached for the life of the command: a few modules,
 * many frames. */
struct real_cache {
	const char *obj;
	char *real;
};
static struct real_cache *real_cache;
static size_t real_cache_n;

static const char *real_obj(const char *obj)
{
	if (!obj)
		return NULL;
	for (size_t i = 0; i < real_cache_n; i++)
		if (real_cache[i].obj == obj || strcmp(real_cache[i].obj, obj) == 0)
			return real_cache[i].real;
	struct real_cache *c = realloc(real_cache, (real_cache_n + 1) * sizeof(*c));
	if (!c)
		return obj;
	real_cache = c;
	char *real = realpath(obj, NULL);
	if (real && strcmp(real, obj) == 0) {
		free(real);
		real = NULL;
	}
	real_cache[real_cache_n].obj = obj;
	real_cache[real_cache_n].real = real;
	real_cache_n++;
	return real;
}

struct frames {
	struct lt_supp_frame *f;
	size_t n, cap;
};

static int push_frame(struct frames *fr, const struct lt_frame *f, bool entry)
{
	if (fr->n == fr->cap) {
		size_t cap = fr->cap ? fr->cap * 2 : 64;
		struct lt_supp_frame *nf = realloc(fr->f, cap * sizeof(*nf));
		if (!nf)
			return -1;
		fr->f = nf;
		fr->cap = cap;
	}
	fr->f[fr->n++] = (struct lt_supp_frame){
		.fn = f->raw_fn ? f->raw_fn : f->fn,
		.shown_fn = f->fn,
		.obj = f->obj,
		.dir = f->dir,
		.file = f->file,
		.line = f->line,
		.entry = entry,
	};
	return 0;
}

/* Frames of libleaktrace.so past the allocation function: its wrappers
 * (pthread_create, to know threads) that valgrind's stacks do not have.
 * Suppressions neither see nor write them, so that one written by
 * valgrind matches here, and one written here matches under valgrind. */
static bool our_wrapper(const char *obj, uint32_t index)
{
	const char *base = obj ? strrchr(obj, '/') : NULL;
	base = base ? base + 1 : obj;
	return index > 0 && base && strncmp(base, "libleaktrace", 12) == 0;
}

/* Every frame of the stack up to num_callers addresses, nothing cut. */
static int stack_frames(const struct lt_snapshot *snap, const struct lt_frame_source *src,
			unsigned num_callers, uint32_t stack_id, struct frames *fr)
{
	const struct lt_stack *stack = lt_snapshot_stack(snap, stack_id);
	fr->n = 0;
	if (!stack)
		return 0;
	uint32_t n = stack->depth < num_callers ? stack->depth : num_callers;
	for (uint32_t i = 0; i < n; i++) {
		const struct lt_frame *frames;
		size_t count = src->resolve(src->ctx, stack, i, &frames);
		for (size_t k = 0; k < count; k++)
			if (!our_wrapper(frames[k].obj, i) && push_frame(fr, &frames[k], i == 0))
				return -1;
	}
	return 0;
}

/* ---- matching ---- */

/* Names under which a frame also goes, so that suppressions written by or
 * for valgrind match: valgrind's allocator names the function behind
 * aligned_alloc and valloc "memalign", and realloc's "malloc" when its
 * pointer is NULL; under valgrind glibc starts threads with clone, not
 * clone3. */
static bool fun_matches(const char *pattern, const struct lt_supp_frame *f)
{
	const char *fn = f->fn ? f->fn : "???";
	if (lt_supp_glob(pattern, fn))
		return true;
	if (f->entry && (strcmp(fn, "aligned_alloc") == 0 || strcmp(fn, "valloc") == 0))
		return lt_supp_glob(pattern, "memalign");
	if (f->entry && (strcmp(fn, "realloc") == 0 || strcmp(fn, "reallocarray") == 0))
		return lt_supp_glob(pattern, "malloc") || lt_supp_glob(pattern, "realloc");
	if (strcmp(fn, "clone3") == 0)
		return lt_supp_glob(pattern, "clone");
	return false;
}

#define VALGRIND_PRELOAD "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so"

static bool obj_matches(const char *pattern, const struct lt_supp_frame *f)
{
	const char *real;
	if (!f->obj)
		return lt_supp_glob(pattern, "???");
	if (lt_supp_glob(pattern, f->obj))
		return true;
	if ((real = real_obj(f->obj)) && lt_supp_glob(pattern, real))
		return true;
	/* The allocation function is ours where valgrind's is in its
	 * preloaded library. */
	return f->entry && lt_supp_glob(pattern, VALGRIND_PRELOAD);
}

static bool loc_matches(const struct lt_supp_loc *l, const struct lt_supp_frame *f)
{
	switch (l->type) {
	case LT_SUPP_FUN:
		return fun_matches(l->pattern, f);
	case LT_SUPP_OBJ:
		return obj_matches(l->pattern, f);
	case LT_SUPP_SRC:
		return f->file && lt_supp_glob(l->pattern, f->file) &&
		       (l->line == 0 || l->line == f->line);
	default:
		return false;
	}
}

/* The suppression's lines against a prefix of the frames. */
static bool match_from(const struct lt_supp_loc *l, size_t nl,
		       const struct lt_supp_frame *f, size_t nf)
{
	while (nl) {
		if (l->type == LT_SUPP_DOTS) {
			while (nl && l->type == LT_SUPP_DOTS) {
				l++;
				nl--;
			}
			if (!nl)
				return true;
			for (size_t skip = 0; skip < nf; skip++)
				if (loc_matches(l, &f[skip]) &&
				    match_from(l + 1, nl - 1, f + skip + 1, nf - skip - 1))
					return true;
			return false;
		}
		if (!nf || !loc_matches(l, f))
			return false;
		l++;
		nl--;
		f++;
		nf--;
	}
	return true;
}

static bool lsan_frame_matches(const char *pattern, const struct lt_supp_frame *f)
{
	char path[PATH_MAX * 2];
	if (f->obj && (lt_supp_lsan_match(pattern, f->obj) ||
		       lt_supp_lsan_match(pattern, real_obj(f->obj))))
		return true;
	if (f->shown_fn && lt_supp_lsan_match(pattern, f->shown_fn))
		return true;
	if (!f->file)
		return false;
	if (f->dir) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, f->file);
		return lt_supp_lsan_match(pattern, path);
	}
	return lt_supp_lsan_match(pattern, f->file);
}

/* valgrind's allocator implements posix_memalign with its memalign, and
 * glibc's reallocarray calls realloc: there, the stack starts with two
 * frames where ours has one. The valgrind name of the first. */
static const char *valgrind_inner_entry(const struct lt_supp_frame *f)
{
	if (!f->entry || !f->fn)
		return NULL;
	if (strcmp(f->fn, "posix_memalign") == 0)
		return "memalign";
	if (strcmp(f->fn, "reallocarray") == 0)
		return "realloc";
	return NULL;
}

/* lt_supp_matches, reading no more than nlocs of a valgrind
 * suppression's frame lines (valgrind reads no more than --num-callers). */
static bool matches_upto(const struct lt_supp *s, size_t nlocs, unsigned kind,
			 const struct lt_supp_frame *frames, size_t n)
{
	unsigned bit = lt_kind_bit(kind);
	if (!bit || !(s->kinds & bit))
		return false;
	if (s->format == LT_SUPP_LSAN) {
		for (size_t i = 0; i < n; i++)
			if (lsan_frame_matches(s->pattern, &frames[i]))
				return true;
		return false;
	}
	if (!nlocs)
		return false;
	if (match_from(s->locs, nlocs, frames, n))
		return true;
	const char *inner = n ? valgrind_inner_entry(&frames[0]) : NULL;
	if (!inner)
		return false;
	/* The stack as valgrind has it: the inner allocator frame first. */
	struct lt_supp_frame *as_valgrind = malloc((n + 1) * sizeof(*as_valgrind));
	if (!as_valgrind)
		return false;
	as_valgrind[0] = frames[0];
	as_valgrind[0].fn = inner;
	memcpy(as_valgrind + 1, frames, n * sizeof(*frames));
	as_valgrind[1].entry = false;
	bool hit = match_from(s->locs, nlocs, as_valgrind, n + 1);
	free(as_valgrind);
	return hit;
}

bool lt_supp_matches(const struct lt_supp *s, unsigned kind,
		     const struct lt_supp_frame *frames, size_t n)
{
	return matches_upto(s, s->nlocs, kind, frames, n);
}

/* The first suppression of set, in its search order, that matches a
 * record of this stack and kind; moved to the front as valgrind moves it.
 * *failed is set when out of memory. */
static struct lt_supp *find_match(struct lt_supp_set *set, const struct lt_snapshot *snap,
				  const struct lt_frame_source *src, unsigned num_callers,
				  uint32_t stack_id, unsigned kind, struct frames *fr,
				  bool *failed)
{
	if (!lt_kind_bit(kind))
		return NULL;
	if (stack_frames(snap, src, num_callers, stack_id, fr)) {
		*failed = true;
		return NULL;
	}
	for (size_t k = 0; k < set->count; k++) {
		struct lt_supp *s = set->order[k];
		size_t nlocs = s->nlocs < num_callers ? s->nlocs : num_callers;
		if (!matches_upto(s, nlocs, kind, fr->f, fr->n))
			continue;
		memmove(set->order + 1, set->order, k * sizeof(*set->order));
		set->order[0] = s;
		return s;
	}
	return NULL;
}

/* A record suppressed by s, in the figures valgrind's -s prints for s:
 * one more use, its bytes (direct and indirect) and its blocks. */
static void count_in_supp(struct lt_supp *s, uint64_t bytes, uint64_t blocks)
{
	s->count++;
	s->bytes += bytes;
	s->blocks += blocks;
}

/* Mapping records are matched as loss records are: valgrind has no leak
 * kind of its own for mappings, and a mapping record's stack starts at
 * mmap (or mremap), so a block written for it (the one --gen-suppressions
 * writes) names that function and cannot take a heap record by mistake.
 * Their use counts in "blocks" are mappings. */
static long apply_to_mappings(struct lt_supp_set *set, const struct lt_snapshot *snap,
			      const struct lt_frame_source *src, unsigned num_callers,
			      struct lt_records *rs, struct frames *fr)
{
	bool failed = false;
	long suppressed = 0;
	for (size_t i = 0; i < rs->nmaps; i++) {
		struct lt_map_record *m = &rs->maps[i];
		struct lt_supp *s = find_match(set, snap, src, num_callers, m->stack_id,
					       m->kind, fr, &failed);
		if (failed)
			return -1;
		if (!s)
			continue;
		m->suppressed = true;
		m->supp_name = s->name;
		count_in_supp(s, m->bytes + m->indirect_bytes, m->count);
		rs->map_kind_bytes[m->kind] -= m->bytes;
		rs->map_kind_count[m->kind] -= m->count;
		rs->map_suppressed_bytes += m->bytes;
		rs->map_suppressed_count += m->count;
		suppressed++;
	}
	return suppressed;
}

long lt_supp_apply(struct lt_supp_set *set, const struct lt_snapshot *snap,
		   const struct lt_frame_source *src, unsigned num_callers,
		   struct lt_records *rs)
{
	struct frames fr = { 0 };
	bool failed = false;
	long suppressed = 0;
	rs->supps = set;
	if (!set->count)
		return 0;
	for (size_t i = 0; i < rs->count && !failed; i++) {
		struct lt_loss_record *rec = &rs->recs[i];
		struct lt_supp *s = find_match(set, snap, src, num_callers, rec->stack_id,
					       rec->kind, &fr, &failed);
		if (!s)
			continue;
		rec->suppressed = true;
		rec->supp_name = s->name;
		count_in_supp(s, rec->bytes + rec->indirect_bytes, rec->blocks);
		rs->kind_bytes[rec->kind] -= rec->bytes;
		rs->kind_blocks[rec->kind] -= rec->blocks;
		rs->suppressed_bytes += rec->bytes;
		rs->suppressed_blocks += rec->blocks;
		suppressed++;
	}
	long maps = failed ? -1 : apply_to_mappings(set, snap, src, num_callers, rs, &fr);
	free(fr.f);
	return maps < 0 ? -1 : suppressed + maps;
}

/* ---- --gen-suppressions ---- */

static const char *kind_word(unsigned kind)
{
	switch (kind) {
	case LT_KIND_DEFINITE: return "definite";
	case LT_KIND_INDIRECT: return "indirect";
	case LT_KIND_POSSIBLE: return "possible";
	default: return "reachable";
	}
}

/* One location line per display frame, as valgrind's gen_suppression
 * writes them: up to main, inlined calls included; "fun:" and the name as
 * in the binary, or "obj:" and the module, or "obj:*". */
struct gen_line {
	bool fun;
	char *text;
};

struct gen {
	struct gen_line *lines;
	size_t n, cap;
	bool failed;
};

static void gen_frame(void *ctx, uint64_t ip, uint32_t index, const struct lt_frame *f)
{
	struct gen *g = ctx;
	const char *fn = f->raw_fn ? f->raw_fn : f->fn;
	const char *obj = real_obj(f->obj);
	if (g->failed || our_wrapper(f->obj, index))
		return;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 32;
		struct gen_line *l = realloc(g->lines, cap * sizeof(*l));
		if (!l) {
			g->failed = true;
			return;
		}
		g->lines = l;
		g->cap = cap;
	}
	struct gen_line *l = &g->lines[g->n];
	l->fun = fn != NULL;
	l->text = strdup(fn ? fn : obj ? obj : f->obj ? f->obj : "*");
	if (!l->text)
		g->failed = true;
	else
		g->n++;
}

static void gen_free(struct gen *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->lines[i].text);
	free(g->lines);
}

static void put_text(struct lt_outbuf *out, const struct gen *g, unsigned kind)
{
	lt_ob_puts(out, "{\n   <insert_a_suppression_name_here>\n   Memcheck:Leak\n");
	lt_ob_puts(out, "   match-leak-kinds: ");
	lt_ob_puts(out, kind_word(kind));
	lt_ob_putc(out, '\n');
	for (size_t i = 0; i < g->n; i++) {
		lt_ob_puts(out, g->lines[i].fun ? "   fun:" : "   obj:");
		lt_ob_puts(out, g->lines[i].text);
		lt_ob_putc(out, '\n');
	}
	lt_ob_puts(out, "}\n");
}

static bool gen_lines(struct gen *g, const struct lt_snapshot *snap,
		      const struct lt_frame_source *src, unsigned num_callers,
		      uint32_t stack_id, unsigned kind)
{
	if (!lt_kind_bit(kind))
		return false;     /* no verdict, no Memcheck kind to suppress */
	lt_report_walk_stack(snap, src, num_callers, stack_id, gen_frame, g);
	if (g->failed) {
		gen_free(g);
		return false;
	}
	return true;
}

void lt_supp_write_text(struct lt_outbuf *out, const struct lt_snapshot *snap,
			const struct lt_frame_source *src, unsigned num_callers,
			uint32_t stack_id, unsigned kind)
{
	struct gen g = { 0 };
	if (!gen_lines(&g, snap, src, num_callers, stack_id, kind))
		return;
	put_text(out, &g, kind);
	gen_free(&g);
}

static void put_xml_text(struct lt_outbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			lt_ob_puts(out, "&amp;");
		else if (*s == '<')
			lt_ob_puts(out, "&lt;");
		else if (*s == '>')
			lt_ob_puts(out, "&gt;");
		else if ((unsigned char)*s < 0x20 && *s != '\t')
			lt_ob_putc(out, '?');
		else
			lt_ob_putc(out, *s);
	}
}

void lt_supp_write_xml(struct lt_outbuf *out, const struct lt_snapshot *snap,
		       const struct lt_frame_source *src, unsigned num_callers,
		       uint32_t stack_id, unsigned kind)
{
	struct gen g = { 0 };
	if (!gen_lines(&g, snap, src, num_callers, stack_id, kind))
		return;
	lt_ob_puts(out, "  <suppression>\n");
	lt_ob_puts(out, "    <sname>insert_a_suppression_name_here</sname>\n");
	lt_ob_puts(out, "    <skind>Memcheck:Leak</skind>\n");
	lt_ob_puts(out, "    <skaux>match-leak-kinds: ");
	lt_ob_puts(out, kind_word(kind));
	lt_ob_puts(out, "</skaux>\n");
	for (size_t i = 0; i < g.n; i++) {
		bool fun = g.lines[i].fun;
		lt_ob_puts(out, fun ? "    <sframe> <fun>" : "    <sframe> <obj>");
		put_xml_text(out, g.lines[i].text);
		lt_ob_puts(out, fun ? "</fun> </sframe>\n" : "</obj> </sframe>\n");
	}
	lt_ob_puts(out, "    <rawtext>\n<![CDATA[\n");
	put_text(out, &g, kind);
	lt_ob_puts(out, "]]>\n    </rawtext>\n  </suppression>\n");
	gen_free(&g);
}
