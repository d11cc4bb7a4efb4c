/* Baselines: the fingerprints of known loss records, from a JSON report or
 * a baseline file of an earlier run (docs/json-report.md, "Baselines").
 * Records found in the baseline are marked baselined: reports still show
 * them, after the new ones, but they are not errors.
 * Context: offline side only. The file is untrusted input: read with the
 * bounded JSON reader, any problem is a one-line error naming the file. */
#ifndef LT_BASELINE_H
#define LT_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report.h"

struct lt_baseline_entry {
	char fingerprint[33];
	char fuzzy[33];           /* "" when the file has none */
	bool used;                /* matched by a record of this report */
};

struct lt_baseline {
	struct lt_baseline_entry *entries;  /* sorted by fingerprint */
	size_t count;
};

/* Reads path: one or more leaktrace JSON reports or baseline files, one
 * after the other (cat a.json b.json > baseline.json works). Returns 0,
 * or -1 with a one-line reason (without the file name) in err. */
int lt_baseline_load(const char *path, struct lt_baseline *b, char *err, size_t errlen);

/* The same from memory, for tests. */
int lt_baseline_parse(const char *text, size_t len, struct lt_baseline *b,
		      char *err, size_t errlen);

void lt_baseline_free(struct lt_baseline *b);

/* Marks the records of rs that the baseline knows: first by fingerprint,
 * then, for records left, by fuzzy fingerprint (the same stack with other
 * line numbers), each baseline entry matching one record at most in that
 * second pass. Returns the number marked, or -1 when out of memory. */
long lt_baseline_apply(struct lt_baseline *b, const struct lt_snapshot *snap,
		       const struct lt_frame_source *src, unsigned num_callers,
		       struct lt_records *rs);

/* Writes a baseline file for rs: the fingerprints of the records whose
 * kind is in errors_for_leak_kinds (suppressed ones left out), sorted, one
 * per record, with no addresses, pids or sizes, so that it only changes
 * when the leaks do. Returns 0, or -1 when writing failed. */
int lt_baseline_write(FILE *out, const struct lt_snapshot *snap,
		      const struct lt_frame_source *src, const struct lt_options *opts,
		      const struct lt_records *rs);

/* ---- output_machine.c ---- */

/* Loads opts->baseline (when set) and marks rs; on success rs->baseline
 * names the file. A baseline that cannot be used is a one-line error on
 * diag, and no record is marked: every leak counts (fail closed). Returns
 * 0, or -1 when the baseline could not be used. */
int lt_report_use_baseline(const struct lt_snapshot *snap, const struct lt_frame_source *src,
			   const struct lt_options *opts, struct lt_records *rs, FILE *diag);

/* Writes the JSON report, the SARIF report and the baseline file that
 * opts ask for (json_file, sarif_file, write_baseline; %p is the pid).
 * Returns 0 when each was written, -1 otherwise (said on diag). */
int lt_report_write_machine(const struct lt_snapshot *snap, const struct lt_records *rs,
			    const struct lt_frame_source *src, const struct lt_options *opts,
			    const char *tool_path, FILE *diag);

/* For the command line, before the program runs: checks that
 * opts->baseline (if set) can be read. Returns 0, or -1 with a one-line
 * message naming the file in err. */
int lt_baseline_check(const struct lt_options *opts, char *err, size_t errlen);

#endif
