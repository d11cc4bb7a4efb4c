/* A small JSON reader (RFC 8259) for what leaktrace reads back: baseline
 * files. Builds an array of nodes; strings decoded into one buffer.
 * Context: offline side only; the input is untrusted. Bounded: input
 * size, nesting depth (the recursion) and node count are capped by
 * struct lt_json_limits, and the decoded strings fit in one buffer the
 * size of the input. Every error is a one-line message with its position;
 * nothing is read past the end. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct lt_json_limits lt_json_default_limits = {
	.max_bytes = (size_t)64 << 20,
	.max_depth = 32,
	.max_nodes = (size_t)4 << 20,
};

struct parser {
	const char *s;
	size_t len, pos;
	const struct lt_json_limits *lim;
	struct lt_json_doc *doc;
	size_t cap;               /* nodes allocated */
	char *sp;                 /* next free byte in doc->strings */
	char *err;
	size_t errlen;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static uint32_t fail(struct parser *p, const char *fmt, ...)
{
	size_t line = 1, col = 1;
	char what[160];
	va_list ap;
	if (p->failed)
		return 0;
	p->failed = true;
	for (size_t i = 0; i < p->pos && i < p->len; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "line %zu, column %zu: %s", line, col, what);
	return 0;
}

/* Says what is at the current position, printable or as a byte value. */
static uint32_t unexpected(struct parser *p, const char *expected)
{
	if (p->pos >= p->len)
		return fail(p, "unexpected end of input (truncated?), expected %s", expected);
	unsigned char c = (unsigned char)p->s[p->pos];
	if (c > 0x20 && c < 0x7f)
		return fail(p, "unexpected '%c', expected %s", c, expected);
	return fail(p, "unexpected byte 0x%02x, expected %s", c, expected);
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static uint32_t new_node(struct parser *p, enum lt_json_type type)
{
	struct lt_json_doc *d = p->doc;
	if (d->count > p->lim->max_nodes)
		return fail(p, "more than %zu values", p->lim->max_nodes);
	if (d->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		if (cap > p->lim->max_nodes + 1)
			cap = p->lim->max_nodes + 1;
		struct lt_json_node *n = realloc(d->nodes, cap * sizeof(*n));
		if (!n)
			return fail(p, "out of memory");
		d->nodes = n;
		p->cap = cap;
	}
	memset(&d->nodes[d->count], 0, sizeof(d->nodes[0]));
	d->nodes[d->count].type = (uint8_t)type;
	return (uint32_t)d->count++;
}

static int hex4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void put_utf8(struct parser *p, uint32_t cp)
{
	if (cp < 0x80) {
		*p->sp++ = (char)cp;
	} else if (cp < 0x800) {
		*p->sp++ = (char)(0xc0 | cp >> 6);
		*p->sp++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*p->sp++ = (char)(0xe0 | cp >> 12);
		*p->sp++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*p->sp++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*p->sp++ = (char)(0xf0 | cp >> 18);
		*p->sp++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*p->sp++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*p->sp++ = (char)(0x80 | (cp & 0x3f));
	}
}

static int parse_string(struct parser *p, const char **out, size_t *out_len)
{
	char *start = p->sp;
	p->pos++;
	for (;;) {
		if (p->pos >= p->len) {
			unexpected(p, "'\"' to end the string");
			return -1;
		}
		unsigned char c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20) {
			fail(p, "control character 0x%02x in a string (must be escaped)", c);
			return -1;
		}
		if (c >= 0x80) {
			size_t n = lt_utf8_valid((const unsigned char *)p->s + p->pos, p->len - p->pos);
			if (!n) {
				fail(p, "invalid UTF-8 in a string");
				return -1;
			}
			memcpy(p->sp, p->s + p->pos, n);
			p->sp += n;
			p->pos += n;
			continue;
		}
		if (c != '\\') {
			*p->sp++ = (char)c;
			p->pos++;
			continue;
		}
		if (p->pos + 1 >= p->len) {
			p->pos++;
			unexpected(p, "an escape sequence");
			return -1;
		}
		char e = p->s[p->pos + 1];
		const char *simple = strchr("\"\\/bfnrt", e);
		if (e && simple) {
			static const char decoded[] = "\"\\/\b\f\n\r\t";
			*p->sp++ = decoded[simple - "\"\\/bfnrt"];
			p->pos += 2;
			continue;
		}
		uint32_t cp, lo;
		if (e != 'u' || p->len - p->pos < 6 || hex4(p->s + p->pos + 2, &cp)) {
			fail(p, "bad escape sequence in a string");
			return -1;
		}
		p->pos += 6;
		if (cp >= 0xd800 && cp <= 0xdbff && p->len - p->pos >= 6 &&
		    p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u' &&
		    hex4(p->s + p->pos + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			p->pos += 6;
		} else if (cp >= 0xd800 && cp <= 0xdfff) {
			cp = 0xfffd;      /* a lone surrogate: not a character */
		}
		put_utf8(p, cp);
	}
	*out_len = (size_t)(p->sp - start);
	*p->sp++ = '\0';
	*out = start;
	return 0;
}

static bool digit(struct parser *p)
{
	return p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

static uint32_t parse_number(struct parser *p)
{
	size_t start = p->pos;
	uint32_t n = new_node(p, LT_JSON_NUMBER);
	if (!n)
		return 0;
	if (p->s[p->pos] == '-')
		p->pos++;
	if (!digit(p))
		return unexpected(p, "a digit");
	if (p->s[p->pos] == '0')
		p->pos++;
	else
		while (digit(p))
			p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (!digit(p))
			return unexpected(p, "a digit after '.'");
		while (digit(p))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (!digit(p))
			return unexpected(p, "a digit in the exponent");
		while (digit(p))
			p->pos++;
	}
	p->doc->nodes[n].str = p->s + start;
	p->doc->nodes[n].len = p->pos - start;
	return n;
}

static uint32_t parse_literal(struct parser *p, const char *word, enum lt_json_type type)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return unexpected(p, "a JSON value");
	p->pos += n;
	return new_node(p, type);
}

