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
#define LT_OPT_LIST(name, help) { #name, LT_OPTION_LIST, "", 0, 0, help, NULL },
#include "options.def"
#undef LT_OPT_BOOL
#undef LT_OPT_UINT
#undef LT_OPT_STRING
#undef LT_OPT_CHOICE
#undef LT_OPT_KINDS
#undef LT_OPT_LIST
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
#define LT_OPT_LIST(name, help) o->name[0] = '\0';
#include "options.def"
#undef LT_OPT_BOOL
#undef LT_OPT_UINT
#undef LT_OPT_STRING
#undef LT_OPT_CHOICE
#undef LT_OPT_KINDS
#undef LT_OPT_LIST
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

/* A list option: each setting adds a value; an empty one empties it. */
static int set_list(char *dst, const char *value, size_t len)
{
	size_t used = strlen(dst);
	if (len == 0) {
		dst[0] = '\0';
		return 0;
	}
	if (memchr(value, '\0', len) || memchr(value, '\n', len) ||
	    used + (used != 0) + len >= LT_OPT_LIST_MAX)
		return -1;
	if (used)
		dst[used++] = '\n';
	memcpy(dst + used, value, len);
	dst[used + len] = '\0';
	return 0;
}

const char *lt_options_list_next(const char *list, const char **cursor, size_t *len)
{
	const char *p = *cursor ? *cursor : list;
	if (!*p)
		return NULL;
	const char *end = strchr(p, '\n');
	*len = end ? (size_t)(end - p) : strlen(p);
	*cursor = end ? end + 1 : p + *len;
	return p;
}

/* valgrind options that leaktrace takes and ignores: memcheck's checks of
 * memory accesses and of frees, which need instrumentation, and valgrind's
 * own machinery. What they would change is not a leak verdict. */
static const char *const ignored_options[] = {
	/* memcheck, not about leaks */
	"undef_value_errors", "track_origins", "partial_loads_ok",
	"expensive_definedness_checks", "keep_stacktraces", "freelist_vol",
	"freelist_big_blocks", "workaround_gcc296_bugs", "ignore_ranges",
	"ignore_range_below_sp", "malloc_fill", "free_fill",
	"show_mismatched_frees", "realloc_zero_bytes_frees", "show_realloc_size_zero",
	"check_leak_kinds_of_free",
	/* valgrind's core */
	"demangle", "time_stamp", "track_fds", "vgdb", "vgdb_error", "vgdb_stop_at",
	"vgdb_shadow_registers", "vgdb_prefix", "vgdb_poll", "read_var_info",
	"read_inline_info", "error_limit", "error_markers", "exit_on_first_error",
	"show_below_main", "fullpath_after", "max_stackframe", "main_stacksize",
	"max_threads", "smc_check", "keep_debuginfo", "sym_offsets", "run_libc_freeres",
	"run_cxx_freeres", "sim_hints", "fair_sched", "merge_recursive_frames",
	"num_transtab_sectors", "avg_transtab_entry_size", "aspace_minaddr",
	"valgrind_stacksize", "show_emwarns", "require_text_symbol", "soname_synonyms",
	"progress_interval", "extra_debuginfo_path", "debuginfo_server",
	"allow_mismatched_debuginfo", "xml_user_comment",
	"trace_children_skip", "trace_children_skip_by_arg", "redzone_size",
	"core_redzone_size", "alignment", "stats", "trace_malloc", "xtree_memory",
	"xtree_memory_file", "xtree_compress_strings", "dsymutil",
};

bool lt_option_ignored(const char *name, size_t name_len)
{
	for (size_t i = 0; i < sizeof(ignored_options) / sizeof(ignored_options[0]); i++)
		if (name_matches(ignored_options[i], name, name_len))
			return true;
	return false;
}

/* valgrind's spellings that set an option of the table. Returns 0 set,
 * -1 bad value (err says so), 1 not an alias. */
static int set_alias(struct lt_options *o, const char *name, size_t name_len,
		     const char *value, size_t value_len, char *err, size_t errlen)
{
	bool b;
	if (name_matches("quiet", name, name_len) || name_matches("verbose", name, name_len) ||
	    name_matches("show_possibly_lost", name, name_len)) {
		if (parse_bool(value, value_len, &b)) {
			error_text(err, errlen, "option", name, name_len, " expects yes or no");
			return -1;
		}
		if (name_matches("quiet", name, name_len))
			o->verbosity = b ? 0 : 1;
		else if (name_matches("verbose", name, name_len))
			o->verbosity = !b ? 1 : o->verbosity < 4 ? o->verbosity + 1 : 4;
		else if (b)
			o->show_leak_kinds |= LT_KINDS_POSSIBLE;
		else
			o->show_leak_kinds &= ~LT_KINDS_POSSIBLE;
		/* show_leak_kinds now says it all */
		if (name_matches("show_possibly_lost", name, name_len))
			o->show_reachable = false;
		return 0;
	}
	/* The scan always applies valgrind's default heuristics: all. */
	if (name_matches("leak_check_heuristics", name, name_len)) {
		if (equals(value, value_len, "all"))
			return 0;
		error_text(err, errlen, "option", name, name_len,
			   ": only 'all' is supported (the scan always applies "
			   "stdstring, length64, newarray and multipleinheritance)");
		return -1;
	}
	/* --leak-check=yes is valgrind's older spelling of full. */
	if (name_matches("leak_check", name, name_len) && equals(value, value_len, "yes")) {
		o->leak_check = LT_LEAK_CHECK_FULL;
		return 0;
	}
	return 1;
}

