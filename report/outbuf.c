/* A write buffer for report backends: reports have hundreds of thousands
 * of frame lines, and stdio's per-call locking and format parsing were
 * most of the rendering time. Pieces are copied into one buffer and
 * handed to the FILE in large writes.
 * Context: offline side only. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "strbuf.h"

void lt_ob_init(struct lt_outbuf *o, FILE *f)
{
	o->f = f;
	o->n = 0;
	o->failed = false;
}

int lt_ob_flush(struct lt_outbuf *o)
{
	if (o->n && fwrite(o->buf, 1, o->n, o->f) != o->n)
		o->failed = true;
	o->n = 0;
	return o->failed ? -1 : 0;
}

void lt_ob_putn(struct lt_outbuf *o, const char *s, size_t n)
{
	if (n > sizeof(o->buf) - o->n) {
		lt_ob_flush(o);
		if (n > sizeof(o->buf)) {
			if (fwrite(s, 1, n, o->f) != n)
				o->failed = true;
			return;
		}
	}
	memcpy(o->buf + o->n, s, n);
	o->n += n;
}

void lt_ob_puts(struct lt_outbuf *o, const char *s)
{
	lt_ob_putn(o, s, strlen(s));
}

void lt_ob_putc(struct lt_outbuf *o, char c)
{
	if (o->n == sizeof(o->buf))
		lt_ob_flush(o);
	o->buf[o->n++] = c;
}

void lt_ob_u64(struct lt_outbuf *o, uint64_t v)
{
	char tmp[24];
	struct lt_strbuf sb;
	lt_strbuf_init(&sb, tmp, sizeof(tmp));
	lt_strbuf_putu(&sb, v);
	lt_ob_putn(o, tmp, sb.len);
}

/* valgrind's addresses: "0x" and upper-case digits, no padding. */
void lt_ob_hex(struct lt_outbuf *o, uint64_t v)
{
	char tmp[24];
	struct lt_strbuf sb;
	lt_strbuf_init(&sb, tmp, sizeof(tmp));
	lt_strbuf_puthex(&sb, v);
	for (size_t i = 2; i < sb.len; i++)
		if (tmp[i] >= 'a' && tmp[i] <= 'f')
			tmp[i] = (char)(tmp[i] - 'a' + 'A');
	lt_ob_putn(o, tmp, sb.len);
}

void lt_ob_printf(struct lt_outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int need;
	va_start(ap, fmt);
	need = vsnprintf(o->buf + o->n, sizeof(o->buf) - o->n, fmt, ap);
	va_end(ap);
	if (need < 0) {
		o->failed = true;
		return;
	}
	if ((size_t)need < sizeof(o->buf) - o->n) {
		o->n += (size_t)need;
		return;
	}
	/* Did not fit: write what is buffered, then format again. */
	char *big = malloc((size_t)need + 1);
	if (!big) {
		o->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)need + 1, fmt, ap);
	va_end(ap);
	lt_ob_putn(o, big, (size_t)need);
	free(big);
}
