/* The JSON writer of the machine-readable reports: two-space indented,
 * small containers on one line, strings always valid UTF-8 (RFC 8259).
 * Context: offline side only. Symbol and file names come from the traced
 * program's binaries and can hold any bytes: nothing is copied out
 * unchecked. */
#include "json.h"
#include "strbuf.h"

#include <string.h>

void lt_jw_init(struct lt_json_writer *w, struct lt_outbuf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

size_t lt_utf8_valid(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void lt_json_put_string(struct lt_outbuf *out, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	lt_ob_putc(out, '"');
	while (i < n) {
		size_t run = 0, len;
		while (i + run < n && s[i + run] >= 0x20 && s[i + run] < 0x80 &&
		       s[i + run] != '"' && s[i + run] != '\\')
			run++;
		lt_ob_putn(out, (const char *)s + i, run);
		i += run;
		if (i >= n)
			break;
		unsigned char c = s[i];
		switch (c) {
		case '"': lt_ob_puts(out, "\\\""); i++; continue;
		case '\\': lt_ob_puts(out, "\\\\"); i++; continue;
		case '\n': lt_ob_puts(out, "\\n"); i++; continue;
		case '\t': lt_ob_puts(out, "\\t"); i++; continue;
		case '\r': lt_ob_puts(out, "\\r"); i++; continue;
		case '\b': lt_ob_puts(out, "\\b"); i++; continue;
		case '\f': lt_ob_puts(out, "\\f"); i++; continue;
		default: break;
		}
		if (c < 0x20) {
			char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };
			lt_ob_puts(out, esc);
			i++;
		} else if ((len = lt_utf8_valid(s + i, n - i)) != 0) {
			lt_ob_putn(out, (const char *)s + i, len);
			i += len;
		} else {
			lt_ob_puts(out, "\\ufffd");   /* one per bad byte */
			i++;
		}
	}
	lt_ob_putc(out, '"');
}

static bool is_inline(const struct lt_json_writer *w, unsigned depth)
{
	return w->inline_depth && depth >= w->inline_depth;
}

static void newline(struct lt_json_writer *w, unsigned depth)
{
	static const char spaces[] = "                                ";
	lt_ob_putc(w->out, '\n');
	for (unsigned i = 0; i < depth; i++)
		lt_ob_putn(w->out, spaces, 2);
}

/* Separator and indentation before a value or a key. */
static void begin_item(struct lt_json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0) {
		if (w->has_items[0])
			lt_ob_putc(w->out, '\n');
	} else if (is_inline(w, w->depth)) {
		if (w->has_items[w->depth])
			lt_ob_puts(w->out, ", ");
	} else {
		if (w->has_items[w->depth])
			lt_ob_putc(w->out, ',');
		newline(w, w->depth);
	}
	w->has_items[w->depth] = true;
}

static void open(struct lt_json_writer *w, char c, bool one_line)
{
	begin_item(w);
	if (w->depth >= LT_JW_MAX_DEPTH) {
		w->failed = true;
		return;
	}
	lt_ob_putc(w->out, c);
	w->depth++;
	w->closers[w->depth] = c == '{' ? '}' : ']';
	w->has_items[w->depth] = false;
	if (one_line && !w->inline_depth)
		w->inline_depth = w->depth;
}

void lt_jw_object(struct lt_json_writer *w) { open(w, '{', false); }
void lt_jw_object_inline(struct lt_json_writer *w) { open(w, '{', true); }
void lt_jw_array(struct lt_json_writer *w) { open(w, '[', false); }
void lt_jw_array_inline(struct lt_json_writer *w) { open(w, '[', true); }

void lt_jw_end(struct lt_json_writer *w)
{
	if (!w->depth || w->after_key) {
		w->failed = true;
		return;
	}
	bool one_line = is_inline(w, w->depth);
	if (w->has_items[w->depth] && !one_line)
		newline(w, w->depth - 1);
	lt_ob_putc(w->out, w->closers[w->depth]);
	if (w->inline_depth == w->depth)
		w->inline_depth = 0;
	w->depth--;
}

int lt_jw_finish(struct lt_json_writer *w)
{
	lt_ob_putc(w->out, '\n');
	return w->failed || w->depth || w->after_key ? -1 : 0;
}

void lt_jw_key(struct lt_json_writer *w, const char *key)
{
	if (w->after_key)
		w->failed = true;
	begin_item(w);
	lt_json_put_string(w->out, key, strlen(key));
	lt_ob_puts(w->out, ": ");
	w->after_key = true;
}

void lt_jw_stringn(struct lt_json_writer *w, const char *s, size_t n)
{
	begin_item(w);
	lt_json_put_string(w->out, s, n);
}

void lt_jw_string(struct lt_json_writer *w, const char *s)
{
	if (!s) {
		lt_jw_null(w);
		return;
	}
	lt_jw_stringn(w, s, strlen(s));
}

void lt_jw_u64(struct lt_json_writer *w, uint64_t v)
{
	begin_item(w);
	lt_ob_u64(w->out, v);
}

void lt_jw_bool(struct lt_json_writer *w, bool v)
{
	begin_item(w);
	lt_ob_puts(w->out, v ? "true" : "false");
}

void lt_jw_null(struct lt_json_writer *w)
{
	begin_item(w);
	lt_ob_puts(w->out, "null");
}

void lt_jw_hex(struct lt_json_writer *w, uint64_t v)
{
	char tmp[24];
	struct lt_strbuf sb;
	lt_strbuf_init(&sb, tmp, sizeof(tmp));
	lt_strbuf_puthex(&sb, v);
	lt_jw_stringn(w, tmp, sb.len);
}

void lt_jw_kstring(struct lt_json_writer *w, const char *key, const char *s)
{
	lt_jw_key(w, key);
	lt_jw_string(w, s);
}

void lt_jw_ku64(struct lt_json_writer *w, const char *key, uint64_t v)
{
	lt_jw_key(w, key);
	lt_jw_u64(w, v);
}

void lt_jw_kbool(struct lt_json_writer *w, const char *key, bool v)
{
	lt_jw_key(w, key);
	lt_jw_bool(w, v);
}
