/* Report and snapshot files: created without following a symbolic link,
 * never truncated in place, mode 0600 minus the umask. A report named
 * like an earlier one (valgrind's --log-file, ctest's MemoryChecker.N.log
 * on every run) replaces it by a rename once complete: a hard link or an
 * open descriptor to the old file keeps the old report, nobody ever reads
 * half a report, and a report that fails leaves the old file as it was.
 * Context: SIGNAL-SAFE: open, lstat, renameat, unlink, getrandom and
 * clock_gettime only; no allocation, no stdio. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

#define CREATE_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)

static int open_with(lt_open_fn fn, const char *path, int flags, int mode)
{
	return fn ? fn(path, flags, mode) : open(path, flags, mode);
}

static uint64_t random_bits(void)
{
	uint64_t r = 0;
	struct timespec ts;
	if (syscall(SYS_getrandom, &r, sizeof(r), 1 /* GRND_NONBLOCK */) == (long)sizeof(r))
		return r;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
	       ((uint64_t)syscall(SYS_getpid) << 40);
}

/* "DIR/.NAME.XXXXXXXX": hidden, in the same directory so that the rename
 * cannot cross file systems. */
static int temp_name(char *out, size_t len, const char *path)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	size_t baselen = strlen(path + dirlen);
	if (dirlen + 1 + baselen + 1 + 12 + 1 > len)
		return -ENAMETOOLONG;
	memcpy(out, path, dirlen);
	out[dirlen] = '.';
	memcpy(out + dirlen + 1, path + dirlen, baselen);
	char *p = out + dirlen + 1 + baselen;
	*p++ = '.';
	uint64_t r = random_bits();
	for (int i = 0; i < 12; i++, r >>= 5)
		*p++ = digits[r & 31];
	*p = '\0';
	return 0;
}

static int open_replacement(struct lt_outfile *o, lt_open_fn fn, const char **why)
{
	for (int tries = 0; tries < 8; tries++) {
		int rc = temp_name(o->temp, sizeof(o->temp), o->path);
		if (rc) {
			*why = "name too long";
			return rc;
		}
		o->fd = open_with(fn, o->temp, CREATE_FLAGS, 0600);
		if (o->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	o->temp[0] = '\0';
	*why = errno == EACCES || errno == EPERM || errno == EROFS
		       ? "exists, and its replacement cannot be created beside it (the "
			 "directory is not writable; the file is never truncated in place)"
		       : "exists, and its replacement cannot be created beside it";
	return -errno;
}

/* The name exists: say why it is refused, or open it the one way its kind
 * allows. */
static int open_existing(struct lt_outfile *o, enum lt_outfile_mode mode, lt_open_fn fn,
			 const char **why)
{
	struct stat st;
	if (lstat(o->path, &st) != 0) {
		*why = NULL;
		return -errno;
	}
	if (S_ISLNK(st.st_mode)) {
		/* /dev/stdout, /dev/stderr, /dev/fd/N: links that only root
		 * can plant, to descriptors of the process itself. Appended
		 * to: what the program already wrote there stays. */
		if (strncmp(o->path, "/dev/", 5) == 0) {
			o->fd = open_with(fn, o->path,
					  O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY, 0);
			*why = NULL;
			return o->fd < 0 ? -errno : 0;
		}
		*why = "is a symbolic link (not followed; name the file it points to)";
		return -ELOOP;
	}
	if (S_ISDIR(st.st_mode)) {
		*why = "is a directory";
		return -EISDIR;
	}
	/* A terminal, /dev/null or a pipe: nothing to truncate, written as is. */
	if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
		o->fd = open_with(fn, o->path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0);
		*why = NULL;
		return o->fd < 0 ? -errno : 0;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "is not a regular file";
		return -EINVAL;
	}
	if (mode == LT_OUTFILE_NEW) {
		*why = "already exists (not replaced)";
		return -EEXIST;
	}
	if (mode == LT_OUTFILE_APPEND) {
		o->fd = open_with(fn, o->path,
				  O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0);
		*why = NULL;
		return o->fd < 0 ? -errno : 0;
	}
	return open_replacement(o, fn, why);
}

int lt_outfile_open(struct lt_outfile *o, const char *path, enum lt_outfile_mode mode,
		    lt_open_fn open_fn, const char **why)
{
	size_t len = strlen(path);
	o->fd = -1;
	o->temp[0] = '\0';
	*why = NULL;
	if (len == 0 || len >= sizeof(o->path)) {
		*why = len ? "name too long" : "empty name";
		return len ? -ENAMETOOLONG : -ENOENT;
	}
	memcpy(o->path, path, len + 1);
	/* The common case first: a new name, created by us alone. A name that
	 * appears between the two steps is taken as existing, once more. */
	for (int tries = 0; tries < 3; tries++) {
		o->fd = open_with(open_fn, path, CREATE_FLAGS, 0600);
		if (o->fd >= 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
		int rc = open_existing(o, mode, open_fn, why);
		if (rc != -ENOENT || *why)
			return rc;
	}
	return -EEXIST;
}

int lt_outfile_commit(struct lt_outfile *o, bool ok)
{
	int rc = 0;
	o->fd = -1;
	if (!o->temp[0])
		return 0;
	if (!ok) {
		unlink(o->temp);
	} else if (renameat(AT_FDCWD, o->temp, AT_FDCWD, o->path) != 0) {
		rc = -errno;
		unlink(o->temp);
	}
	o->temp[0] = '\0';
	return rc;
}

int lt_outfile_finish(struct lt_outfile *o, bool ok)
{
	int rc = 0;
	if (o->fd >= 0 && close(o->fd) != 0)
		rc = -errno;
	int crc = lt_outfile_commit(o, ok && rc == 0);
	return rc ? rc : crc;
}
