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
#include <unistd.h>

#include "preload-private.h"

static int state_fd = -1;

static int make_state_file(void)
{
	int fd = memfd_create("leaktrace-delta-state", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	int high = fcntl(fd, F_DUPFD_CLOEXEC, 620);
	close(fd);
	return high;
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
	if (state_fd < 0)
		return;
	int fresh = make_state_file();
	if (fresh < 0) {
		close(state_fd);
		state_fd = -1;
		return;
	}
	if (dup3(fresh, state_fd, O_CLOEXEC) < 0) {
		close(state_fd);
		state_fd = fresh;
		return;
	}
	close(fresh);
}

int lt_delta_state_fd(void)
{
	return state_fd;
}
