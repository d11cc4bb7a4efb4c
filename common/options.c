/* Parsing of the options table in options.def.
 * Context: cold. Used inside the traced process before main, so it never
 * allocates, never calls stdio or getenv: callers pass the strings in. */
#include "options.h"

#include <string.h>

#include "strbuf.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const struct lt_option_desc lt_option_table[] = {
#define LT_OPT_BOOL(name, def, help) { #name, LT_OPTION_BOOL, (def) ? "yes" : "no", 0, 0, help, NULL },
#define LT_OPT_UINT(name, def, min, max, help) { #name, LT_OPTION_UINT, STR(def), min, max, help, NULL },
#define LT_OPT_STRING(name, def, help) { #name, LT_OPTION_STRING, def, 0, 0, help, NULL },
#define LT_OPT_CHOICE(name, def, def_text, choices, help) \
	{ #name, LT_OPTION_CHOICE, def_text, 0, 0, help, choices },
#define LT_OPT_KINDS(name, def, def_text, help) { #name, LT_OPTION_KINDS, def_text, 0, 0, help, NULL },
#include "options.def"
#undef LT_OPT_BOOL
#undef LT_OPT_UINT
#undef LT_OPT_STRING
#undef LT_OPT_CHOICE
#undef LT_OPT_KINDS
};
const size_t lt_option_count = sizeof(lt_option_table) / sizeof(lt_option_table[0]);

void lt_options_defaults(struct lt_options *o)
{
	memset(o, 0, sizeof(*o));
#define LT_OPT_BOOL(name, def, help) o->name = (def);
#define LT_OPT_UINT(name, def, min, max, help) o->name = (def);
#define LT_OPT_STRING(name, def, help) memcpy(o->name, def, sizeof(def));
#define LT_OPT_CHOICE(name, def, def_text, choices, help) o->name = (def);
#define LT_OPT_KINDS(name, def, def_text, help) o->name = (def);
#include "options.def"
#undef LT_OPT_BOOL
#undef LT_OPT_UINT
#undef LT_OPT_STRING
#undef LT_OPT_CHOICE
#undef LT_OPT_KINDS
}

/* Compares an option name as typed, where '-' and '_' are the same. */
static bool name_matches(const char *canonical, const char *name, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++) {
		char c = name[i] == '-' ? '_' : name[i];
		if (canonical[i] != c)
			return false;
	}
	return canonical[i] == '\0';
}

static void error_text(char *err, size_t errlen, const char *what,
		       const char *name, size_t name_len, const char *tail)
{
	struct lt_strbuf sb;
	if (!err || !errlen)
		return;
	lt_strbuf_init(&sb, err, errlen);
	lt_strbuf_puts(&sb, what);
	lt_strbuf_puts(&sb, " '");
	lt_strbuf_putn(&sb, name, name_len);
	lt_strbuf_puts(&sb, "'");
	lt_strbuf_puts(&sb, tail);
}

static bool equals(const char *value, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(value, word, len) == 0;
}

static int parse_bool(const char *value, size_t len, bool *out)
{
	if (equals(value, len, "yes") || equals(value, len, "1") ||
	    equals(value, len, "true")) {
		*out = true;
		return 0;
	}
	if (equals(value, len, "no") || equals(value, len, "0") ||
	    equals(value, len, "false")) {
		*out = false;
		return 0;
	}
	return -1;
}