static uint32_t parse_value(struct parser *p, unsigned depth);

/* Arrays and objects: children chained in order. */
static uint32_t parse_container(struct parser *p, unsigned depth, bool object)
{
	char close = object ? '}' : ']';
	if (depth >= p->lim->max_depth)
		return fail(p, "nested deeper than %u levels", p->lim->max_depth);
	uint32_t self = new_node(p, object ? LT_JSON_OBJECT : LT_JSON_ARRAY);
	uint32_t last = 0;
	if (!self)
		return 0;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return self;
	}
	for (;;) {
		const char *key = NULL;
		size_t key_len = 0;
		skip_ws(p);
		if (object) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return unexpected(p, "a member name in quotes");
			if (parse_string(p, &key, &key_len))
				return 0;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return unexpected(p, "':' after the member name");
			p->pos++;
		}
		uint32_t child = parse_value(p, depth + 1);
		if (!child)
			return 0;
		struct lt_json_node *nodes = p->doc->nodes;
		nodes[child].key = key;
		nodes[child].key_len = key_len;
		if (last)
			nodes[last].next = child;
		else
			nodes[self].child = child;
		nodes[self].count++;
		last = child;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return self;
		}
		return unexpected(p, object ? "',' or '}'" : "',' or ']'");
	}
}

static uint32_t parse_value(struct parser *p, unsigned depth)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return unexpected(p, "a JSON value");
	switch (p->s[p->pos]) {
	case '{':
		return parse_container(p, depth, true);
	case '[':
		return parse_container(p, depth, false);
	case '"': {
		const char *s;
		size_t len;
		if (parse_string(p, &s, &len))
			return 0;
		uint32_t n = new_node(p, LT_JSON_STRING);
		if (n) {
			p->doc->nodes[n].str = s;
			p->doc->nodes[n].len = len;
		}
		return n;
	}
	case 't':
		return parse_literal(p, "true", LT_JSON_TRUE);
	case 'f':
		return parse_literal(p, "false", LT_JSON_FALSE);
	case 'n':
		return parse_literal(p, "null", LT_JSON_NULL);
	default:
		if (p->s[p->pos] == '-' || digit(p))
			return parse_number(p);
		return unexpected(p, "a JSON value");
	}
}

