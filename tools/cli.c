/* Option words of the leaktrace command: "--name=value" for every option
 * of common/options.def, '-' or '_' between words, plus valgrind's short
 * flags (-q, -v, -s) and spellings (--quiet, --verbose); valgrind's
 * options that do not apply to leak checking are taken and set aside for
 * one warning. Each word is checked as it is read, so that a bad one is a
 * one-line error naming it.
 * Context: the leaktrace command (offline side). */
#include "cli.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Flags without a value, as valgrind spells them, and the option word
 * each one stands for. */
static const struct {
	const char *flag, *word;
} flag_words[] = {
	{ "-q", "--quiet=yes" },
	{ "--quiet", "--quiet=yes" },
	{ "-v", "--verbose=yes" },
	{ "--verbose", "--verbose=yes" },
	{ "-s", "--show-error-list=yes" },
};

/* valgrind's outputs to a descriptor or a socket: the report is written
 * by a process of leaktrace's, which does not hold the program's
 * descriptors, so only files are supported. */
static const char *const unsupported[] = { "log-fd", "log-socket", "xml-fd", "xml-socket" };

static bool same_name(const char *canon, const char *name, size_t len)
{
	size_t k = 0;
	while (k < len && canon[k] && (canon[k] == '_' ? '-' : canon[k]) ==
					  (name[k] == '_' ? '-' : name[k]))
		k++;
	return k == len && !canon[k];
}

static int remember(const char ***list, size_t *count, const char *word)
{
	const char **words = realloc(*list, (*count + 1) * sizeof(*words));
	if (!words) {
		fprintf(stderr, "leaktrace: out of memory\n");
		return -1;
	}
	words[(*count)++] = word;
	*list = words;
	return 0;
}

enum lt_cli_word lt_cli_take(struct lt_cli_options *cli, const char *arg,
			     struct lt_options *scratch)
{
	char err[320];
	if (arg[0] != '-' || strcmp(arg, "-") == 0 || strcmp(arg, "--") == 0)
		return LT_CLI_END;
	for (size_t i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]); i++)
		if (strcmp(arg, flag_words[i].flag) == 0) {
			arg = flag_words[i].word;
			break;
		}
	if (arg[1] != '-') {
		fprintf(stderr, "leaktrace: unknown option '%s'\n", arg);
		return LT_CLI_ERROR;
	}
	const char *name = arg + 2;
	const char *eq = strchr(name, '=');
	size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (same_name(unsupported[i], name, name_len)) {
			fprintf(stderr, "leaktrace: option '--%s' is not supported: leaktrace "
				"writes reports to files (--log-file, --xml-file) or to "
				"standard error\n", unsupported[i]);
			return LT_CLI_ERROR;
		}
	if (lt_option_ignored(name, name_len))
		return remember(&cli->ignored, &cli->nignored, arg) ? LT_CLI_ERROR : LT_CLI_OPTION;
	if (!eq) {
		/* Say "unknown" before "needs a value" when both are true. */
		int rc = lt_options_set(scratch, name, name_len, "", 0, err, sizeof(err));
		if (rc < 0 && strncmp(err, "unknown option", 14) == 0)
			fprintf(stderr, "leaktrace: unknown option '%s'\n", arg);
		else
			fprintf(stderr, "leaktrace: option '%s' needs a value: %s=VALUE\n", arg, arg);
		return LT_CLI_ERROR;
	}
	if (lt_options_set(scratch, name, name_len, eq + 1, strlen(eq + 1), err, sizeof(err)) < 0) {
		if (strncmp(err, "unknown option", 14) == 0)
			fprintf(stderr, "leaktrace: unknown option '%.*s'\n", (int)(name_len + 2), arg);
		else
			fprintf(stderr, "leaktrace: %s\n", err);
		return LT_CLI_ERROR;
	}
	return remember(&cli->words, &cli->count, arg) ? LT_CLI_ERROR : LT_CLI_OPTION;
}

int lt_cli_apply(const struct lt_cli_options *cli, struct lt_options *o,
		 char *err, size_t errlen)
{
	for (size_t i = 0; i < cli->count; i++) {
		const char *name = cli->words[i] + 2;
		const char *eq = strchr(name, '=');
		if (!eq || lt_options_set(o, name, (size_t)(eq - name), eq + 1,
					  strlen(eq + 1), err, errlen) < 0)
			return -1;
	}
	return 0;
}

void lt_cli_warn_ignored(const struct lt_cli_options *cli)
{
	if (!cli->nignored)
		return;
	fprintf(stderr, "leaktrace: warning: ignoring valgrind option%s that do%s not apply "
		"to leak checking:", cli->nignored == 1 ? "" : "s", cli->nignored == 1 ? "es" : "");
	for (size_t i = 0; i < cli->nignored; i++)
		fprintf(stderr, " %s", cli->ignored[i]);
	fputc('\n', stderr);
}

void lt_cli_free(struct lt_cli_options *cli)
{
	free(cli->words);
	free(cli->ignored);
	cli->words = cli->ignored = NULL;
	cli->count = cli->nignored = 0;
}

const char *lt_cli_self_path(void)
{
	static char path[4096];
	ssize_t n;
	if (path[0])
		return path;
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0 || (size_t)n >= sizeof(path) - 1) {
		path[0] = '\0';
		return NULL;
	}
	path[n] = '\0';
	return path;
}