static int parse_uint(const char *value, size_t len, unsigned min,
		      unsigned max, unsigned *out)
{
	unsigned long long v = 0;
	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(value[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* The index of value among "a|b|c". */
static int parse_choice(const char *value, size_t len, const char *choices, unsigned *out)
{
	unsigned index = 0;
	for (const char *c = choices;; index++) {
		size_t n = strcspn(c, "|");
		if (n == len && memcmp(c, value, len) == 0) {
			*out = index;
			return 0;
		}
		if (!c[n])
			return -1;
		c += n + 1;
	}
}

static const char *const kind_names[] = { "definite", "indirect", "possible", "reachable" };

/* "definite,possible", "all" or "none" into LT_KINDS_* bits. */
static int parse_kinds(const char *value, size_t len, unsigned *out)
{
	unsigned mask = 0;
	if (equals(value, len, "all")) {
		*out = LT_KINDS_ALL;
		return 0;
	}
	if (equals(value, len, "none")) {
		*out = 0;
		return 0;
	}
	while (len) {
		const char *comma = memchr(value, ',', len);
		size_t n = comma ? (size_t)(comma - value) : len;
		unsigned k;
		for (k = 0; k < 4; k++)
			if (equals(value, n, kind_names[k]))
				break;
		if (k == 4)
			return -1;
		mask |= 1u << k;
		value += n;
		len -= n;
		if (comma) {
			value++;
			len--;
			if (!len)
				return -1;
		}
	}
	if (!mask)
		return -1;
	*out = mask;
	return 0;
}

static int set_string(char *dst, const char *value, size_t len)
{
	if (len >= LT_OPT_PATH_MAX || memchr(value, '\0', len))
		return -1;
	memcpy(dst, value, len);
	dst[len] = '\0';
	return 0;
}

/* valgrind's older spelling: show_reachable=yes|no sets show_leak_kinds. */
static void apply_alias(struct lt_options *o, const char *name)
{
	if (strcmp(name, "show_reachable") == 0)
		o->show_leak_kinds = o->show_reachable ? LT_KINDS_ALL
						       : LT_KINDS_DEFINITE | LT_KINDS_POSSIBLE;
}

int lt_options_set(struct lt_options *o, const char *name, size_t name_len,
		   const char *value, size_t value_len, char *err, size_t errlen)
{
	int rc;
#define LT_OPT_BOOL(oname, def, help)                                         \
	if (name_matches(#oname, name, name_len)) {                           \
		rc = parse_bool(value, value_len, &o->oname);                 \
		if (rc)                                                       \
			error_text(err, errlen, "option", name, name_len,     \
				   " expects yes or no");                     \
		else                                                          \
			apply_alias(o, #oname);                               \
		return rc;                                                    \
	}
#define LT_OPT_UINT(oname, def, min, max, help)                               \
	if (name_matches(#oname, name, name_len)) {                           \
		rc = parse_uint(value, value_len, min, max, &o->oname);       \
		if (rc)                                                       \
			error_text(err, errlen, "option", name, name_len,     \
				   " expects a number from " #min " to " #max); \
		return rc;                                                    \
	}
#define LT_OPT_STRING(oname, def, help)                                       \
	if (name_matches(#oname, name, name_len)) {                           \
		rc = set_string(o->oname, value, value_len);                  \
		if (rc)                                                       \
			error_text(err, errlen, "option", name, name_len,     \
				   " has a value that is too long");          \
		return rc;                                                    \
	}
#define LT_OPT_CHOICE(oname, def, def_text, choices, help)                              \
	if (name_matches(#oname, name, name_len)) {                           \
		rc = parse_choice(value, value_len, choices, &o->oname);      \
		if (rc)                                                       \
			error_text(err, errlen, "option", name, name_len,     \
				   " expects one of: " choices);              \
		return rc;                                                    \
	}
#define LT_OPT_KINDS(oname, def, def_text, help)                              \
	if (name_matches(#oname, name, name_len)) {                           \
		rc = parse_kinds(value, value_len, &o->oname);                \
		if (rc)                                                       \
			error_text(err, errlen, "option", name, name_len,     \
				   " expects a list of definite,indirect,possible,reachable, or all, or none"); \
		else if (name_matches("show_leak_kinds", #oname, sizeof(#oname) - 1)) \
			o->show_reachable = false; /* the later option wins */ \
		return rc;                                                    \
	}
#include "options.def"
#undef LT_OPT_BOOL
#undef LT_OPT_UINT
#undef LT_OPT_STRING
#undef LT_OPT_CHOICE
#undef LT_OPT_KINDS
	error_text(err, errlen, "unknown option", name, name_len, "");
	return -1;
}

int lt_options_parse_list(struct lt_options *o, const char *list, char *err,
			  size_t errlen)
{
	const char *p = list;
	while (*p) {
		const char *end = strchr(p, ':');
		size_t item_len = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', item_len);
		if (item_len == 0) {
			p += 1;
			continue;
		}
		if (!eq) {
			error_text(err, errlen, "malformed option", p, item_len,
				   " (expected name=value)");
			return -1;
		}
		if (lt_options_set(o, p, (size_t)(eq - p), eq + 1,
				   item_len - (size_t)(eq - p) - 1, err, errlen))
			return -1;
		p += item_len;
		if (*p == ':')
			p++;
	}
	return 0;
}

static void put_choice(struct lt_strbuf *sb, const char *choices, unsigned index)
{
	const char *c = choices;
	for (unsigned i = 0; i < index && strchr(c, '|'); i++)
		c = strchr(c, '|') + 1;
	lt_strbuf_putn(sb, c, strcspn(c, "|"));
}

static void put_kinds(struct lt_strbuf *sb, unsigned mask)
{
	bool first = true;
	if (mask == 0) {
		lt_strbuf_puts(sb, "none");
		return;
	}
	if (mask == LT_KINDS_ALL) {
		lt_strbuf_puts(sb, "all");
		return;
	}
	for (unsigned k = 0; k < 4; k++) {
		if (!(mask & (1u << k)))
			continue;
		if (!first)
			lt_strbuf_puts(sb, ",");
		lt_strbuf_puts(sb, kind_names[k]);
		first = false;
	}
}

size_t lt_options_format(const struct lt_options *o, char *buf, size_t len)
{
	struct lt_options defaults;
	struct lt_strbuf sb;
	lt_options_defaults(&defaults);
	lt_strbuf_init(&sb, buf, len);
#define SEP() do { if (sb.len) lt_strbuf_puts(&sb, ":"); } while (0)
#define LT_OPT_BOOL(name, def, help)                                          \
	if (o->name != defaults.name) {                                       \
		SEP();                                                        \
		lt_strbuf_puts(&sb, #name "=");                               \
		lt_strbuf_puts(&sb, o->name ? "yes" : "no");                  \
	}
#define LT_OPT_UINT(name, def, min, max, help)                                \
	if (o->name != defaults.name) {                                       \
		SEP();                                                        \
		lt_strbuf_puts(&sb, #name "=");                               \
		lt_strbuf_putu(&sb, o->name);                                 \
	}
#define LT_OPT_STRING(name, def, help)                                        \
	if (strcmp(o->name, defaults.name) != 0) {                            \
		SEP();                                                        \
		lt_strbuf_puts(&sb, #name "=");                               \
		lt_strbuf_puts(&sb, o->name);                                 \
	}
#define LT_OPT_CHOICE(name, def, def_text, choices, help)                               \
	if (o->name != defaults.name) {                                       \
		SEP();                                                        \
		lt_strbuf_puts(&sb, #name "=");                               \
		put_choice(&sb, choices, o->name);                            \
	}
#define LT_OPT_KINDS(name, def, def_text, help)                               \
	if (o->name != defaults.name) {                                       \
		SEP();                                                        \
		lt_strbuf_puts(&sb, #name "=");                               \
		put_kinds(&sb, o->name);                                      \
	}
#include "options.def"
#undef LT_OPT_BOOL
#undef LT_OPT_UINT
#undef LT_OPT_STRING
#undef LT_OPT_CHOICE
#undef LT_OPT_KINDS
#undef SEP
	return sb.len;
}

int lt_expand_path(const char *pattern, pid_t pid, char *out, size_t outlen)
{
	struct lt_strbuf sb;
	lt_strbuf_init(&sb, out, outlen);
	for (const char *p = pattern; *p; p++) {
		if (*p != '%') {
			lt_strbuf_putn(&sb, p, 1);
			continue;
		}
		p++;
		if (*p == 'p')
			lt_strbuf_putu(&sb, (uint64_t)pid);
		else if (*p == '%')
			lt_strbuf_putn(&sb, "%", 1);
		else
			return -1;
	}
	return lt_strbuf_fits(&sb) ? 0 : -1;
}
