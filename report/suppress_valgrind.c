/* valgrind's suppressions files, as valgrind 3.19 reads them:
 *
 *   {
 *      name
 *      Memcheck:Leak                  tool[,tool...]:kind
 *      match-leak-kinds: definite     optional, Leak only
 *      fun:malloc                     fun:, obj:, src:file[:line] or ...
 *      ...
 *   }
 *
 * Blank lines and comments ('#' after blanks) anywhere; blanks around a
 * line do not count. Suppressions of other tools are skipped, and so are
 * Memcheck's suppressions of errors other than leaks (an unknown Memcheck
 * kind is an error, as in valgrind). Every problem valgrind would stop at
 * is an error here too, naming the file and the line.
 * Context: offline side only; the file is untrusted input. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suppress.h"

/* memcheck's suppression kinds (mc_errors.c), newer ones included so
 * that files written for a later valgrind load. */
static const char *const memcheck_kinds[] = {
	"Param", "User", "CoreMem", "Addr1", "Addr2", "Addr4", "Addr8", "Addr16",
	"Addr32", "Jump", "Free", "Leak", "Overlap", "Mempool", "Cond", "Value0",
	"Value1", "Value2", "Value4", "Value8", "Value16", "Value32", "FishyValue",
	"ReallocZero", "BadAlign", "BadSize", "SizeMismatch", "AlignMismatch",
};

#define MAX_LOCS 1024

