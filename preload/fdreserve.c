/* Descriptors kept in reserve for the report, so that a program that
 * fills its fd table still gets one: each open of ours that fails for lack
 * of descriptors gives one reserved descriptor up and tries again.
 * Context: cold and SIGNAL-SAFE (open, close, fcntl, memfd_create only). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "preload-private.h"

/* Where our descriptors live: above what programs use. */
#define HIGH_FD 600

/* The snapshot, /proc/self/mem, /proc/self/maps and /proc/self/task may be
 * open together during a report. */
#define RESERVED 4

static int reserve[RESERVED] = { -1, -1, -1, -1 };

/* High in the table, where programs that count on low numbers rarely look. */
void lt_fd_reserve_fill(void)
{
	for (int i = 0; i < RESERVED; i++) {
		if (reserve[i] >= 0)
			continue;
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		reserve[i] = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD + 10);
		close(fd);
	}
}

static bool give_one_up(void)
{
	for (int i = 0; i < RESERVED; i++)
		if (reserve[i] >= 0) {
			close(reserve[i]);
			reserve[i] = -1;
			return true;
		}
	return false;
}

static bool out_of_fds(int fd)
{
	return fd < 0 && (errno == EMFILE || errno == ENFILE);
}

/* A program that lowered its soft descriptor limit below our reserve and
 * filled its table leaves no number to open at: for the length of one
 * open, the soft limit goes up to the hard one, and the new descriptor
 * lands above anything the program can use. */
static bool raise_soft_limit(struct rlimit *saved)
{
	struct rlimit raised;
	if (getrlimit(RLIMIT_NOFILE, saved) != 0 || saved->rlim_cur >= saved->rlim_max)
		return false;
	raised = *saved;
	raised.rlim_cur = raised.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &raised) == 0;
}

bool lt_fd_limit_lift(struct rlimit *saved)
{
	return raise_soft_limit(saved);
}

static int open_beyond_limit(const char *path, int flags, int mode, const char *memfd_name)
{
	struct rlimit saved;
	if (!raise_soft_limit(&saved)) {
		errno = EMFILE;
		return -1;
	}
	int fd = memfd_name ? memfd_create(memfd_name, 0) : open(path, flags, mode);
	int err = errno;
	setrlimit(RLIMIT_NOFILE, &saved);
	errno = err;
	return fd;
}

int lt_open_reserved(const char *path, int flags, int mode)
{
	int fd;
	while (out_of_fds(fd = open(path, flags, mode)) && give_one_up())
		;
	if (out_of_fds(fd))
		fd = open_beyond_limit(path, flags, mode, NULL);
	return fd;
}

int lt_memfd_reserved(const char *name)
{
	int fd;
	while (out_of_fds(fd = memfd_create(name, 0)) && give_one_up())
		;
	if (out_of_fds(fd))
		fd = open_beyond_limit(NULL, 0, 0, name);
	return fd;
}

void lt_fd_call_high(void (*fn)(void))
{
	uint64_t taken[HIGH_FD / 64] = { 0 };
	int filler = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (filler < 0) {
		fn();
		return;
	}
	/* Below a lower descriptor limit, room is left at its top for what
	 * fn opens (libunwind: a pipe, two descriptors). */
	int top = HIGH_FD;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)HIGH_FD + 2)
		top = rl.rlim_cur > 2 ? (int)rl.rlim_cur - 2 : 0;
	for (int fd = 0; fd < top; fd++)
		if (fd != filler && fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    dup3(filler, fd, O_CLOEXEC) == fd)
			taken[fd / 64] |= 1ull << (fd % 64);
	fn();
	for (int fd = 0; fd < top; fd++)
		if (taken[fd / 64] & (1ull << (fd % 64)))
			close(fd);
	close(filler);
}

/* /proc/thread-self/NAME, else /proc/self/NAME: once the main thread has
 * called pthread_exit, /proc/self no longer shows the process's memory,
 * but the calling thread's own directory does. */
int lt_open_proc(const char *name, int flags)
{
	char path[64] = "/proc/thread-self/";
	size_t n = strlen(path);
	size_t len = strlen(name);
	if (n + len >= sizeof(path))
		return -1;
	memcpy(path + n, name, len + 1);
	int fd = lt_open_reserved(path, flags, 0);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	memcpy(path, "/proc/self/", 11);
	memcpy(path + 11, name, len + 1);
	return lt_open_reserved(path, flags, 0);
}
