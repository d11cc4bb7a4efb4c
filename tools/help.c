/* `leaktrace --help`: usage, then the options table generated from
 * common/options.def, so the help can never disagree with the parser.
 * Context: the leaktrace command (offline side). */
#include "config.h"

#include <string.h>

#include "cli.h"

#define HELP_COLUMN 30
#define WIDTH 79

static const char *placeholder(const struct lt_option_desc *d)
{
	size_t n = strlen(d->name);
	switch (d->type) {
	case LT_OPTION_BOOL: return "yes|no";
	case LT_OPTION_UINT: return "number";
	case LT_OPTION_CHOICE: return d->choices;
	case LT_OPTION_KINDS: return "kinds";
	case LT_OPTION_LIST: return "file";
	default: return n > 5 && strcmp(d->name + n - 5, "_file") == 0 ? "file" : "text";
	}
}

/* Writes text from column `col`, wrapping at WIDTH and indenting new lines
 * to HELP_COLUMN. */
static void wrap(FILE *out, const char *text, size_t col)
{
	const char *p = text;
	while (*p) {
		size_t word = strcspn(p, " ");
		if (col > HELP_COLUMN && col + 1 + word > WIDTH) {
			fprintf(out, "\n%*s", HELP_COLUMN, "");
			col = HELP_COLUMN;
		} else if (col > HELP_COLUMN) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, word, out);
		col += word;
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void option_line(FILE *out, const struct lt_option_desc *d)
{
	char head[128], tail[1024];
	int n = snprintf(head, sizeof(head), "    --");
	for (const char *c = d->name; *c && n < (int)sizeof(head) - 1; c++)
		head[n++] = *c == '_' ? '-' : *c;
	snprintf(head + n, sizeof(head) - (size_t)n, "=<%s>", placeholder(d));
	fputs(head, out);
	size_t col = strlen(head);
	if (col + 2 > HELP_COLUMN) {
		fprintf(out, "\n%*s", HELP_COLUMN, "");
	} else {
		fprintf(out, "%*s", (int)(HELP_COLUMN - col), "");
	}
	snprintf(tail, sizeof(tail), "%s [default: %s]", d->help,
		 d->default_text[0] ? d->default_text : "none");
	/* The first word starts at HELP_COLUMN; wrap() adds spaces between. */
	wrap(out, tail, HELP_COLUMN);
}

void lt_cli_usage(FILE *out)
{
	fprintf(out,
		"usage: leaktrace [options] [--] program [args...]\n"
		"       leaktrace report [options] FILE\n"
		"       leaktrace report [options] --raw-fd=N\n"
		"\n"
		"Runs program with libleaktrace.so preloaded; when it exits, prints a\n"
		"valgrind-style report of the heap blocks it never freed. 'leaktrace report'\n"
		"renders a raw snapshot kept with --raw-file, or one handed over on a file\n"
		"descriptor. Options end at the first word that is not one, or at '--'.\n"
		"\n"
		"options (under LD_PRELOAD alone: LEAKTRACE_OPTIONS=name=value:name=value):\n");
	for (size_t i = 0; i < lt_option_count; i++)
		option_line(out, &lt_option_table[i]);
	fprintf(out,
		"    -q, --quiet               Same as --verbosity=0.\n"
		"    -v, --verbose             Same as --verbosity=2 (each -v adds one).\n"
		"    -s                        Same as --show-error-list=yes.\n"
		"    --help                    Show this help.\n"
		"    --version                 Show the version.\n"
		"\n"
		"valgrind's options that do not apply to leak checking (--track-origins,\n"
		"--undef-value-errors, --malloc-fill, --free-fill, --vgdb, --demangle, ...)\n"
		"are accepted and ignored, with one warning line naming them; any other\n"
		"unknown option is an error (exit status 2).\n"
		"\n"
		"Exit status: the program's own; with --error-exitcode=N, N when loss\n"
		"records of the errors_for_leak_kinds kinds (not suppressed) were found.\n"
		"'leaktrace report FILE' exits 0, or N in that case; 1 unreadable input,\n"
		"2 bad usage.\n"
		"\n"
		"leaktrace-%s\n", LT_VERSION);
}
