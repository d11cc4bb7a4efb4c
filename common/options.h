/* Options shared by the preloaded library and the leaktrace command.
 * Context: cold (start-up, CLI). Never allocates, never uses stdio, so the
 * preloaded library can parse LEAKTRACE_OPTIONS before the program runs. */
#ifndef LT_OPTIONS_H
#define LT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LT_OPT_PATH_MAX 1024
#define LT_OPT_LIST_MAX 8192      /* a list option: its values, '\n' between */

/* Sets of leak kinds (show_leak_kinds, errors_for_leak_kinds). */
#define LT_KINDS_DEFINITE 1u
#define LT_KINDS_INDIRECT 2u
#define LT_KINDS_POSSIBLE 4u
#define LT_KINDS_REACHABLE 8u
#define LT_KINDS_ALL 15u

/* leak_check values */
enum lt_leak_check { LT_LEAK_CHECK_NO, LT_LEAK_CHECK_SUMMARY, LT_LEAK_CHECK_FULL };

struct lt_options {
#define LT_OPT_BOOL(name, def, help) bool name;
#define LT_OPT_UINT(name, def, min, max, help) unsigned name;
#define LT_OPT_STRING(name, def, help) char name[LT_OPT_PATH_MAX];
#define LT_OPT_CHOICE(name, def, def_text, choices, help) unsigned name;
#define LT_OPT_KINDS(name, def, def_text, help) unsigned name;
#define LT_OPT_LIST(name, help) char name[LT_OPT_LIST_MAX];
#include "options.def"
#undef LT_OPT_BOOL
#undef LT_OPT_UINT
#undef LT_OPT_STRING
#undef LT_OPT_CHOICE
#undef LT_OPT_KINDS
#undef LT_OPT_LIST
};

enum lt_option_type {
	LT_OPTION_BOOL, LT_OPTION_UINT, LT_OPTION_STRING, LT_OPTION_CHOICE,
	LT_OPTION_KINDS,
	LT_OPTION_LIST,           /* repeatable: each setting adds a value */
};

struct lt_option_desc {
	const char *name;         /* with underscores */
	enum lt_option_type type;
	const char *default_text;
	unsigned min, max;        /* LT_OPTION_UINT only */
	const char *help;
	const char *choices;      /* LT_OPTION_CHOICE: "a|b|c" */
};

extern const struct lt_option_desc lt_option_table[];
extern const size_t lt_option_count;

void lt_options_defaults(struct lt_options *o);

/* Sets one option from a name (either '-' or '_' between words) and a value.
 * Besides the table's names it takes valgrind's spellings: quiet=yes,
 * verbose=yes (verbosity), show_possibly_lost=yes|no, leak_check=yes.
 * Returns 0, LT_OPTION_IGNORED for a valgrind option that does not apply
 * to leak checking (--track-origins, ...: see lt_option_ignored), or -1
 * with a one-line message in err naming the option. */
#define LT_OPTION_IGNORED 1
int lt_options_set(struct lt_options *o, const char *name, size_t name_len,
		   const char *value, size_t value_len, char *err, size_t errlen);

/* Whether name is one of valgrind's options that leaktrace accepts and
 * ignores: error checking that is not about leaks (--track-origins,
 * --malloc-fill, ...) and valgrind's own machinery (--vgdb, ...). */
bool lt_option_ignored(const char *name, size_t name_len);

/* Walks a list option: returns the next value and its length in *len, or
 * NULL after the last. Start with *cursor = NULL. */
const char *lt_options_list_next(const char *list, const char **cursor, size_t *len);

/* Parses "name=value:name=value". Empty items and ignored valgrind options
 * are skipped. */
int lt_options_parse_list(struct lt_options *o, const char *list, char *err,
			  size_t errlen);

/* Writes the options that differ from their defaults as a list that
 * lt_options_parse_list() reads back. Returns the length it needed (the
 * output is cut, still NUL-terminated, when len is too small). */
size_t lt_options_format(const struct lt_options *o, char *buf, size_t len);

/* Expands %p (pid) and %% in a file name pattern. Returns 0, or -1 when out
 * is too small or the pattern has an unknown % sequence. */
int lt_expand_path(const char *pattern, pid_t pid, char *out, size_t outlen);

/* The same, also expanding valgrind's %q{NAME} to the value of NAME in
 * envp (a NULL-terminated "NAME=value" array, e.g. environ). Returns 0, or
 * -1 with a one-line reason in err (an unset variable is an error, as in
 * valgrind). */
int lt_expand_path_env(const char *pattern, pid_t pid, char *const *envp,
		       char *out, size_t outlen, char *err, size_t errlen);

/* The same for a report's files: %n is the report's sequence number in
 * its process (1 for the first, counting reports on demand and at exit). */
int lt_expand_report_path(const char *pattern, pid_t pid, uint32_t sequence,
			  char *const *envp, char *out, size_t outlen, char *err,
			  size_t errlen);

#endif