int lt_json_parse(const char *text, size_t len, const struct lt_json_limits *lim,
		  bool multiple, struct lt_json_doc *doc, char *err, size_t errlen)
{
	struct parser p = { .s = text, .len = len, .lim = lim, .doc = doc,
			    .err = err, .errlen = errlen };
	uint32_t last = 0;

	memset(doc, 0, sizeof(*doc));
	if (!lim)
		p.lim = lim = &lt_json_default_limits;
	if (len > lim->max_bytes) {
		fail(&p, "larger than %zu bytes", lim->max_bytes);
		return -1;
	}
	if (lim->max_nodes >= UINT32_MAX - 1) {
		fail(&p, "node limit too large");
		return -1;
	}
	doc->strings = malloc(len + 1);
	if (!doc->strings) {
		fail(&p, "out of memory");
		return -1;
	}
	p.sp = doc->strings;
	new_node(&p, LT_JSON_NULL);   /* node 0: the "none" index */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		p.pos = 3;                /* a byte order mark */
	for (;;) {
		skip_ws(&p);
		if (p.pos >= len || p.failed)
			break;
		if (doc->nvalues && !multiple) {
			fail(&p, "unexpected data after the JSON value");
			break;
		}
		uint32_t v = parse_value(&p, 0);
		if (!v)
			break;
		if (last)
			doc->nodes[last].next = v;
		else
			doc->first = v;
		last = v;
		doc->nvalues++;
	}
	if (!p.failed && !doc->nvalues)
		fail(&p, "no JSON value (empty input)");
	if (p.failed) {
		lt_json_free(doc);
		return -1;
	}
	return 0;
}

void lt_json_free(struct lt_json_doc *doc)
{
	free(doc->nodes);
	free(doc->strings);
	memset(doc, 0, sizeof(*doc));
}

const struct lt_json_node *lt_json_at(const struct lt_json_doc *doc, uint32_t index)
{
	return index && index < doc->count ? &doc->nodes[index] : NULL;
}

const struct lt_json_node *lt_json_first(const struct lt_json_doc *doc,
					 const struct lt_json_node *c)
{
	if (!c || (c->type != LT_JSON_ARRAY && c->type != LT_JSON_OBJECT))
		return NULL;
	return lt_json_at(doc, c->child);
}

const struct lt_json_node *lt_json_next(const struct lt_json_doc *doc,
					const struct lt_json_node *n)
{
	return n ? lt_json_at(doc, n->next) : NULL;
}

const struct lt_json_node *lt_json_get(const struct lt_json_doc *doc,
				       const struct lt_json_node *obj, const char *key)
{
	size_t n = strlen(key);
	if (!obj || obj->type != LT_JSON_OBJECT)
		return NULL;
	for (const struct lt_json_node *m = lt_json_first(doc, obj); m; m = lt_json_next(doc, m))
		if (m->key_len == n && memcmp(m->key, key, n) == 0)
			return m;
	return NULL;
}

const char *lt_json_get_string(const struct lt_json_doc *doc,
			       const struct lt_json_node *obj, const char *key)
{
	const struct lt_json_node *v = lt_json_get(doc, obj, key);
	return v && v->type == LT_JSON_STRING ? v->str : NULL;
}

bool lt_json_u64(const struct lt_json_node *n, uint64_t *out)
{
	uint64_t v = 0;
	if (!n || n->type != LT_JSON_NUMBER || !n->len)
		return false;
	for (size_t i = 0; i < n->len; i++) {
		char c = n->str[i];
		if (c < '0' || c > '9' || v > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(c - '0');
	}
	*out = v;
	return true;
}
