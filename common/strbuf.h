/* Bounded string building into caller buffers, for code that may not use
 * stdio or the allocator (the preloaded library). Context: any, including
 * SIGNAL-SAFE: only reads and writes its arguments. */
#ifndef LT_STRBUF_H
#define LT_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lt_strbuf {
	char *buf;
	size_t cap;               /* bytes available, terminator included */
	size_t len;               /* bytes wanted so far (may exceed cap - 1) */
};

static inline void lt_strbuf_init(struct lt_strbuf *sb, char *buf, size_t cap)
{
	sb->buf = buf;
	sb->cap = cap;
	sb->len = 0;
	if (cap)
		buf[0] = '\0';
}

static inline void lt_strbuf_putn(struct lt_strbuf *sb, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, sb->len++)
		if (sb->len + 1 < sb->cap)
			sb->buf[sb->len] = s[i];
	if (sb->cap)
		sb->buf[sb->len < sb->cap ? sb->len : sb->cap - 1] = '\0';
}

static inline void lt_strbuf_puts(struct lt_strbuf *sb, const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	lt_strbuf_putn(sb, s, n);
}

static inline void lt_strbuf_putu(struct lt_strbuf *sb, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	lt_strbuf_putn(sb, tmp + sizeof(tmp) - n, n);
}

static inline void lt_strbuf_puthex(struct lt_strbuf *sb, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;
	do {
		tmp[sizeof(tmp) - 1 - n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	lt_strbuf_putn(sb, "0x", 2);
	lt_strbuf_putn(sb, tmp + sizeof(tmp) - n, n);
}

static inline bool lt_strbuf_fits(const struct lt_strbuf *sb)
{
	return sb->len < sb->cap;
}

#endif
