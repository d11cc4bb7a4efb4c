/* The file where a process's reporters keep the figures of its last report,
 * so that the next report can say what changed (report/delta.c reads and
 * writes it; the library only owns it). One in-memory file per process,
 * made at start-up, high in the fd table and closed on exec; every reporter
 * gets it as fd LT_DELTA_STATE_FD. A forked child makes its own, empty: its
 * first report has no deltas, as a process's first report has none.
 * Context: cold and SIGNAL-SAFE (memfd_create, fcntl, dup3, close only). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload-private.h"

static int state_fd = -1;
/* Which file it is: a program that closes every descriptor may reuse the
 * number for a file of its own, which no reporter must ever write. */
static dev_t state_dev;
static ino_t state_ino;

static int make_state_file(void)
{
	int fd = memfd_create("leaktrace-delta-state", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	int high = fcntl(fd, F_DUPFD_CLOEXEC, 620);
	close(fd);
	struct stat st;
	if (high >= 0 && fstat(high, &st) == 0) {
		state_dev = st.st_dev;
		state_ino = st.st_ino;
	}
	return high;
}

static bool still_ours(int fd)
{
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == state_dev &&
	       st.st_ino == state_ino;
}

void lt_delta_state_init(void)
{
	if (state_fd < 0)
		state_fd = make_state_file();
}

/* The child's own file takes the parent's number, so nothing else of the
 * child's fd table moves. */
void lt_delta_state_after_fork(void)
{
	if (!still_ours(state_fd)) {
		state_fd = -1;
		return;
	}
	int old = state_fd;
	state_fd = make_state_file();   /* records the new file's identity */
	if (state_fd < 0) {
		close(old);
		return;
	}
	if (dup3(state_fd, old, O_CLOEXEC) < 0) {
		close(old);
		return;
	}
	close(state_fd);
	state_fd = old;
}

/* -1 once the program closed the file or put one of its own at its
 * number: reports then have no deltas. */
int lt_delta_state_fd(void)
{
	if (state_fd >= 0 && !still_ours(state_fd))
		state_fd = -1;
	return state_fd;
}
