/* `leaktrace report [options] FILE | --raw-fd=N`: loads a raw snapshot,
 * takes the options it was recorded with, applies the command line over
 * them, symbolizes and renders. The preloaded library runs this at exit
 * with --raw-fd and the program's original stderr on fd 2.
 * Context: the leaktrace command, a process of its own. Exit status: 0
 * rendered (with FILE: and no error, or error_exitcode unset), 1
 * unreadable input or unwritable report, 2 usage, error_exitcode (FILE)
 * or LT_REPORT_STATUS_ERRORS (--raw-fd) rendered and leaks counting as
 * errors found. Never crashes on a bad file: the reader validates
 * everything. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "delta.h"
#include "report.h"
#include "suppress.h"
#include "snapshot.h"
#include "symbolizer.h"

struct report_args {
	struct lt_cli_options cli;
	const char *file;
	int fd;                   /* -1 unless --raw-fd */
};

static int parse_fd(const char *s)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 0x7fffffff)
		return -1;
	return (int)v;
}

static int parse_args(int argc, char **argv, struct report_args *a)
{
	struct lt_options scratch;
	int i;
	lt_options_defaults(&scratch);
	a->fd = -1;
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--raw-fd=", 9) == 0 || strncmp(argv[i], "--raw_fd=", 9) == 0) {
			a->fd = parse_fd(argv[i] + 9);
			if (a->fd < 0) {
				fprintf(stderr, "leaktrace: option '--raw-fd' expects a file descriptor number\n");
				return -1;
			}
			continue;
		}
		/* From the preloaded library: the process tree this report
		 * counts in (tools/tree.c). */
		if (strncmp(argv[i], "--tree=", 7) == 0) {
			lt_tree_set(argv[i] + 7);
			continue;
		}
		/* The previous report's figures (delta.h), from the library. */
		if (strncmp(argv[i], "--delta-fd=", 11) == 0 || strncmp(argv[i], "--delta_fd=", 11) == 0) {
			int fd = parse_fd(argv[i] + 11);
			if (fd < 0) {
				fprintf(stderr, "leaktrace: option '--delta-fd' expects a file descriptor number\n");
				return -1;
			}
			lt_delta_set_state_fd(fd);
			continue;
		}
		enum lt_cli_word w = lt_cli_take(&a->cli, argv[i], &scratch);
		if (w == LT_CLI_ERROR)
			return -1;
		if (w == LT_CLI_END)
			break;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (a->fd < 0 && i < argc)
		a->file = argv[i++];
	if (i < argc) {
		fprintf(stderr, "leaktrace: report: unexpected argument '%s'\n", argv[i]);
		return -1;
	}
	if (a->fd < 0 && !a->file) {
		fprintf(stderr, "leaktrace: report: no snapshot file given (see leaktrace --help)\n");
		return -1;
	}
	return 0;
}

/* The options the program ran with, then the command line's. */
static void effective_options(const struct lt_snapshot *snap, const char *source,
			      const struct lt_cli_options *cli, struct lt_options *o)
{
	char err[256];
	lt_options_defaults(o);
	if (lt_options_parse_list(o, snap->options, err, sizeof(err))) {
		fprintf(stderr, "leaktrace: snapshot %s: ignoring its options: %s\n", source, err);
		lt_options_defaults(o);
	}
	/* Checked word by word while parsing: cannot fail here. */
	lt_cli_apply(cli, o, err, sizeof(err));
}

int lt_report_main(int argc, char **argv)
{
	static char errbuf[BUFSIZ * 4];
	struct report_args a = { 0 };
	struct lt_snapshot snap;
	struct lt_options o;
	char source[64], err[512];
	int rc;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			lt_cli_usage(stdout);
			return 0;
		}
	if (parse_args(argc, argv, &a)) {
		lt_cli_free(&a.cli);
		return LT_EXIT_USAGE;
	}
	lt_cli_warn_ignored(&a.cli);
	if (!a.file)
		snprintf(source, sizeof(source), "from fd %d", a.fd);
	if (lt_snapshot_load(a.file, a.fd, &snap, err, sizeof(err))) {
		fprintf(stderr, "leaktrace: cannot read snapshot %s: %s\n",
			a.file ? a.file : source, err);
		lt_cli_free(&a.cli);
		return LT_EXIT_INPUT;
	}
	effective_options(&snap, a.file ? a.file : source, &a.cli, &o);
	lt_cli_free(&a.cli);
	/* A suppressions file named on this command line is checked as the
	 * launcher checks it: a usage error, before any work. */
	if (a.file && lt_supp_check(&o, err, sizeof(err))) {
		fprintf(stderr, "leaktrace: %s\n", err);
		lt_snapshot_free(&snap);
		return LT_EXIT_USAGE;
	}

	/* One write per buffer, not per line: stderr is unbuffered. */
	setvbuf(stderr, errbuf, _IOFBF, sizeof(errbuf));
	lt_debugcache_configure(o.symbol_cache);
	struct lt_symbolizer *sym = lt_symbolizer_new(&snap, stderr);
	if (!sym) {
		fprintf(stderr, "leaktrace: out of memory\n");
		lt_snapshot_free(&snap);
		return LT_EXIT_INPUT;
	}
	struct lt_frame_source src = lt_symbolizer_source(sym);
	rc = lt_report_write(&snap, &src, &o, lt_cli_self_path(), stderr, stderr);
	if (a.fd >= 0)
		rc = lt_tree_account(&snap, &o, rc, stderr);
	fflush(stderr);
	lt_symbolizer_free(sym);
	lt_snapshot_free(&snap);
	if (rc < 0)
		return LT_EXIT_INPUT;
	/* For the preloaded library, which applies error_exitcode to the
	 * program itself: whether errors were found. For a person or a
	 * script rendering a file: valgrind's --error-exitcode. */
	if (a.fd >= 0)
		return rc > 0 ? LT_REPORT_STATUS_ERRORS : 0;
	return rc > 0 && o.error_exitcode ? (int)o.error_exitcode : 0;
}
