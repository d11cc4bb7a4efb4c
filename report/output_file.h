/* A report file as a stdio stream: named by a pattern (%p, %n, %q{NAME}),
 * created through common/outfile.c (no symbolic link followed, nothing
 * truncated in place, mode 0600 minus the umask).
 * Context: offline side only. */
#ifndef LT_OUTPUT_FILE_H
#define LT_OUTPUT_FILE_H

#include <stdbool.h>
#include <stdio.h>

#include "outfile.h"
#include "snapshot.h"

struct lt_output_file {
	FILE *f;
	struct lt_outfile out;
};

/* Opens the file the pattern names for snap's process; what ("log file",
 * "JSON file", ...) names it in the one-line message written to diag when
 * it cannot be. Returns the stream, or NULL. */
FILE *lt_output_file_open(struct lt_output_file *of, const char *what, const char *pattern,
			  const struct lt_snapshot *snap, bool append, FILE *diag);

/* Closes the stream; the file takes its name only when ok and everything
 * reached it. Returns 0, or -1 with errno set. */
int lt_output_file_close(struct lt_output_file *of, bool ok);

#endif
