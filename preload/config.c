/* Configuration of the traced process: LEAKTRACE_OPTIONS, the path of the
 * reporter, and what children inherit. Context: cold, in the constructor,
 * before main. Reads envp as the loader passed it (no getenv), prints with
 * write(2) only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "preload-private.h"
#include "strbuf.h"

struct lt_options lt_opts;
char lt_tool_path[4096];

static const char *env_value(char **envp, const char *name)
{
	size_t len = strlen(name);
	for (char **e = envp; e && *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

static bool executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* The leaktrace command renders our snapshots: the launcher tells us where
 * it is; under a bare LD_PRELOAD it sits next to this library in a build
 * tree, or in the installed bindir. */
static void find_tool(char **envp)
{
	const char *from_env = env_value(envp, "LEAKTRACE_TOOL");
	Dl_info info;
	struct lt_strbuf sb;

	if (from_env && strlen(from_env) < sizeof(lt_tool_path)) {
		strcpy(lt_tool_path, from_env);
		return;
	}
	if (dladdr((void *)lt_self_range_init, &info) && info.dli_fname) {
		const char *slash = strrchr(info.dli_fname, '/');
		if (slash) {
			lt_strbuf_init(&sb, lt_tool_path, sizeof(lt_tool_path));
			lt_strbuf_putn(&sb, info.dli_fname, (size_t)(slash - info.dli_fname));
			lt_strbuf_puts(&sb, "/leaktrace");
			if (lt_strbuf_fits(&sb) && executable(lt_tool_path))
				return;
		}
	}
	lt_strbuf_init(&sb, lt_tool_path, sizeof(lt_tool_path));
	lt_strbuf_puts(&sb, LT_INSTALL_BINDIR "/leaktrace");
}

void lt_config_load(char **envp)
{
	const char *list = env_value(envp, "LEAKTRACE_OPTIONS");
	char err[512];

	lt_options_defaults(&lt_opts);
	if (list && lt_options_parse_list(&lt_opts, list, err, sizeof(err)) != 0) {
		char line[700];
		struct lt_strbuf sb;
		lt_strbuf_init(&sb, line, sizeof(line));
		lt_strbuf_puts(&sb, err);
		lt_strbuf_puts(&sb, " in LEAKTRACE_OPTIONS");
		lt_log(line);
		_exit(2);
	}
	/* Under a bare preload, naming the XML file is how one asks for XML. */
	if (lt_opts.xml_file[0])
		lt_opts.xml = true;
	lt_capture_depth = lt_opts.num_callers;
	find_tool(envp);
}

/* Removes every LD_PRELOAD entry that names this library, in place. */
static void scrub_preload(void)
{
	char *value = getenv("LD_PRELOAD");
	char *out;
	if (!value)
		return;
	out = value;
	for (char *p = value; *p;) {
		size_t len = strcspn(p, ": ");
		if (len && !lt_is_our_preload(p, len)) {
			if (out != value)
				*out++ = ':';
			memmove(out, p, len);
			out += len;
		}
		p += len;
		while (*p == ':' || *p == ' ')
			p++;
	}
	*out = '\0';
	if (!value[0])
		unsetenv("LD_PRELOAD");
}

void lt_config_scrub_environment(void)
{
	if (lt_opts.trace_children)
		return;
	scrub_preload();
	unsetenv("LEAKTRACE_OPTIONS");
	unsetenv("LEAKTRACE_TOOL");
}
