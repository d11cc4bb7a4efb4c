/* Descriptors kept in reserve for the report, so that a program that
 * fills its fd table still gets one: each open of ours that fails for lack
 * of descriptors gives one reserved descriptor up and tries again.
 * Context: cold and SIGNAL-SAFE (open, close, fcntl, memfd_create only). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload-private.h"

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
		reserve[i] = fcntl(fd, F_DUPFD_CLOEXEC, 610);
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

int lt_open_reserved(const char *path, int flags, int mode)
{
	int fd;
	while (out_of_fds(fd = open(path, flags, mode)) && give_one_up())
		;
	return fd;
}

int lt_memfd_reserved(const char *name)
{
	int fd;
	while (out_of_fds(fd = memfd_create(name, 0)) && give_one_up())
		;
	return fd;
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
