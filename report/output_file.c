/* Report files as stdio streams over common/outfile.c: the file is
 * created (or its replacement is) before the stream, and takes its name
 * when the stream is closed with everything written.
 * Context: offline side only. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "output_file.h"

extern char **environ;

FILE *lt_output_file_open(struct lt_output_file *of, const char *what, const char *pattern,
			  const struct lt_snapshot *snap, bool append, FILE *diag)
{
	char path[LT_OPT_PATH_MAX + 64], err[300];
	const char *why;
	of->f = NULL;
	if (lt_expand_report_path(pattern, (pid_t)snap->process.pid, snap->process.sequence,
				  environ, path, sizeof(path), err, sizeof(err)) != 0) {
		fprintf(diag, "leaktrace: %s '%s': %s\n", what, pattern, err);
		return NULL;
	}
	int rc = lt_outfile_open(&of->out, path, append ? LT_OUTFILE_APPEND : LT_OUTFILE_REPLACE,
				 NULL, &why);
	if (rc == 0) {
		of->f = fdopen(of->out.fd, append ? "a" : "w");
		if (!of->f) {
			rc = -errno;
			lt_outfile_finish(&of->out, false);
			why = NULL;
		}
	}
	if (!of->f)
		fprintf(diag, "leaktrace: cannot create %s '%s': %s\n", what, path,
			why ? why : strerror(-rc));
	return of->f;
}

int lt_output_file_close(struct lt_output_file *of, bool ok)
{
	int rc = fclose(of->f) != 0 ? -errno : 0;
	of->f = NULL;
	int crc = lt_outfile_commit(&of->out, ok && rc == 0);
	if (rc || crc) {
		errno = rc ? -rc : -crc;
		return -1;
	}
	return 0;
}
