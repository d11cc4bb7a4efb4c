/* Pieces shared by the leaktrace subcommands: option words, usage, the
 * path of the running executable.
 * Context: the leaktrace command (offline side). */
#ifndef LT_CLI_H
#define LT_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "options.h"

/* Exit statuses of the command itself. */
#define LT_EXIT_INPUT 1           /* unreadable snapshot, unwritable report */
#define LT_EXIT_USAGE 2           /* bad option or arguments */

/* Option words as typed, kept to be applied in order over a base (the
 * environment's or the snapshot's options). */
struct lt_cli_options {
	const char **words;       /* "--name=value" */
	size_t count;
	const char **ignored;     /* valgrind options taken and ignored */
	size_t nignored;
};

enum lt_cli_word { LT_CLI_OPTION, LT_CLI_END, LT_CLI_ERROR };

/* Classifies argv word arg: an option of the table (checked against a
 * scratch copy of the options and remembered in cli), the end of the
 * options (a non-option word; "--" is left to the caller), or an error
 * already said on stderr. */
enum lt_cli_word lt_cli_take(struct lt_cli_options *cli, const char *arg,
			     struct lt_options *scratch);

/* Applies the remembered words over o. They were checked by lt_cli_take,
 * so this only fails when a caller skipped it. */
int lt_cli_apply(const struct lt_cli_options *cli, struct lt_options *o,
		 char *err, size_t errlen);

/* One warning line on stderr naming the ignored valgrind options, if
 * any were given. */
void lt_cli_warn_ignored(const struct lt_cli_options *cli);

void lt_cli_free(struct lt_cli_options *cli);

/* The usage text with the options table. */
void lt_cli_usage(FILE *out);

/* The absolute path of the running executable, or NULL. */
const char *lt_cli_self_path(void);

/* ---- tree.c: --error-exitcode over a process tree ---- */

struct lt_snapshot;

/* The reporter's --tree=ROOTPID:PATH: the preloaded library passes on
 * the LEAKTRACE_TREE the launcher set, as the reporter's environment is
 * cleaned of leaktrace's variables. */
void lt_tree_set(const char *value);

/* For the reporter of a process at its exit: with error_exitcode set and
 * a tree given (--tree=, or LEAKTRACE_TREE for the launcher), a process other than the root
 * records its errors for the root; the root adds the others' (and says so
 * on diag). Returns the errors that decide the exit status. */
int lt_tree_account(const struct lt_snapshot *snap, const struct lt_options *o, int errors,
		    FILE *diag);

/* The launcher could not run the program: removes the results file. */
void lt_tree_discard(void);

/* Removes a results file and the private directory it sits in. */
void lt_tree_remove(const char *path);

int lt_launch_main(int argc, char **argv);
int lt_report_main(int argc, char **argv);

/* Whether the program at path can be traced with LD_PRELOAD (not static,
 * not setuid/setgid/capabilities for us): 0, or -1 after one line on
 * stderr (progcheck.c). */
int lt_check_traceable(const char *path);

/* `leaktrace signal PID` (signal_cmd.c). */
int lt_signal_main(int argc, char **argv);

/* `leaktrace diff A.json B.json`, `leaktrace trend R.json...` (growth_cmd.c). */
int lt_diff_main(int argc, char **argv);
int lt_trend_main(int argc, char **argv);

#endif
