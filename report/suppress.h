/* Suppressions: loss records a user has decided not to hear about, named
 * in valgrind's .supp format (Memcheck:Leak blocks) or LeakSanitizer's
 * (leak:PATTERN lines), matched against each record's stack as those tools
 * match them, and counted as valgrind counts them (LEAK SUMMARY
 * "suppressed:", ERROR SUMMARY "(suppressed: N from M)", -s's list). Also
 * the other direction: valgrind suppressions written for records
 * (--gen-suppressions).
 * Context: offline side only. Files are untrusted input: any problem is a
 * one-line error naming the file and the line. */
#ifndef LT_SUPPRESS_H
#define LT_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

enum lt_supp_format { LT_SUPP_VALGRIND, LT_SUPP_LSAN };

enum lt_supp_loc_type {
	LT_SUPP_FUN,              /* fun:PATTERN, on the function's mangled name */
	LT_SUPP_OBJ,              /* obj:PATTERN, on the module's path */
	LT_SUPP_SRC,              /* src:PATTERN[:LINE], on the source file's name */
	LT_SUPP_DOTS,             /* "...": any number of frames, none included */
};

struct lt_supp_loc {
	enum lt_supp_loc_type type;
	char *pattern;            /* with valgrind's wildcards * and ? */
	unsigned line;            /* src: only; 0 matches any line */
};

struct lt_supp {
	char *name;               /* valgrind: its name line; LSan: "leak:PATTERN" */
	const char *file;         /* the file as it was named */
	unsigned lineno;          /* of the name line, or of the leak: line */
	enum lt_supp_format format;
	unsigned kinds;           /* LT_KINDS_* it applies to (match-leak-kinds) */
	struct lt_supp_loc *locs; /* valgrind: the frame lines, in order */
	size_t nlocs;
	char *pattern;            /* LSan: with * wildcards, ^ and $ anchors */
	/* What it suppressed (lt_supp_apply): records, their bytes (direct
	 * and indirect, as valgrind's -s says) and blocks. */
	uint64_t count, bytes, blocks;
};

struct lt_supp_set {
	/* In valgrind's search order: the last suppression read is tried
	 * first, and each one that matches moves to the front. */
	struct lt_supp **order;
	size_t count;
	char **files;             /* the files read, as named */
	size_t nfiles;
};

/* Reads one suppressions file (either format, told by its first line) and
 * adds its suppressions to set. Returns 0, or -1 with a one-line message
 * in err: "FILE: reason" or "FILE:LINE: reason". */
int lt_supp_load(struct lt_supp_set *set, const char *path, char *err, size_t errlen);

/* The built-in suppressions (default_supp.c), read first unless the
 * option default_suppressions is off. */
extern const char lt_default_suppressions_name[];
extern const char lt_default_suppressions[];
extern const unsigned long lt_default_suppressions_len;

/* The same from memory; file is the name used in messages. */
int lt_supp_parse(struct lt_supp_set *set, const char *file, const char *text, size_t len,
		  char *err, size_t errlen);

/* Loads every file of opts->suppressions, in order. */
int lt_supp_load_options(struct lt_supp_set *set, const struct lt_options *opts,
			 char *err, size_t errlen);

void lt_supp_free(struct lt_supp_set *set);

/* One display frame as suppressions see it. */
struct lt_supp_frame {
	const char *fn;           /* as in the binary (mangled), NULL if unknown */
	const char *shown_fn;     /* as the report shows it (demangled) */
	const char *obj;          /* module path, NULL if none */
	const char *dir, *file;   /* source, NULL if unknown */
	unsigned line;
	bool entry;               /* frame 0: the allocation function */
};

/* Whether s matches a record of this kind whose stack, cut to num_callers
 * addresses and with inlined calls expanded, is frames[0..n). */
bool lt_supp_matches(const struct lt_supp *s, unsigned kind,
		     const struct lt_supp_frame *frames, size_t n);

/* Marks the records of rs that a suppression of set matches (every
 * record, shown or not, as valgrind does), moves their blocks from
 * kind_bytes/kind_blocks to suppressed_bytes/suppressed_blocks, counts
 * each suppression's use, and makes rs->supps point at set. Mapping
 * records are matched the same way, on their stack (which starts at mmap
 * or mremap) and kind, their mappings moved from map_kind_* to
 * map_suppressed_*. Returns the number of records (loss and mapping)
 * suppressed, or -1 when out of memory. */
long lt_supp_apply(struct lt_supp_set *set, const struct lt_snapshot *snap,
		   const struct lt_frame_source *src, unsigned num_callers,
		   struct lt_records *rs);

/* For the command line, before the program runs: reads every file of
 * opts->suppressions. Returns 0, or -1 with the problem in err. */
int lt_supp_check(const struct lt_options *opts, char *err, size_t errlen);

/* ---- --gen-suppressions ---- */

/* valgrind's suppression for a record (loss or mapping record) of this
 * stack and kind, as text ("{" ... "}\n") or as the <suppression> element
 * of valgrind's XML, indented for inside <error>. */
void lt_supp_write_text(struct lt_outbuf *out, const struct lt_snapshot *snap,
			const struct lt_frame_source *src, unsigned num_callers,
			uint32_t stack_id, unsigned kind);
void lt_supp_write_xml(struct lt_outbuf *out, const struct lt_snapshot *snap,
		       const struct lt_frame_source *src, unsigned num_callers,
		       uint32_t stack_id, unsigned kind);

/* ---- used by the parsers (suppress_valgrind.c, suppress_lsan.c) ---- */

/* A new suppression, owned by set; NULL when out of memory. */
struct lt_supp *lt_supp_add(struct lt_supp_set *set);

/* valgrind's wildcard match of a whole string: * any run, ? one
 * character, \ quotes the next. */
bool lt_supp_glob(const char *pattern, const char *s);

/* LeakSanitizer's: pattern anywhere in s, * any run, ^ anchors at the
 * start, $ at the end. */
bool lt_supp_lsan_match(const char *pattern, const char *s);

int lt_supp_parse_valgrind(struct lt_supp_set *set, const char *file, const char *text,
			   size_t len, char *err, size_t errlen);
int lt_supp_parse_lsan(struct lt_supp_set *set, const char *file, const char *text,
		       size_t len, char *err, size_t errlen);

/* Line reader shared by the parsers: the next line that is not blank and
 * not a comment ('#' after blanks), without leading and trailing blanks.
 * Returns false at the end. */
struct lt_supp_lines {
	const char *p, *end;
	unsigned lineno;          /* of the line returned */
	char *buf;
	size_t cap;
};
bool lt_supp_next_line(struct lt_supp_lines *l, const char **line);

#endif
