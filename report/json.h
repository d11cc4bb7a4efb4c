/* JSON for the machine-readable reports: a small writer over struct
 * lt_outbuf (always valid UTF-8 out, whatever bytes come in) and a small,
 * bounded reader for what we read back (baselines).
 * Context: offline side only. The reader takes untrusted input: it never
 * recurses deeper, allocates more or reads further than its limits say. */
#ifndef LT_JSON_H
#define LT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

/* ---- json_write.c ---- */

#define LT_JW_MAX_DEPTH 32

struct lt_json_writer {
	struct lt_outbuf *out;
	unsigned depth;           /* open containers */
	unsigned inline_depth;    /* from this depth on, one line; 0: none */
	bool after_key;           /* a key was written, its value comes next */
	bool has_items[LT_JW_MAX_DEPTH + 1];
	char closers[LT_JW_MAX_DEPTH + 1];  /* '}' or ']' per open container */
	bool failed;              /* misuse (too deep, unbalanced): a bug */
};

/* Length of the valid UTF-8 sequence at s (n >= 1 bytes left), 0 if
 * invalid: no overlong forms, no surrogates, nothing above U+10FFFF. The
 * writer escapes what fails it; the reader rejects it. */
size_t lt_utf8_valid(const unsigned char *s, size_t n);

void lt_jw_init(struct lt_json_writer *w, struct lt_outbuf *out);

/* Containers. The _inline forms keep the container and everything in it
 * on one line (frames, small objects). */
void lt_jw_object(struct lt_json_writer *w);
void lt_jw_object_inline(struct lt_json_writer *w);
void lt_jw_array(struct lt_json_writer *w);
void lt_jw_array_inline(struct lt_json_writer *w);
void lt_jw_end(struct lt_json_writer *w);
/* Ends the document with a newline. Returns 0, or -1 if the writer was
 * misused (containers left open or closed too often). */
int lt_jw_finish(struct lt_json_writer *w);

/* Values. A NULL string is written as null. Strings may hold any bytes:
 * what is not valid UTF-8 becomes U+FFFD, control characters are
 * escaped. */
void lt_jw_key(struct lt_json_writer *w, const char *key);
void lt_jw_string(struct lt_json_writer *w, const char *s);
void lt_jw_stringn(struct lt_json_writer *w, const char *s, size_t n);
void lt_jw_u64(struct lt_json_writer *w, uint64_t v);
void lt_jw_bool(struct lt_json_writer *w, bool v);
void lt_jw_null(struct lt_json_writer *w);
/* A string "0x1a2b" (addresses do not fit a double). */
void lt_jw_hex(struct lt_json_writer *w, uint64_t v);

/* Member shorthands: key, then value. */
void lt_jw_kstring(struct lt_json_writer *w, const char *key, const char *s);
void lt_jw_ku64(struct lt_json_writer *w, const char *key, uint64_t v);
void lt_jw_kbool(struct lt_json_writer *w, const char *key, bool v);

/* The escaped form of n bytes of s, quotes included, into out. Shared
 * with the tests. */
void lt_json_put_string(struct lt_outbuf *out, const char *s, size_t n);

/* ---- json_read.c ---- */

enum lt_json_type {
	LT_JSON_NULL, LT_JSON_FALSE, LT_JSON_TRUE, LT_JSON_NUMBER,
	LT_JSON_STRING, LT_JSON_ARRAY, LT_JSON_OBJECT,
};

/* A parsed value. Children of arrays and objects, and the top-level
 * values of a document, are chained through next (0 ends a chain: node 0
 * is never a child). Strings are decoded to UTF-8 and NUL-terminated
 * (len excludes the NUL; they may hold NUL bytes from \u0000); numbers
 * keep their text. */
struct lt_json_node {
	uint8_t type;             /* enum lt_json_type */
	uint32_t next;            /* next sibling, 0 if none */
	uint32_t child;           /* first child, 0 if none */
	uint32_t count;           /* number of children */
	const char *key;          /* member of an object: its decoded name */
	size_t key_len;
	const char *str;          /* strings: decoded; numbers: as written */
	size_t len;
};

struct lt_json_limits {
	size_t max_bytes;         /* input size */
	unsigned max_depth;       /* nesting of arrays and objects */
	size_t max_nodes;         /* values in the whole document */
};

/* What baselines are read with: 64 MiB, depth 32, 4 Mi values. */
extern const struct lt_json_limits lt_json_default_limits;

struct lt_json_doc {
	struct lt_json_node *nodes;  /* nodes[0] is a sentinel */
	size_t count;
	uint32_t first;           /* first top-level value, 0 if none */
	size_t nvalues;           /* top-level values */
	char *strings;            /* decoded strings */
};

/* Parses text. With multiple, a sequence of top-level values separated
 * by white space is accepted (concatenated reports); otherwise exactly
 * one. Returns 0, or -1 with a one-line reason ("line L, column C: ...")
 * in err; doc is then empty. */
int lt_json_parse(const char *text, size_t len, const struct lt_json_limits *lim,
		  bool multiple, struct lt_json_doc *doc, char *err, size_t errlen);

void lt_json_free(struct lt_json_doc *doc);

/* Node navigation; all return NULL (or false) on a missing or mistyped
 * value, and accept NULL. */
const struct lt_json_node *lt_json_at(const struct lt_json_doc *doc, uint32_t index);
const struct lt_json_node *lt_json_first(const struct lt_json_doc *doc,
					 const struct lt_json_node *container);
const struct lt_json_node *lt_json_next(const struct lt_json_doc *doc,
					const struct lt_json_node *n);
/* The member named key of an object (the first one, if repeated). */
const struct lt_json_node *lt_json_get(const struct lt_json_doc *doc,
				       const struct lt_json_node *obj, const char *key);
/* The string value of member key, or NULL. */
const char *lt_json_get_string(const struct lt_json_doc *doc,
			       const struct lt_json_node *obj, const char *key);
/* A non-negative integer without fraction or exponent, into *out. */
bool lt_json_u64(const struct lt_json_node *n, uint64_t *out);

#endif
