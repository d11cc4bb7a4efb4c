/* The report at exit: classifies the blocks in-process, writes the
 * snapshot to an in-memory file, keeps a copy when asked, and runs
 * `leaktrace report` on it with the program's original stderr, waiting for
 * it so that the report is complete when the program's process ends. Symbolizing and formatting happen in that separate
 * process, so DWARF parsing never runs inside the program.
 * Context: cold, on the thread that exits or asked for the report, with its
 * depth raised: the allocations posix_spawn makes pass through untraced. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outfile.h"
#include "preload-private.h"
#include "scan.h"
#include "strbuf.h"
#include "view.h"

extern char **environ;

/* Where the snapshot goes when the reporter could not run. */
#define FALLBACK_RAW_FILE "/tmp/leaktrace.%p.%n.snap"


/* The snapshot's descriptor must not be 0, 1 or 2 (free when the program
 * closed them): the reporter gets our copy of stderr as its fd 2. */
int lt_open_snapshot_file(void)
{
	int fd = lt_memfd_reserved("leaktrace-snapshot");
	if (fd < 0)
		fd = lt_open_reserved("/tmp", O_TMPFILE | O_RDWR, 0600);
	if (fd >= 0 && fd <= 2) {
		int high = fcntl(fd, F_DUPFD, 3);
		close(fd);
		fd = high;
	}
	return fd;
}

/* The buffer is a mapping of ours: the exiting thread may have a small
 * stack. */
static int copy_fd(int from, int to)
{
	enum { CHUNK = 1 << 16 };
	char *buf = lt_os_map(CHUNK);
	off_t off = 0;
	int rc = 0;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = pread(from, buf, CHUNK, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		rc = lt_write_all(to, buf, (size_t)n);
		if (rc)
			break;
		off += n;
	}
	lt_os_unmap(buf, CHUNK);
	return rc;
}

static void log_with_errno(const char *what, const char *path, int err)
{
	char line[600];
	struct lt_strbuf sb;
	lt_strbuf_init(&sb, line, sizeof(line));
	lt_strbuf_puts(&sb, what);
	lt_strbuf_puts(&sb, path);
	lt_strbuf_puts(&sb, ": ");
	lt_strbuf_puts(&sb, strerrorname_np(err) ? strerrorname_np(err) : "error");
	lt_log(line);
}

static void log_refusal(const char *path, const char *why)
{
	char line[LT_OPT_PATH_MAX + 200];
	struct lt_strbuf sb;
	lt_strbuf_init(&sb, line, sizeof(line));
	lt_strbuf_puts(&sb, path);
	lt_strbuf_puts(&sb, " ");
	lt_strbuf_puts(&sb, why);
	lt_log(line);
}

/* Copies the snapshot to a file: the raw_file option (%p, %n, %q{NAME}),
 * or, when the reporter could not run, a file in /tmp so that nothing is
 * lost. SIGNAL-SAFE: also used by the frozen copy of a report on demand. */
bool lt_keep_raw_copy(int snap_fd, const char *pattern, pid_t pid, uint32_t sequence)
{
	char path[LT_OPT_PATH_MAX + 32], err[200];
	if (lt_expand_report_path(pattern, pid, sequence, environ, path, sizeof(path), err,
				  sizeof(err)) != 0) {
		lt_log(err);
		return false;
	}
	/* The fallback in /tmp never replaces a file already there. */
	bool fallback = pattern[0] == '/' && strncmp(pattern, "/tmp/leaktrace.", 15) == 0;
	struct lt_outfile out;
	const char *why;
	int rc = lt_outfile_open(&out, path, fallback ? LT_OUTFILE_NEW : LT_OUTFILE_REPLACE,
				 lt_open_reserved, &why);
	if (rc == 0) {
		rc = copy_fd(snap_fd, out.fd);
		int frc = lt_outfile_finish(&out, rc == 0);
		rc = rc ? rc : frc;
	}
	if (rc) {
		log_with_errno("cannot write raw snapshot ", path, -rc);
		if (why)
			log_refusal(path, why);
		return false;
	}
	if (fallback) {
		char line[LT_OPT_PATH_MAX + 100];
		struct lt_strbuf sb;
		lt_strbuf_init(&sb, line, sizeof(line));
		lt_strbuf_puts(&sb, "raw snapshot kept in ");
		lt_strbuf_puts(&sb, path);
		lt_strbuf_puts(&sb, "; render it with: leaktrace report ");
		lt_strbuf_puts(&sb, path);
		lt_log(line);
	}
	return true;
}

static int run_reporter(int snap_fd)
{
	posix_spawn_file_actions_t fa;
	struct lt_reporter_exec x;
	pid_t pid;
	int status = -1, rc;

	int state_fd = lt_delta_state_fd();
	if (lt_reporter_exec_prepare(&x, state_fd >= 0) != 0)
		return -1;

	/* The reporter gets the snapshot as fd 3, the previous report's
	 * figures as 4, our copy of stderr as 2, and none of the program's
	 * descriptors: it needs room in the fd table to open debug files.
	 * Ours may sit above a descriptor limit the program lowered: it is
	 * lifted for the spawn. */
	struct rlimit nofile;
	bool lifted = lt_fd_limit_lift(&nofile);
	posix_spawn_file_actions_init(&fa);
	int err_fd = lt_private_stderr();
	if (err_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	else
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, snap_fd, 3);
	if (state_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, state_fd, LT_DELTA_STATE_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, state_fd >= 0 ? 5 : 4);
	rc = posix_spawn(&pid, lt_tool_path, &fa, NULL, x.argv, x.envp);
	posix_spawn_file_actions_destroy(&fa);
	if (lifted)
		setrlimit(RLIMIT_NOFILE, &nofile);
	lt_reporter_exec_release(&x);
	if (rc != 0) {
		log_with_errno("cannot run the reporter ", lt_tool_path, rc);
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;   /* reaped by the program's own SIGCHLD handling */
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

int lt_report_now(enum lt_snap_reason reason, uintptr_t self_sp)
{
	int saved = errno, rc = -1;
	struct lt_scan_result scan = { 0 };
	struct lt_snap_totals totals;
	struct lt_snapshot_context ctx = {
		.reason = reason,
		.pid = getpid(),
		.ppid = getppid(),
	};

	lt_self.depth++;
	lt_report_lock();
	if (reason == LT_REASON_EXIT)
		lt_as_reserve_release();
	int fd = lt_open_snapshot_file();
	if (fd < 0) {
		log_with_errno("cannot create the snapshot file", "", errno);
		goto out;
	}
	struct lt_world *w = lt_view_stop();
	lt_view_classify(w, &scan, &totals, self_sp, NULL);
	lt_view_resume(w);
	ctx.sequence = lt_next_report_sequence();
	int wrc = lt_snapshot_write(fd, &ctx, &scan, &totals);
	lt_scan_release(&scan);
	if (wrc != 0) {
		log_with_errno("cannot write the snapshot", "", errno);
		goto out_close;
	}
	if (lt_opts.raw_file[0])
		lt_keep_raw_copy(fd, lt_opts.raw_file, ctx.pid, ctx.sequence);
	rc = run_reporter(fd);
	if (rc < 0 && !lt_opts.raw_file[0])
		lt_keep_raw_copy(fd, FALLBACK_RAW_FILE, ctx.pid, ctx.sequence);
out_close:
	close(fd);
out:
	lt_fd_reserve_fill();
	lt_report_unlock();
	lt_self.depth--;
	errno = saved;
	return rc;
}
