/* Function names as valgrind shows them: C++ names demangled by the C++
 * runtime's own demangler, and the special roles of main and of glibc's
 * start-up functions recognised from the raw symbol name.
 * Context: offline side only. */
#include <stdlib.h>
#include <string.h>

#include "symbolizer-private.h"

/* From the C++ ABI (libstdc++, libc++abi); we link libstdc++ for it. */
extern char *__cxa_demangle(const char *mangled_name, char *output_buffer,
			    size_t *length, int *status);

const char *lt_demangle(struct lt_arena *a, const char *name)
{
	int status = -1;
	char *d;
	if (!name)
		return NULL;
	/* Only Itanium-ABI names: __cxa_demangle would also "demangle" plain
	 * C names that happen to spell a type, such as "f" or "i". */
	if (strncmp(name, "_Z", 2) != 0)
		return lt_arena_strdup(a, name);
	d = __cxa_demangle(name, NULL, NULL, &status);
	if (status != 0 || !d) {
		free(d);
		return lt_arena_strdup(a, name);
	}
	const char *r = lt_arena_strdup(a, d);
	free(d);
	return r;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum lt_fn_kind lt_fn_kind_of(const char *raw)
{
	if (!raw)
		return LT_FN_NORMAL;
	if (strcmp(raw, "main") == 0)
		return LT_FN_MAIN;
	/* glibc's frames below main (valgrind's list, plus the 2.34+ name of
	 * the implementation), and gcc's clones of them ("name.constprop.0"). */
	if (strcmp(raw, "__libc_start_main") == 0 ||
	    strcmp(raw, "__libc_start_call_main") == 0 ||
	    strcmp(raw, "__libc_start_main_impl") == 0 ||
	    strcmp(raw, "generic_start_main") == 0 ||
	    starts_with(raw, "__libc_start_main.") ||
	    starts_with(raw, "generic_start_main."))
		return LT_FN_BELOW_MAIN;
	return LT_FN_NORMAL;
}
