/* What the reporter runs with: `leaktrace report --raw-fd=3` (and
 * --delta-fd=4 when the previous report's figures are passed), and the
 * program's environment without what is ours. It must not trace itself or
 * see our settings: the entry of this library in LD_PRELOAD goes (the
 * user's other entries stay), and every LEAKTRACE_* variable goes. The
 * one thing the reporter needs from them, the process tree's results file
 * (LEAKTRACE_TREE, see tools/tree.c), is passed as --tree=.
 * Context: SIGNAL-SAFE: also used by the frozen copy of a report on
 * demand. Memory comes from a mapping of ours, never the allocator. */
#define _GNU_SOURCE
#include <string.h>

#include "preload-private.h"

extern char **environ;

#define TREE_VAR "LEAKTRACE_TREE="
#define TREE_ARG "--tree="
#define FD_ARG "--raw-fd=3"

bool lt_is_our_preload(const char *entry, size_t len)
{
	const char *base = entry;
	for (size_t i = 0; i < len; i++)
		if (entry[i] == '/')
			base = entry + i + 1;
	return (size_t)(entry + len - base) == strlen("libleaktrace.so") &&
	       strncmp(base, "libleaktrace.so", strlen("libleaktrace.so")) == 0;
}

/* "LD_PRELOAD=" and the entries of value that are not ours, into out (as
 * long as value, plus the name). Returns false when none is left. */
static bool preload_without_ours(const char *value, char *out)
{
	char *p = out + strlen("LD_PRELOAD=");
	memcpy(out, "LD_PRELOAD=", strlen("LD_PRELOAD="));
	char *start = p;
	while (*value) {
		size_t len = strcspn(value, ": ");
		if (len && !lt_is_our_preload(value, len)) {
			if (p != start)
				*p++ = ':';
			memcpy(p, value, len);
			p += len;
		}
		value += len;
		while (*value == ':' || *value == ' ')
			value++;
	}
	*p = '\0';
	return p != start;
}

int lt_reporter_exec_prepare(struct lt_reporter_exec *x, bool with_delta_state)
{
	size_t n = 0, preload_len = 0;
	const char *tree = NULL;
	for (char **e = environ; e && *e; e++) {
		n++;
		if (strncmp(*e, "LD_PRELOAD=", 11) == 0)
			preload_len += strlen(*e) + 1;
		else if (strncmp(*e, TREE_VAR, strlen(TREE_VAR)) == 0)
			tree = *e + strlen(TREE_VAR);
	}
	size_t tree_len = tree ? strlen(tree) : 0;
	x->size = (n + 1) * sizeof(char *) + preload_len + 1 + sizeof(FD_ARG) +
		  sizeof(TREE_ARG) + tree_len;
	x->mapping = lt_os_map(x->size);
	if (!x->mapping)
		return -1;
	char **env = x->mapping;
	char *strings = (char *)(env + n + 1);
	size_t k = 0;
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, "LEAKTRACE_", 10) == 0)
			continue;
		if (strncmp(*e, "LD_PRELOAD=", 11) == 0) {
			if (preload_without_ours(*e + 11, strings)) {
				env[k++] = strings;
				strings += strlen(strings) + 1;
			}
			continue;
		}
		env[k++] = *e;
	}
	env[k] = NULL;
	x->envp = env;

	k = 0;
	x->argv[k++] = lt_tool_path;
	x->argv[k++] = "report";
	x->argv[k++] = memcpy(strings, FD_ARG, sizeof(FD_ARG));
	strings += sizeof(FD_ARG);
	if (tree) {
		memcpy(strings, TREE_ARG, sizeof(TREE_ARG) - 1);
		memcpy(strings + sizeof(TREE_ARG) - 1, tree, tree_len + 1);
		x->argv[k++] = strings;
	}
	if (with_delta_state)
		x->argv[k++] = "--delta-fd=4";   /* LT_DELTA_STATE_FD */
	x->argv[k] = NULL;
	return 0;
}

void lt_reporter_exec_release(struct lt_reporter_exec *x)
{
	if (x->mapping)
		lt_os_unmap(x->mapping, x->size);
	x->mapping = NULL;
}
