/* Reading /proc/self/maps into mappings of ours, for the reachability scan
 * (which memory is a root) and the vtable heuristic (which memory is code).
 * Context: cold, with other threads stopped; no allocator, no stdio. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"
#include "preload-private.h"

/* Reads the whole file; the buffer grows by remapping. */
static int slurp(struct lt_maps *m)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = lt_os_map(cap);
	int fd = lt_open_proc("maps", O_RDONLY | O_CLOEXEC);
	if (!buf || fd < 0) {
		int err = fd < 0 ? errno : ENOMEM;
		if (fd >= 0)
			close(fd);
		if (buf)
			lt_os_unmap(buf, cap);
		return -err;
	}
	for (;;) {
		if (len + 1 >= cap) {
			char *bigger = lt_os_map(cap * 4);
			if (!bigger)
				break;
			memcpy(bigger, buf, len);
			lt_os_unmap(buf, cap);
			buf = bigger;
			cap *= 4;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	m->text = buf;
	m->text_size = cap;
	return 0;
}

static uintptr_t parse_hex(const char **p)
{
	uintptr_t v = 0;
	for (;; (*p)++) {
		char c = **p;
		if (c >= '0' && c <= '9')
			v = v * 16 + (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uintptr_t)(c - 'a' + 10);
		else
			return v;
	}
}

static void skip_field(const char **p)
{
	while (**p && **p != ' ')
		(*p)++;
	while (**p == ' ')
		(*p)++;
}

static enum lt_region_kind kind_of(const char *path)
{
	if (!path[0])
		return LT_REGION_ANON;
	if (strcmp(path, "[heap]") == 0)
		return LT_REGION_HEAP;
	if (strcmp(path, "[stack]") == 0)
		return LT_REGION_STACK;
	if (path[0] == '[')
		return strncmp(path, "[anon", 5) == 0 ? LT_REGION_ANON : LT_REGION_SPECIAL;
	if (strncmp(path, "/dev/", 5) == 0 && strcmp(path, "/dev/zero") != 0 &&
	    strncmp(path, "/dev/zero ", 10) != 0 && strncmp(path, "/dev/shm/", 9) != 0)
		return LT_REGION_DEVICE;
	return LT_REGION_FILE;
}

/* One line: "lo-hi perms offset dev inode   path". Ends the line in place. */
static char *parse_line(char *line, struct lt_region *r)
{
	char *end = strchr(line, '\n');
	const char *p = line;
	if (end)
		*end = '\0';
	r->lo = parse_hex(&p);
	if (*p == '-')
		p++;
	r->hi = parse_hex(&p);
	while (*p == ' ')
		p++;
	r->readable = p[0] == 'r';
	r->writable = p[1] == 'w';
	r->executable = p[2] == 'x';
	r->shared = p[3] == 's';
	skip_field(&p);           /* perms */
	skip_field(&p);           /* offset */
	skip_field(&p);           /* dev */
	skip_field(&p);           /* inode */
	r->path = p;
	r->kind = kind_of(p);
	return end ? end + 1 : NULL;
}

int lt_maps_read(struct lt_maps *m)
{
	memset(m, 0, sizeof(*m));
	int rc = slurp(m);
	if (rc)
		return rc;
	size_t lines = 0;
	for (const char *c = m->text; *c; c++)
		lines += *c == '\n';
	m->regions_size = (lines + 1) * sizeof(struct lt_region);
	m->regions = lt_os_map(m->regions_size);
	if (!m->regions) {
		lt_maps_release(m);
		return -ENOMEM;
	}
	for (char *line = m->text; line && *line && m->count <= lines;)
		line = parse_line(line, &m->regions[m->count++]);
	if (m->count == 0) {
		/* a process always has mappings: this is a read that failed */
		lt_maps_release(m);
		return -EIO;
	}
	return 0;
}

void lt_maps_release(struct lt_maps *m)
{
	if (m->regions)
		lt_os_unmap(m->regions, m->regions_size);
	if (m->text)
		lt_os_unmap(m->text, m->text_size);
	memset(m, 0, sizeof(*m));
}

const struct lt_region *lt_maps_find(const struct lt_maps *m, uintptr_t addr)
{
	size_t lo = 0, hi = m->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct lt_region *r = &m->regions[mid];
		if (addr < r->lo)
			hi = mid;
		else if (addr >= r->hi)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}
