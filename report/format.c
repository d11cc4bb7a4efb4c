/* Small formatting helpers shared by the report backends.
 * Context: offline side only. */
#include "report.h"

const char *lt_fmt_commas(uint64_t v, char buf[LT_COMMAS_MAX])
{
	char tmp[LT_COMMAS_MAX];
	size_t n = 0, digits = 0, out = 0;
	do {
		if (digits && digits % 3 == 0)
			tmp[n++] = ',';
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
		digits++;
	} while (v);
	while (n)
		buf[out++] = tmp[--n];
	buf[out] = '\0';
	return buf;
}

const char *lt_kind_words(unsigned kind, bool at_exit)
{
	switch (kind) {
	case LT_KIND_DEFINITE: return "definitely lost";
	case LT_KIND_INDIRECT: return "indirectly lost";
	case LT_KIND_POSSIBLE: return "possibly lost";
	case LT_KIND_REACHABLE: return "still reachable";
	default:
		return at_exit ? "still allocated at exit (not yet classified)"
			       : "still allocated (not yet classified)";
	}
}

unsigned lt_kind_bit(unsigned kind)
{
	switch (kind) {
	case LT_KIND_DEFINITE: return LT_KINDS_DEFINITE;
	case LT_KIND_INDIRECT: return LT_KINDS_INDIRECT;
	case LT_KIND_POSSIBLE: return LT_KINDS_POSSIBLE;
	case LT_KIND_REACHABLE: return LT_KINDS_REACHABLE;
	default: return 0;
	}
}
