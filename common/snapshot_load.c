/* Reading a raw snapshot from a file or an inherited descriptor.
 * Context: offline side only. Memory is bounded by the bytes actually
 * received (never by a size the input claims), by the header's file_size
 * once known, and by LT_SNAP_MAX_FILE_SIZE. */
#define _GNU_SOURCE
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void lt_snapshot_adopt_buffer_(struct lt_snapshot *snap, void *buf);

struct reader {
	int fd;
	bool positional;          /* regular file: pread from offset 0 */
	uint8_t *buf;
	size_t len, cap;
	uint64_t limit;           /* stop reading past this many bytes */
};

static int grow(struct reader *r, size_t want)
{
	if (want <= r->cap)
		return 0;
	size_t cap = r->cap ? r->cap : 64 * 1024;
	while (cap < want)
		cap *= 2;
	uint8_t *b = realloc(r->buf, cap);
	if (!b)
		return -1;
	r->buf = b;
	r->cap = cap;
	return 0;
}

/* Once the fixed header is in, the declared size caps further reading:
 * one byte more than declared is enough to tell the file is too long. */
static void learn_limit(struct reader *r)
{
	if (r->len < 24 || memcmp(r->buf, LT_SNAP_MAGIC, LT_SNAP_MAGIC_LEN) != 0)
		return;
	uint64_t declared = 0;
	for (int i = 7; i >= 0; i--)
		declared = declared << 8 | r->buf[16 + i];
	if (declared < r->limit)
		r->limit = declared + 1;
}

static ssize_t read_some(struct reader *r, size_t n)
{
	for (;;) {
		ssize_t got = r->positional ? pread(r->fd, r->buf + r->len, n, (off_t)r->len)
					    : read(r->fd, r->buf + r->len, n);
		if (got >= 0 || errno != EINTR)
			return got;
	}
}

static int read_loop(struct reader *r, char *err, size_t errlen)
{
	for (;;) {
		if (r->len >= r->limit) {
			if (r->limit > LT_SNAP_MAX_FILE_SIZE)
				snprintf(err, errlen, "larger than the %llu-byte limit",
					 (unsigned long long)LT_SNAP_MAX_FILE_SIZE);
			return r->limit > LT_SNAP_MAX_FILE_SIZE ? -1 : 0;
		}
		size_t chunk = 1 << 20;
		if (chunk > r->limit - r->len)
			chunk = (size_t)(r->limit - r->len);
		if (grow(r, r->len + chunk)) {
			snprintf(err, errlen, "out of memory after %zu bytes", r->len);
			return -1;
		}
		ssize_t got = read_some(r, chunk);
		if (got < 0) {
			snprintf(err, errlen, "read error: %s", strerror(errno));
			return -1;
		}
		if (got == 0)
			return 0;
		r->len += (size_t)got;
		learn_limit(r);
	}
}

int lt_snapshot_read_all(const char *path, int fd, void **buf, size_t *len,
			 char *err, size_t errlen)
{
	struct reader r = { .fd = fd, .limit = LT_SNAP_MAX_FILE_SIZE + 1 };
	struct stat st;
	int rc;

	*buf = NULL;
	*len = 0;
	if (path) {
		r.fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r.fd < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
	}
	if (fstat(r.fd, &st) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		rc = -1;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "is a directory");
		rc = -1;
		goto out;
	}
	/* The preloaded library hands over a memfd whose offset is at its
	 * end: read regular files from offset 0, whatever their offset. */
	r.positional = S_ISREG(st.st_mode);
	rc = read_loop(&r, err, errlen);
out:
	if (path && r.fd >= 0)
		close(r.fd);
	if (rc) {
		free(r.buf);
		return -1;
	}
	*buf = r.buf;
	*len = r.len;
	return 0;
}

int lt_snapshot_load(const char *path, int fd, struct lt_snapshot *out,
		     char *err, size_t errlen)
{
	void *buf;
	size_t len;
	memset(out, 0, sizeof(*out));
	if (lt_snapshot_read_all(path, fd, &buf, &len, err, errlen))
		return -1;
	if (lt_snapshot_parse(buf, len, out, err, errlen)) {
		free(buf);
		return -1;
	}
	lt_snapshot_adopt_buffer_(out, buf);
	return 0;
}