struct parser {
	struct lt_supp_lines l;
	const char *file;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int bomb(struct parser *ps, const char *fmt, ...)
{
	char what[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "%s:%u: %s", ps->file, ps->l.lineno, what);
	return -1;
}

/* Whether tool appears in the comma-separated list tools[0..n). */
static bool tool_listed(const char *tools, size_t n, const char *tool)
{
	size_t len = strlen(tool);
	for (const char *t = tools, *end = tools + n; t < end;) {
		const char *comma = memchr(t, ',', (size_t)(end - t));
		size_t tl = comma ? (size_t)(comma - t) : (size_t)(end - t);
		if (tl == len && memcmp(t, tool, len) == 0)
			return true;
		t += tl + 1;
	}
	return false;
}

static bool known_kind(const char *kind)
{
	for (size_t i = 0; i < sizeof(memcheck_kinds) / sizeof(memcheck_kinds[0]); i++)
		if (strcmp(kind, memcheck_kinds[i]) == 0)
			return true;
	return false;
}

/* "definite,possible", "all" or "none" (valgrind's parse_enum_set: no
 * blanks inside the list). */
static int parse_kinds(const char *s, unsigned *out)
{
	static const struct { const char *word; unsigned bit; } words[] = {
		{ "definite", LT_KINDS_DEFINITE }, { "indirect", LT_KINDS_INDIRECT },
		{ "possible", LT_KINDS_POSSIBLE }, { "reachable", LT_KINDS_REACHABLE },
	};
	unsigned mask = 0;
	if (strcmp(s, "all") == 0) {
		*out = LT_KINDS_ALL;
		return 0;
	}
	if (strcmp(s, "none") == 0) {
		*out = 0;
		return 0;
	}
	for (;;) {
		size_t n = strcspn(s, ",");
		size_t k;
		for (k = 0; k < 4; k++)
			if (strlen(words[k].word) == n && memcmp(s, words[k].word, n) == 0)
				break;
		if (k == 4)
			return -1;
		mask |= words[k].bit;
		if (!s[n])
			break;
		s += n + 1;
	}
	*out = mask;
	return 0;
}

static int skip_to_close(struct parser *ps, const char *what)
{
	const char *line;
	while (lt_supp_next_line(&ps->l, &line))
		if (strcmp(line, "}") == 0)
			return 0;
	return bomb(ps, "unexpected end of file (in the suppression of %s: no '}')", what);
}

static int add_loc(struct parser *ps, struct lt_supp *s, const char *line)
{
	struct lt_supp_loc loc = { 0 };
	if (strcmp(line, "...") == 0) {
		loc.type = LT_SUPP_DOTS;
	} else if (strncmp(line, "fun:", 4) == 0 || strncmp(line, "obj:", 4) == 0 ||
		   strncmp(line, "src:", 4) == 0) {
		loc.type = line[0] == 'f' ? LT_SUPP_FUN : line[0] == 'o' ? LT_SUPP_OBJ
									 : LT_SUPP_SRC;
		loc.pattern = strdup(line + 4);
		if (!loc.pattern)
			return bomb(ps, "out of memory");
		/* src:file:line, as valgrind: the line after the first ':',
		 * where anything not a number (src:f.c:*) means any line. */
		char *colon = loc.type == LT_SUPP_SRC ? strchr(loc.pattern, ':') : NULL;
		if (colon) {
			*colon = '\0';
			loc.line = (unsigned)strtoul(colon + 1, NULL, 10);
		}
	} else {
		return bomb(ps, "'%s': a frame line is \"...\" or starts with fun:, obj: or src:",
			    line);
	}
	if (s->nlocs == MAX_LOCS) {
		free(loc.pattern);
		return bomb(ps, "more than %d frame lines", MAX_LOCS);
	}
	struct lt_supp_loc *locs = realloc(s->locs, (s->nlocs + 1) * sizeof(*locs));
	if (!locs) {
		free(loc.pattern);
		return bomb(ps, "out of memory");
	}
	s->locs = locs;
	s->locs[s->nlocs++] = loc;
	return 0;
}

/* One Memcheck:Leak suppression, after its kind line. */
static int read_leak(struct parser *ps, struct lt_supp *s)
{
	const char *line;
	bool have_line = false;
	if (!lt_supp_next_line(&ps->l, &line))
		return bomb(ps, "unexpected end of file (in the frames of suppression '%s')",
			    s->name);
	if (strncmp(line, "match-leak-kinds:", 17) == 0) {
		const char *v = line + 17;
		while (*v == ' ' || *v == '\t')
			v++;
		if (parse_kinds(v, &s->kinds))
			return bomb(ps, "bad match-leak-kinds: '%s' (a list of definite, indirect, "
				    "possible, reachable, or all, or none)", v);
	} else {
		have_line = true;
	}
	for (;;) {
		if (!have_line && !lt_supp_next_line(&ps->l, &line))
			return bomb(ps, "unexpected end of file (in the frames of suppression '%s')",
				    s->name);
		have_line = false;
		if (strcmp(line, "}") == 0)
			break;
		if (add_loc(ps, s, line))
			return -1;
	}
	if (!s->nlocs)
		return bomb(ps, "suppression '%s' has no frame lines (fun:, obj:, src: or ...)",
			    s->name);
	for (size_t i = 0; i < s->nlocs; i++)
		if (s->locs[i].type != LT_SUPP_DOTS)
			return 0;
	return bomb(ps, "suppression '%s' needs a frame line other than \"...\"", s->name);
}

int lt_supp_parse_valgrind(struct lt_supp_set *set, const char *file, const char *text,
			   size_t len, char *err, size_t errlen)
{
	struct parser ps = { .l = { .p = text, .end = text + len }, .file = file,
			     .err = err, .errlen = errlen };
	const char *line;
	int rc = -1;
	char *name = NULL;
	unsigned name_line;

	while (lt_supp_next_line(&ps.l, &line)) {
		if (strcmp(line, "{") != 0) {
			bomb(&ps, "expected '{' or the end of the file, not '%s'", line);
			goto out;
		}
		if (!lt_supp_next_line(&ps.l, &line)) {
			bomb(&ps, "unexpected end of file (expecting a suppression's name)");
			goto out;
		}
		if (strcmp(line, "}") == 0) {
			bomb(&ps, "unexpected '}' (expecting a suppression's name)");
			goto out;
		}
		free(name);
		name = strdup(line);
		name_line = ps.l.lineno;
		if (!name) {
			bomb(&ps, "out of memory");
			goto out;
		}
		if (!lt_supp_next_line(&ps.l, &line)) {
			bomb(&ps, "unexpected end of file (expecting tool:kind, e.g. Memcheck:Leak)");
			goto out;
		}
		const char *colon = strchr(line, ':');
		if (!colon || strcmp(line, "}") == 0) {
			bomb(&ps, "'%s' is not a tool:kind line (e.g. Memcheck:Leak)", line);
			goto out;
		}
		if (!tool_listed(line, (size_t)(colon - line), "Memcheck")) {
			if (skip_to_close(&ps, "another tool"))
				goto out;
			continue;
		}
		if (!known_kind(colon + 1)) {
			bomb(&ps, "unknown Memcheck suppression kind '%s'", colon + 1);
			goto out;
		}
		if (strcmp(colon + 1, "Leak") != 0) {
			/* Errors leaktrace does not look for. */
			if (skip_to_close(&ps, "a Memcheck error other than a leak"))
				goto out;
			continue;
		}
		struct lt_supp *s = lt_supp_add(set);
		if (!s) {
			bomb(&ps, "out of memory");
			goto out;
		}
		s->name = name;
		name = NULL;
		s->file = file;
		s->lineno = name_line;
		s->format = LT_SUPP_VALGRIND;
		if (read_leak(&ps, s))
			goto out;
	}
	rc = 0;
out:
	free(name);
	free(ps.l.buf);
	return rc;
}