int lt_options_set(struct lt_options *o, const char *name, size_t name_len,
		   const char *value, size_t value_len, char *err, size_t errlen)
{
	int rc = set_alias(o, name, name_len, value, value_len, err, errlen);
	if (rc <= 0)
		return rc;
	if (lt_option_ignored(name, name_len))
		return LT_OPTION_IGNORED;
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
#define LT_OPT_LIST(oname, help)                                              \
	if (name_matches(#oname, name, name_len)) {                           \
		rc = set_list(o->oname, value, value_len);                    \
		if (rc)                                                       \
			error_text(err, errlen, "option", name, name_len,     \
				   ": too many values, or a value too long");  \
		return rc;                                                    \
	}
#include "options.def"
#undef LT_OPT_BOOL
#undef LT_OPT_UINT
#undef LT_OPT_STRING
#undef LT_OPT_CHOICE
#undef LT_OPT_KINDS
#undef LT_OPT_LIST
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
				   item_len - (size_t)(eq - p) - 1, err, errlen) < 0)
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
	size_t n;
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
#define LT_OPT_LIST(name, help)                                               \
	for (const char *cur = NULL, *v; (v = lt_options_list_next(o->name, &cur, &n));) { \
		SEP();                                                        \
		lt_strbuf_puts(&sb, #name "=");                               \
		lt_strbuf_putn(&sb, v, n);                                    \
	}
#include "options.def"
#undef LT_OPT_BOOL
#undef LT_OPT_UINT
#undef LT_OPT_STRING
#undef LT_OPT_CHOICE
#undef LT_OPT_KINDS
#undef LT_OPT_LIST
#undef SEP
	return sb.len;
}

int lt_expand_path(const char *pattern, pid_t pid, char *out, size_t outlen)
{
	return lt_expand_path_env(pattern, pid, NULL, out, outlen, NULL, 0);
}

static const char *env_lookup(char *const *envp, const char *name, size_t len)
{
	for (char *const *e = envp; e && *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

/* valgrind's %p, %q{NAME} and %%; anything else after % is an error. */
int lt_expand_path_env(const char *pattern, pid_t pid, char *const *envp,
		       char *out, size_t outlen, char *err, size_t errlen)
{
	return lt_expand_report_path(pattern, pid, 0, envp, out, outlen, err, errlen);
}

int lt_expand_report_path(const char *pattern, pid_t pid, uint32_t sequence,
			  char *const *envp, char *out, size_t outlen, char *err,
			  size_t errlen)
{
	struct lt_strbuf sb, eb;
	lt_strbuf_init(&sb, out, outlen);
	lt_strbuf_init(&eb, err, err ? errlen : 0);
	for (const char *p = pattern; *p; p++) {
		if (*p != '%') {
			lt_strbuf_putn(&sb, p, 1);
			continue;
		}
		p++;
		if (*p == 'p') {
			lt_strbuf_putu(&sb, (uint64_t)pid);
		} else if (*p == 'n' && sequence) {
			lt_strbuf_putu(&sb, sequence);
		} else if (*p == '%') {
			lt_strbuf_putn(&sb, "%", 1);
		} else if (*p == 'q' && envp && p[1] == '{' && strchr(p + 2, '}')) {
			const char *name = p + 2, *close = strchr(name, '}');
			const char *value = env_lookup(envp, name, (size_t)(close - name));
			if (!value) {
				lt_strbuf_puts(&eb, "environment variable ");
				lt_strbuf_putn(&eb, name, (size_t)(close - name));
				lt_strbuf_puts(&eb, " (named by %q{...}) is not set");
				return -1;
			}
			lt_strbuf_puts(&sb, value);
			p = close;
		} else {
			lt_strbuf_puts(&eb, sequence ? "unknown % sequence (known: %p, %n, %q{NAME}, %%)"
					    : envp ? "unknown % sequence (known: %p, %q{NAME}, %%)"
						   : "unknown % sequence (known: %p, %%)");
			return -1;
		}
	}
	if (!lt_strbuf_fits(&sb)) {
		lt_strbuf_puts(&eb, "the file name is too long");
		return -1;
	}
	return 0;
}
