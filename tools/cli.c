/* Option words of the leaktrace command: "--name=value" for every option
 * of common/options.def, '-' or '_' between words, checked as they are
 * read so that a bad one is a one-line error naming it.
 * Context: the leaktrace command (offline side). */
#include "cli.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool known_name(const char *name, size_t len)
{
	for (size_t i = 0; i < lt_option_count; i++) {
		const char *canon = lt_option_table[i].name;
		size_t k = 0;
		while (k < len && canon[k] && canon[k] == (name[k] == '-' ? '_' : name[k]))
			k++;
		if (k == len && !canon[k])
			return true;
	}
	return false;
}

enum lt_cli_word lt_cli_take(struct lt_cli_options *cli, const char *arg,
			     struct lt_options *scratch)
{
	char err[256];
	if (arg[0] != '-' || strcmp(arg, "-") == 0 || strcmp(arg, "--") == 0)
		return LT_CLI_END;
	if (arg[1] != '-') {
		fprintf(stderr, "leaktrace: unknown option '%s'\n", arg);
		return LT_CLI_ERROR;
	}
	const char *name = arg + 2;
	const char *eq = strchr(name, '=');
	size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
	if (!known_name(name, name_len)) {
		fprintf(stderr, "leaktrace: unknown option '%.*s'\n", (int)(name_len + 2), arg);
		return LT_CLI_ERROR;
	}
	if (!eq) {
		fprintf(stderr, "leaktrace: option '%s' needs a value: %s=VALUE\n", arg, arg);
		return LT_CLI_ERROR;
	}
	if (lt_options_set(scratch, name, name_len, eq + 1, strlen(eq + 1), err, sizeof(err))) {
		fprintf(stderr, "leaktrace: %s\n", err);
		return LT_CLI_ERROR;
	}
	const char **words = realloc(cli->words, (cli->count + 1) * sizeof(*words));
	if (!words) {
		fprintf(stderr, "leaktrace: out of memory\n");
		return LT_CLI_ERROR;
	}
	words[cli->count++] = arg;
	cli->words = words;
	return LT_CLI_OPTION;
}

int lt_cli_apply(const struct lt_cli_options *cli, struct lt_options *o,
		 char *err, size_t errlen)
{
	for (size_t i = 0; i < cli->count; i++) {
		const char *name = cli->words[i] + 2;
		const char *eq = strchr(name, '=');
		if (!eq || lt_options_set(o, name, (size_t)(eq - name), eq + 1,
					  strlen(eq + 1), err, errlen))
			return -1;
	}
	return 0;
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
