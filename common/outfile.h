/* Creating the files reports and snapshots go to, safely: the final name
 * is never followed when it is a symbolic link, an existing file is never
 * truncated in place, and a new file gets mode 0600 (less when the umask
 * takes more away).
 * Context: SIGNAL-SAFE (open, lstat, renameat, unlink, getrandom only): the
 * preloaded library uses it from the frozen copy of a report on demand. */
#ifndef LT_OUTFILE_H
#define LT_OUTFILE_H

#include <stdbool.h>

#include "options.h"

enum lt_outfile_mode {
	/* A fresh document: an existing regular file is replaced as a whole
	 * (written beside it, then renamed over it), never truncated. */
	LT_OUTFILE_REPLACE,
	/* A text log that already holds this process's earlier reports. */
	LT_OUTFILE_APPEND,
	/* Never touch an existing file (a name chosen by us, not the user). */
	LT_OUTFILE_NEW,
};

struct lt_outfile {
	int fd;
	char path[LT_OPT_PATH_MAX + 64];
	char temp[LT_OPT_PATH_MAX + 96];   /* "" when writing to path itself */
};

/* How to open a file: open(2), or the preloaded library's version that
 * gives up a reserved descriptor when the table is full. */
typedef int (*lt_open_fn)(const char *path, int flags, int mode);

/* Opens path for writing. Returns 0, or -errno with *why saying what was
 * refused in words (a static string), e.g. "is a symbolic link (not
 * followed)". open_fn may be NULL (open(2)). */
int lt_outfile_open(struct lt_outfile *o, const char *path, enum lt_outfile_mode mode,
		    lt_open_fn open_fn, const char **why);

/* Gives the file its name once written (the rename of a replacement) and
 * closes it. With ok false, or when closing fails, a replacement is
 * removed and the earlier file stays as it was. Returns 0 or -errno. */
int lt_outfile_finish(struct lt_outfile *o, bool ok);

/* The name is taken by the file only at lt_outfile_finish: the caller
 * that wraps fd in a FILE closes the FILE, then calls this with the
 * outcome. Returns 0 or -errno. */
int lt_outfile_commit(struct lt_outfile *o, bool ok);

#endif
