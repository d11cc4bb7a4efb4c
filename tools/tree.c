/* --error-exitcode over a process tree. The launcher names a results file
 * in LEAKTRACE_TREE ("ROOTPID:PATH") when error_exitcode is set; every
 * traced process of the tree (forked children, and exec'd programs with
 * trace_children) inherits it. At its exit each one's reporter appends
 * "PID ERRORS" to the file; the root's reporter (the process leaktrace
 * became) adds the others' errors to its own, so that the root exits with
 * error_exitcode when any process of the tree had leaks counting as
 * errors, and removes the file and its private directory. A process whose report failed counts as
 * one error (a gate fails closed). Processes still running when the root
 * exits are not counted. The program's pid, signals and exit status are
 * untouched: nothing stays between it and its parent.
 * Context: the leaktrace command (report --raw-fd), at a process's exit. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "snapshot.h"

/* The reporter is told by --tree= (its environment is cleaned of ours);
 * the launcher reads the variable it set. */
static const char *tree_value;

void lt_tree_set(const char *value)
{
	tree_value = value;
}

/* The root's pid and the file, or 0 when the variable is absent or bad. */
static pid_t tree_file(const char **path)
{
	const char *v = tree_value ? tree_value : getenv("LEAKTRACE_TREE");
	char *end;
	long pid;
	if (!v)
		return 0;
	pid = strtol(v, &end, 10);
	if (end == v || *end != ':' || pid <= 0 || end[1] != '/')
		return 0;
	*path = end + 1;
	return (pid_t)pid;
}

void lt_tree_remove(const char *path)
{
	char dir[4096];
	unlink(path);
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path || (size_t)(slash - path) >= sizeof(dir))
		return;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	/* Only the directory the launcher made: it is empty now. */
	if (strstr(dir, "/leaktrace-tree."))
		rmdir(dir);
}

void lt_tree_discard(void)
{
	const char *path;
	if (tree_file(&path) == getpid())
		lt_tree_remove(path);
}

int lt_tree_account(const struct lt_snapshot *snap, const struct lt_options *o, int errors,
		    FILE *diag)
{
	const char *path;
	pid_t root = tree_file(&path);
	if (!root || !o->error_exitcode || snap->process.reason != LT_REASON_EXIT)
		return errors;
	if ((pid_t)snap->process.pid != root) {
		/* A report that failed is recorded as -1: the root counts it as
		 * an error, as the process itself does (fail closed). */
		/* One short write to an O_APPEND file: lines never mix. */
		char line[64];
		int n = snprintf(line, sizeof(line), "%u %d\n", snap->process.pid, errors);
		int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, line, (size_t)n) != n)
				fprintf(diag, "leaktrace: cannot record this process's errors in %s\n",
					path);
			close(fd);
		}
		return errors;
	}
	if (errors < 0)
		return errors;
	FILE *f = fopen(path, "re");
	unsigned pid, procs = 0;
	long long total = 0;
	int e;
	char pids[256] = "";
	size_t used = 0;
	while (f && fscanf(f, "%u %d", &pid, &e) == 2) {
		if (pid == snap->process.pid || e == 0)
			continue;
		total += e < 0 ? 1 : e;
		procs++;
		if (used < sizeof(pids) - 16)
			used += (size_t)snprintf(pids + used, sizeof(pids) - used, "%s%u",
						 used ? ", " : "", pid);
	}
	if (f)
		fclose(f);
	lt_tree_remove(path);
	if (!total)
		return errors;
	fprintf(diag, "leaktrace: %lld error%s in %u other process%s of this process tree "
		"(pid%s %s) also count%s for --error-exitcode\n", total, total == 1 ? "" : "s",
		procs, procs == 1 ? "" : "es", procs == 1 ? "" : "s", pids, total == 1 ? "s" : "");
	return total > INT32_MAX - errors ? INT32_MAX : errors + (int)total;
}
