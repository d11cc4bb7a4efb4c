/* Deltas between the reports of one process, as valgrind's leak_check
 * deltas: each figure of a report after the first also says how it moved
 * since the previous report ("1,000 (+500) bytes in 2 (+1) blocks"), and
 * the delta option (valgrind's any, increased, changed) picks the records
 * that reports while the program runs show.
 * The previous report's figures live in a small state file the preloaded
 * library makes once per process and hands to every reporter
 * (`--delta-fd`): records keyed by kind and allocation stack cut to the
 * frames that group records (leak_resolution), and the report's sequence
 * number, so a reporter that finishes after a newer one never overwrites
 * newer figures. Reporters of one process may run at once: each opens the
 * file anew (its own lock) and holds an exclusive flock while it reads and
 * rewrites it.
 * Context: offline side only. */
#ifndef LT_DELTA_H
#define LT_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"

/* delta option values (options.def order). */
enum lt_delta_mode { LT_DELTA_ANY, LT_DELTA_INCREASED, LT_DELTA_CHANGED };

/* " (+N)" or " (-N)", valgrind's MC_(snprintf_delta), with thousands
 * separators; "" when on is false (a first report). Returns buf. */
#define LT_DELTA_MAX (LT_COMMAS_MAX + 8)
const char *lt_fmt_delta(uint64_t now, uint64_t old, bool on, char buf[LT_DELTA_MAX]);

/* The figures of a loss record's sentence, up to "blocks", with deltas when
 * the records have a previous report: "40 (+40) (16 (+16) direct, 24 (+24)
 * indirect) bytes in 1 (+1) blocks". */
void lt_record_figures(const struct lt_records *rs, const struct lt_loss_record *rec,
		       char *buf, size_t len);

/* The previous report's figures, as read from the state file. */
struct lt_delta_record {
	uint32_t stack_id;        /* in the snapshot of that report */
	uint8_t kind;
	bool suppressed;
	uint16_t nframes;         /* the frames that group records */
	uint64_t bytes, indirect_bytes, blocks;
	const uint64_t *frames;   /* into the state's buffer */
};

struct lt_delta_state {
	uint32_t pid, sequence;
	struct lt_records_previous summary;
	struct lt_delta_record *recs;
	size_t count;
	void *buf_;               /* owned copy of the file's bytes */
};

/* Encodes the records of a report (those with blocks) and its LEAK SUMMARY
 * figures. Returns 0 and a malloc'ed buffer, or -1 when out of memory. */
int lt_delta_state_encode(const struct lt_records *recs, const struct lt_snapshot *snap,
			  unsigned grouping_frames, void **buf, size_t *len);

/* Parses and validates a state file's bytes (copied). An empty file is a
 * state with no report (sequence 0). Returns 0, or -1 with a reason. */
int lt_delta_state_parse(const void *buf, size_t len, struct lt_delta_state *out,
			 char *err, size_t errlen);
void lt_delta_state_free(struct lt_delta_state *s);

/* Sets each record's previous figures from prev, adds the records prev had
 * that are gone (0 blocks, for the changed mode and the numbering, as
 * valgrind keeps them), sorts again, and marks the records the mode
 * leaves out. At exit every record with blocks is shown, whatever the
 * mode. Returns 0, or -1 when out of memory (records unchanged). */
int lt_delta_compare(struct lt_records *recs, const struct lt_snapshot *snap,
		     unsigned grouping_frames, const struct lt_delta_state *prev,
		     unsigned mode);

/* The state file given with `leaktrace report --delta-fd=N`. */
void lt_delta_set_state_fd(int fd);

/* For lt_report_write: reads the previous report's figures of this process
 * from the state file (if any), compares, and stores this report's figures
 * for the next one. Problems are said on diag once and the report goes on
 * without deltas. */
void lt_delta_apply(struct lt_records *recs, const struct lt_snapshot *snap,
		    unsigned grouping_frames, const struct lt_options *opts, FILE *diag);

#endif
