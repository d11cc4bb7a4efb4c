/* Buffered output to a file descriptor with write(2) only.
 * Context: SIGNAL-SAFE. Only write, pwrite, atomics; no stdio, no
 * allocation. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "preload-private.h"

int lt_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void lt_out_init(struct lt_out *o, int fd)
{
	o->fd = fd;
	o->error = 0;
	o->offset = 0;
	o->len = 0;
}

int lt_out_flush(struct lt_out *o)
{
	if (o->len && !o->error) {
		int rc = lt_write_all(o->fd, o->buf, o->len);
		if (rc)
			o->error = -rc;
	}
	o->len = 0;
	return o->error ? -o->error : 0;
}

void lt_out_write(struct lt_out *o, const void *p, size_t n)
{
	const char *src = p;
	o->offset += n;
	while (n) {
		size_t room = sizeof(o->buf) - o->len;
		size_t chunk = n < room ? n : room;
		memcpy(o->buf + o->len, src, chunk);
		o->len += chunk;
		src += chunk;
		n -= chunk;
		if (o->len == sizeof(o->buf))
			lt_out_flush(o);
	}
}

void lt_out_pad8(struct lt_out *o)
{
	static const char zeros[8];
	size_t pad = (8 - (o->offset & 7)) & 7;
	lt_out_write(o, zeros, pad);
}

void lt_out_patch(struct lt_out *o, uint64_t offset, const void *p, size_t n)
{
	lt_out_flush(o);
	if (o->error)
		return;
	ssize_t w;
	do
		w = pwrite(o->fd, p, n, (off_t)offset);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)n)
		o->error = w < 0 ? errno : EIO;
}

void lt_log(const char *msg)
{
	char line[1024];
	size_t n = 0;
	const char prefix[] = "leaktrace: ";
	int saved = errno;

	memcpy(line, prefix, sizeof(prefix) - 1);
	n = sizeof(prefix) - 1;
	while (*msg && n < sizeof(line) - 1)
		line[n++] = *msg++;
	line[n++] = '\n';
	/* Before start-up made our copy, fd 2 is the program's stderr; after,
	 * with our copy gone, there is nowhere safe to write. */
	int fd = lt_stderr_fd < 0 ? 2 : lt_private_stderr();
	if (fd >= 0)
		lt_write_all(fd, line, n);
	errno = saved;
}
