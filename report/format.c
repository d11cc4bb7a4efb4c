/* Small formatting helpers shared by the report backends.
 * Context: offline side only. */
#include <stdio.h>

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

const char *lt_heuristic_name(unsigned heuristic)
{
	static const char *const names[LT_SNAP_HEUR_COUNT] = {
		"none", "stdstring", "length64", "newarray", "multipleinheritance",
	};
	return heuristic < LT_SNAP_HEUR_COUNT ? names[heuristic] : "unknown";
}

/* Said only when the blocks were classified: without a scan there is no
 * verdict for these notes to qualify. */
size_t lt_scan_notes(const struct lt_snap_totals *t, char notes[][LT_SCAN_NOTE_LEN])
{
	size_t n = 0;
	if (!(t->scan_flags & LT_SCAN_CLASSIFIED))
		return 0;
	if (t->unstopped_threads == 1)
		snprintf(notes[n++], LT_SCAN_NOTE_LEN,
			 "Note: 1 thread could not be paused for the leak scan; its whole stack "
			 "was scanned, so some leaks may show as reachable.");
	else if (t->unstopped_threads)
		snprintf(notes[n++], LT_SCAN_NOTE_LEN,
			 "Note: %u threads could not be paused for the leak scan; their whole "
			 "stacks were scanned, so some leaks may show as reachable.",
			 t->unstopped_threads);
	if (t->scan_flags & LT_SCAN_INCOMPLETE)
		snprintf(notes[n++], LT_SCAN_NOTE_LEN,
			 "Note: not every thread could be listed for the leak scan; blocks "
			 "referenced only from an unlisted thread's stack or registers may "
			 "show as lost.");
	return n;
}
