/* LeakSanitizer's suppressions files: one suppression a line,
 *
 *   # comment
 *   leak:PATTERN
 *
 * PATTERN is matched against the module, the function (demangled) and the
 * source file of every frame of a record's stack (suppress.c). Blank
 * lines and comments are skipped; any other type than leak: is an error,
 * as in LeakSanitizer, which dies on it. An empty pattern, which
 * LeakSanitizer takes as "every leak", is refused: it is almost always a
 * mistake.
 * Context: offline side only; the file is untrusted input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suppress.h"

int lt_supp_parse_lsan(struct lt_supp_set *set, const char *file, const char *text,
		       size_t len, char *err, size_t errlen)
{
	struct lt_supp_lines l = { .p = text, .end = text + len };
	const char *line;
	int rc = -1;

	while (lt_supp_next_line(&l, &line)) {
		const char *colon = strchr(line, ':');
		if (!colon || strncmp(line, "leak:", 5) != 0) {
			snprintf(err, errlen, "%s:%u: '%s': LeakSanitizer suppressions are "
				 "leak:PATTERN lines", file, l.lineno, line);
			goto out;
		}
		if (!line[5]) {
			snprintf(err, errlen, "%s:%u: empty leak: pattern (it would suppress "
				 "every leak; write leak:* to mean that)", file, l.lineno);
			goto out;
		}
		struct lt_supp *s = lt_supp_add(set);
		if (!s || !(s->name = strdup(line)) || !(s->pattern = strdup(line + 5))) {
			snprintf(err, errlen, "%s:%u: out of memory", file, l.lineno);
			goto out;
		}
		s->file = file;
		s->lineno = l.lineno;
		s->format = LT_SUPP_LSAN;
	}
	rc = 0;
out:
	free(l.buf);
	return rc;
}
