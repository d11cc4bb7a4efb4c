/* `leaktrace [options] [--] program [args]`: checks everything that can be
 * checked before the program runs, then becomes the program with
 * libleaktrace.so preloaded (same pid, so %p, signals and the exit status
 * are the program's own).
 * Context: the leaktrace command. Never starts an untraced run: any
 * problem is a one-line error and exit status 2. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "baseline.h"
#include "cli.h"
#include "strbuf.h"
#include "suppress.h"

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
		return lt_check_traceable(prog);
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
			return lt_check_traceable(cand);
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

/* One file name as valgrind takes it: %q{NAME} is expanded now, at
 * start-up, from this environment; a relative name is made absolute from
 * the start-up directory, so that the program's own chdir changes nothing
 * (and children traced with trace_children write where asked). %p stays:
 * the pid is the traced process's. Returns 0, or -1 after saying why. */
/* Text that must come out of %-expansion as it is: '%' doubled. */
static void put_literal(struct lt_strbuf *sb, const char *s, bool expand)
{
	for (; *s; s++)
		lt_strbuf_puts(sb, *s == '%' && expand ? "%%" : (const char[]){ *s, '\0' });
}

static int fix_path(const char *option, char *value, size_t cap, const char *cwd,
		    bool expand)
{
	char out[LT_OPT_LIST_MAX];
	struct lt_strbuf sb;
	const char *p = value;
	if (!value[0])
		return 0;
	lt_strbuf_init(&sb, out, sizeof(out));
	if (value[0] != '/') {
		put_literal(&sb, cwd, expand);
		lt_strbuf_puts(&sb, "/");
	}
	for (; *p; p++) {
		if (*p != '%' || !expand) {
			lt_strbuf_putn(&sb, p, 1);
			continue;
		}
		if (p[1] == 'p' || p[1] == 'n' || p[1] == '%') {
			lt_strbuf_putn(&sb, p, 2);   /* expanded per report */
			p++;
		} else if (p[1] == 'q' && p[2] == '{' && strchr(p + 3, '}')) {
			const char *close = strchr(p + 3, '}');
			char name[256];
			snprintf(name, sizeof(name), "%.*s", (int)(close - p - 3), p + 3);
			const char *env = getenv(name);
			if (!env) {
				fprintf(stderr, "leaktrace: option '--%s': environment variable %s "
					"(%%q{%s} in '%s') is not set\n", option, name, name, value);
				return -1;
			}
			put_literal(&sb, env, true);
			p = close;
		} else {
			fprintf(stderr, "leaktrace: option '--%s': unknown %% sequence in '%s' "
				"(known: %%p, %%n, %%q{NAME}, %%%%)\n", option, value);
			return -1;
		}
	}
	if (strchr(out, ':')) {
		/* LEAKTRACE_OPTIONS separates options with ':'. */
		fprintf(stderr, "leaktrace: option '--%s': file names cannot contain ':' ('%s')\n",
			option, out);
		return -1;
	}
	if (!lt_strbuf_fits(&sb) || sb.len >= cap) {
		fprintf(stderr, "leaktrace: option '--%s': file name too long\n", option);
		return -1;
	}
	memcpy(value, out, sb.len + 1);
	return 0;
}

static void dashed(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s", name);
	for (char *c = out; *c; c++)
		if (*c == '_')
			*c = '-';
}

/* A fixed output name that the report would refuse at exit (see
 * common/outfile.c), refused now, before the program runs. Names with %p
 * or %n are known only then. */
static int refused_output(const char *option, const char *path)
{
	struct stat st;
	if (!path[0] || strchr(path, '%') || strncmp(path, "/dev/", 5) == 0 ||
	    lstat(path, &st) != 0)
		return 0;
	const char *why = S_ISLNK(st.st_mode) ? "is a symbolic link (not followed; name the "
						"file it points to)"
			  : S_ISDIR(st.st_mode) ? "is a directory" : NULL;
	if (why)
		fprintf(stderr, "leaktrace: option '--%s': '%s' %s\n", option, path, why);
	return why ? -1 : 0;
}

/* Problems the traced program would only meet at exit, when it is too
 * late to say them, caught now; file names fixed as valgrind fixes them. */
