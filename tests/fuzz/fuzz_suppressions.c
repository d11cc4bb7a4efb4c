/* Fuzz target: the suppression file parsers, valgrind's format and
 * LeakSanitizer's (report/suppress*.c), on any text. */
#include <stddef.h>
#include <stdint.h>

#include "suppress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lt_supp_set set = { 0 };
	char err[512];
	lt_supp_parse(&set, "fuzz.supp", (const char *)data, size, err, sizeof(err));
	lt_supp_free(&set);
	return 0;
}
