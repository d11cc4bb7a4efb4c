/* Fuzz target: the option parser shared by the preloaded library and the
 * command (common/options.c), on any LEAKTRACE_OPTIONS string; what it
 * accepts must format back to a list it accepts again, to the same
 * options. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char text[1 << 16], again[1 << 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lt_options a, b;
	char err[512];
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	lt_options_defaults(&a);
	if (lt_options_parse_list(&a, text, err, sizeof(err)) != 0)
		return 0;
	if (lt_options_format(&a, again, sizeof(again)) >= sizeof(again))
		return 0;
	lt_options_defaults(&b);
	if (lt_options_parse_list(&b, again, err, sizeof(err)) != 0 ||
	    lt_options_format(&b, text, sizeof(text)) >= sizeof(text) || strcmp(text, again) != 0)
		abort();   /* the round trip must hold */
	return 0;
}