static int check_outputs(struct lt_options *o)
{
	struct { const char *name; char *value; size_t cap; } strings[] = {
#define LT_OPT_BOOL(name, def, help)
#define LT_OPT_UINT(name, def, min, max, help)
#define LT_OPT_STRING(name, def, help) { #name, o->name, sizeof(o->name) },
#define LT_OPT_CHOICE(name, def, def_text, choices, help)
#define LT_OPT_KINDS(name, def, def_text, help)
#define LT_OPT_LIST(name, help)
#include "options.def"
#undef LT_OPT_BOOL
#undef LT_OPT_UINT
#undef LT_OPT_STRING
#undef LT_OPT_CHOICE
#undef LT_OPT_KINDS
#undef LT_OPT_LIST
	};
	char cwd[4096], option[64], err[LT_OPT_PATH_MAX + 400];
	if (!getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "leaktrace: cannot get the current directory: %s\n", strerror(errno));
		return -1;
	}
	/* Every file the report writes or reads: *_file and baselines. */
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		size_t n = strlen(strings[i].name);
		bool file = n > 5 && strcmp(strings[i].name + n - 5, "_file") == 0;
		if (!file && !strstr(strings[i].name, "baseline"))
			continue;
		/* Output names take %p (and so %q{}), input names do not. */
		bool output = file || strcmp(strings[i].name, "write_baseline") == 0;
		dashed(strings[i].name, option, sizeof(option));
		if (fix_path(option, strings[i].value, strings[i].cap, cwd, output) ||
		    (output && refused_output(option, strings[i].value)))
			return -1;
	}
	/* Suppressions files: read by the reporter at exit, in whatever
	 * directory the program is in by then. */
	char list[LT_OPT_LIST_MAX], one[LT_OPT_LIST_MAX];
	const char *cur = NULL, *v;
	size_t n;
	memcpy(list, o->suppressions, sizeof(list));
	o->suppressions[0] = '\0';
	while ((v = lt_options_list_next(list, &cur, &n))) {
		memcpy(one, v, n);
		one[n] = '\0';
		if (fix_path("suppressions", one, sizeof(one), cwd, false))
			return -1;
		if (lt_options_set(o, "suppressions", 12, one, strlen(one), err, sizeof(err)) < 0) {
			fprintf(stderr, "leaktrace: %s\n", err);
			return -1;
		}
	}
	if (o->xml && !o->xml_file[0]) {
		fprintf(stderr, "leaktrace: --xml=yes needs an XML output file: add --xml-file=FILE\n");
		return -1;
	}
	/* A suppressions file valgrind cannot read stops valgrind before the
	 * program runs: so here. */
	if (lt_supp_check(o, err, sizeof(err))) {
		fprintf(stderr, "leaktrace: %s\n", err);
		return -1;
	}
	if (lt_baseline_check(o, err, sizeof(err))) {
		fprintf(stderr, "leaktrace: %s\n", err);
		return -1;
	}
	return 0;
}

/* The environment's LEAKTRACE_OPTIONS first, the command line over it. */
static int merged_options(const struct lt_cli_options *cli, struct lt_options *o)
{
	char err[320];
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
	static char list[sizeof(struct lt_options) + 4096];
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

/* --error-exitcode over a process tree: the traced processes append their
 * error counts to a file named in LEAKTRACE_TREE ("ROOTPID:PATH"), and
 * the root's reporter adds them to its own (tools/tree.c). The root is
 * this process: exec keeps the pid. Only with error_exitcode: otherwise
 * nothing reads the counts. */
static int prepare_tree(const struct lt_options *o)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096], value[4200];
	if (!o->error_exitcode)
		return 0;
	/* In a directory of our own (0700), not loose in a shared /tmp. */
	snprintf(path, sizeof(path), "%s/leaktrace-tree.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = -1;
	if (mkdtemp(path)) {
		size_t n = strlen(path);
		snprintf(path + n, sizeof(path) - n, "/errors");
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			int err = errno;
			path[n] = '\0';
			rmdir(path);
			errno = err;
		}
	}
	if (fd < 0) {
		fprintf(stderr, "leaktrace: cannot create the process tree's results file in %s: %s\n",
			tmp && *tmp ? tmp : "/tmp", strerror(errno));
		return -1;
	}
	close(fd);
	snprintf(value, sizeof(value), "%d:%s", (int)getpid(), path);
	if (setenv("LEAKTRACE_TREE", value, 1)) {
		lt_tree_remove(path);
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
		if (w == LT_CLI_ERROR) {
			lt_cli_free(&cli);
			return LT_EXIT_USAGE;
		}
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
	    prepare_environment(&o, self) || prepare_tree(&o)) {
		lt_cli_free(&cli);
		return LT_EXIT_USAGE;
	}
	lt_cli_warn_ignored(&cli);
	lt_cli_free(&cli);
	execvp(argv[i], argv + i);
	fprintf(stderr, "leaktrace: cannot run '%s': %s\n", argv[i], strerror(errno));
	lt_tree_discard();
	return LT_EXIT_USAGE;
}
