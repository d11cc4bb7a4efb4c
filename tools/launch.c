/* `leaktrace [options] [--] program [args]`: checks everything that can be
 * checked before the program runs, then becomes the program with
 * libleaktrace.so preloaded (same pid, so %p, signals and the exit status
 * are the program's own).
 * Context: the leaktrace command. Never starts an untraced run: any
 * problem is a one-line error and exit status 2. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define PRELOAD_NAME "libleaktrace.so"

static bool runnable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The same search execvp will make, done first so that a typo is our
 * clear error rather than a failed exec after the environment changed. */
static int check_program(const char *prog)
{
	struct stat st;
	if (strchr(prog, '/')) {
		if (stat(prog, &st) != 0) {
			fprintf(stderr, "leaktrace: cannot run '%s': %s\n", prog, strerror(errno));
			return -1;
		}
		if (!runnable(prog)) {
			fprintf(stderr, "leaktrace: cannot run '%s': not an executable file\n", prog);
			return -1;
		}
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		char cand[4096];
		int n = end == p ? snprintf(cand, sizeof(cand), "%s", prog)
				 : snprintf(cand, sizeof(cand), "%.*s/%s", (int)(end - p), p, prog);
		if (n > 0 && (size_t)n < sizeof(cand) && runnable(cand))
			return 0;
		if (!*end)
			break;
		p = end;
	}
	fprintf(stderr, "leaktrace: cannot run '%s': no such program in PATH\n", prog);
	return -1;
}

/* libleaktrace.so sits next to the leaktrace executable, in the build
 * tree as in an installation that keeps them together. */
static int preload_path(const char *self, char *out, size_t len)
{
	const char *slash = strrchr(self, '/');
	int n = snprintf(out, len, "%.*s/%s", (int)(slash - self), self, PRELOAD_NAME);
	if (n < 0 || (size_t)n >= len || access(out, R_OK) != 0) {
		fprintf(stderr, "leaktrace: cannot find the preload library %s: %s\n", out,
			n >= 0 && (size_t)n < len ? strerror(errno) : "path too long");
		return -1;
	}
	return 0;
}

static int set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	char *value;
	int rc;
	if (old && *old)
		rc = asprintf(&value, "%s:%s", lib, old);
	else
		rc = asprintf(&value, "%s", lib);
	if (rc < 0)
		return -1;
	rc = setenv("LD_PRELOAD", value, 1);
	free(value);
	return rc;
}

/* Problems the traced program would only meet at exit, when it is too
 * late to say them: caught now. */
static int check_outputs(const struct lt_options *o)
{
	const char *files[][2] = {
		{ "log-file", o->log_file }, { "xml-file", o->xml_file },
		{ "raw-file", o->raw_file },
	};
	char scratch[LT_OPT_PATH_MAX + 64];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *v = files[i][1];
		if (strchr(v, ':')) {
			/* LEAKTRACE_OPTIONS separates options with ':'. */
			fprintf(stderr, "leaktrace: option '--%s': file names cannot contain ':'\n",
				files[i][0]);
			return -1;
		}
		if (v[0] && lt_expand_path(v, 1, scratch, sizeof(scratch)) != 0) {
			fprintf(stderr, "leaktrace: option '--%s': unknown %% sequence in '%s' "
				"(only %%p and %%%% are known)\n", files[i][0], v);
			return -1;
		}
	}
	if (o->xml && !o->xml_file[0]) {
		fprintf(stderr, "leaktrace: --xml=yes needs an XML output file: add --xml-file=FILE\n");
		return -1;
	}
	return 0;
}

/* The environment's LEAKTRACE_OPTIONS first, the command line over it. */
static int merged_options(const struct lt_cli_options *cli, struct lt_options *o)
{
	char err[256];
	const char *env = getenv("LEAKTRACE_OPTIONS");
	lt_options_defaults(o);
	if (env && lt_options_parse_list(o, env, err, sizeof(err))) {
		fprintf(stderr, "leaktrace: LEAKTRACE_OPTIONS: %s\n", err);
		return -1;
	}
	if (lt_cli_apply(cli, o, err, sizeof(err))) {
		fprintf(stderr, "leaktrace: %s\n", err);
		return -1;
	}
	return 0;
}

static int prepare_environment(const struct lt_options *o, const char *self)
{
	char lib[4096 + sizeof(PRELOAD_NAME)];
	char list[4 * LT_OPT_PATH_MAX + 512];
	if (preload_path(self, lib, sizeof(lib)))
		return -1;
	if (lt_options_format(o, list, sizeof(list)) >= sizeof(list)) {
		fprintf(stderr, "leaktrace: options too long\n");
		return -1;
	}
	if (set_preload(lib) || setenv("LEAKTRACE_OPTIONS", list, 1) ||
	    setenv("LEAKTRACE_TOOL", self, 1)) {
		fprintf(stderr, "leaktrace: cannot set the environment: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int lt_launch_main(int argc, char **argv)
{
	struct lt_cli_options cli = { 0 };
	struct lt_options scratch, o;
	const char *self = lt_cli_self_path();
	int i;

	lt_options_defaults(&scratch);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			lt_cli_usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("leaktrace-%s\n", LT_VERSION);
			return 0;
		}
		enum lt_cli_word w = lt_cli_take(&cli, argv[i], &scratch);
		if (w == LT_CLI_ERROR)
			return LT_EXIT_USAGE;
		if (w == LT_CLI_END)
			break;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc) {
		fprintf(stderr, "leaktrace: no program to run (see leaktrace --help)\n");
		return LT_EXIT_USAGE;
	}
	if (!self) {
		fprintf(stderr, "leaktrace: cannot find my own executable: %s\n", strerror(errno));
		return LT_EXIT_USAGE;
	}
	if (merged_options(&cli, &o) || check_outputs(&o) || check_program(argv[i]) ||
	    prepare_environment(&o, self))
		return LT_EXIT_USAGE;
	free(cli.words);
	execvp(argv[i], argv + i);
	fprintf(stderr, "leaktrace: cannot run '%s': %s\n", argv[i], strerror(errno));
	return LT_EXIT_USAGE;
}
