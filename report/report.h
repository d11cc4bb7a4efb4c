/* Reports: one backend per output format behind an ops table. The driver
 * (report.c) walks the loss records in valgrind's order, decides which
 * frames a stack shows, and calls the backend; backends only format.
 * Context: offline side only. */
#ifndef LT_REPORT_H
#define LT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "options.h"
#include "records.h"
#include "snapshot.h"
#include "symbolizer.h"

/* ---- outbuf.c: buffered output for backends ---- */

struct lt_outbuf {
	FILE *f;
	size_t n;
	bool failed;
	char buf[1 << 15];
};

void lt_ob_init(struct lt_outbuf *o, FILE *f);
void lt_ob_putn(struct lt_outbuf *o, const char *s, size_t n);
void lt_ob_puts(struct lt_outbuf *o, const char *s);
void lt_ob_putc(struct lt_outbuf *o, char c);
void lt_ob_u64(struct lt_outbuf *o, uint64_t v);
void lt_ob_hex(struct lt_outbuf *o, uint64_t v);      /* 0x1A2B */
__attribute__((format(printf, 2, 3)))
void lt_ob_printf(struct lt_outbuf *o, const char *fmt, ...);
/* Returns 0, or -1 if any write failed since lt_ob_init. */
int lt_ob_flush(struct lt_outbuf *o);

struct lt_report {
	struct lt_outbuf *out;
	const struct lt_snapshot *snap;
	const struct lt_options *opts;
	const struct lt_records *records;
	const char *tool_path;        /* the leaktrace command, for XML; may be NULL */
	const struct lt_frame_source *src;  /* for backends that walk stacks themselves */
	void *priv;                   /* backend state, from begin to end */
	unsigned leak_check;          /* enum lt_leak_check in effect for this backend */
	size_t shown;                 /* records shown so far */
	size_t errors;                /* records that count as errors */
};

struct lt_report_ops {
	const char *name;
	/* valgrind's XML lists loss records with --leak-check=summary too. */
	bool summary_lists_records;
	void (*begin)(struct lt_report *r);
	/* A loss record: number is 1-based, of records->count. */
	void (*leak)(struct lt_report *r, const struct lt_loss_record *rec, size_t number);
	/* One display frame of the record's stack; first is the "at" one. */
	void (*frame)(struct lt_report *r, uint64_t ip, const struct lt_frame *f, bool first);
	void (*leak_end)(struct lt_report *r, const struct lt_loss_record *rec);
	void (*end)(struct lt_report *r);
	/* Machine-readable backends (JSON) get every record, shown or not,
	 * in loss-record order; lt_report_shows tells which the text shows. */
	bool all_records;
	/* Optional: a line between groups of records (baselines: "new
	 * records" / "known records"). NULL: the backend prints none. */
	void (*note)(struct lt_report *r, const char *text);
	/* Optional: a mapping record (number is 1-based, of records->nmaps),
	 * then its frames through frame, then mapping_end. Shown after the
	 * loss records, as the text shows them; NULL: the backend lists no
	 * mapping records. */
	void (*mapping)(struct lt_report *r, const struct lt_map_record *rec, size_t number);
	void (*mapping_end)(struct lt_report *r, const struct lt_map_record *rec);
};

extern const struct lt_report_ops lt_report_text_ops;
extern const struct lt_report_ops lt_report_xml_ops;
extern const struct lt_report_ops lt_report_json_ops;
extern const struct lt_report_ops lt_report_sarif_ops;

/* Whether the text report shows rec (leak_check=full and its kind in
 * show_leak_kinds, or not classified), and whether it counts as an error
 * (leak_check=full, kind in errors_for_leak_kinds, not in the baseline). */
bool lt_report_shows(const struct lt_options *opts, const struct lt_loss_record *rec);
bool lt_report_counts(const struct lt_options *opts, const struct lt_loss_record *rec);
/* The same for a mapping record: its kind decides, as for heap blocks. */
bool lt_report_map_shows(const struct lt_options *opts, const struct lt_map_record *rec);
bool lt_report_map_counts(const struct lt_options *opts, const struct lt_map_record *rec);

/* Calls visit for each display frame of a stack, innermost first, as
 * every report shows it: at most num_callers addresses, cut below main,
 * "(below main)" for glibc's start-up function. index is the position of
 * ip in the recorded stack: 0 is the allocation function. */
typedef void (*lt_frame_visit)(void *ctx, uint64_t ip, uint32_t index,
			       const struct lt_frame *f);
void lt_report_walk_stack(const struct lt_snapshot *snap, const struct lt_frame_source *src,
			  unsigned num_callers, uint32_t stack_id,
			  lt_frame_visit visit, void *ctx);

/* Renders one report into out. records must come from lt_records_build on
 * snap with opts->num_callers. Returns 0, or -1 when writing failed. */
int lt_report_render(const struct lt_report_ops *ops, FILE *out,
		     const struct lt_snapshot *snap, const struct lt_records *records,
		     const struct lt_frame_source *src, const struct lt_options *opts,
		     const char *tool_path);

/* Writes what the options ask for: the text report to log_file (%p is the
 * snapshot's pid) or to text_out, and the XML report to xml_file when xml
 * is yes or xml_file is set, the loss records grouped per leak_resolution
 * and the suppressions files of opts applied. Problems are said on diag.
 * Returns the number of error contexts (records that count as errors: see
 * lt_report_counts) when every report was written, -1 otherwise (a
 * suppressions file that cannot be read included). */
int lt_report_write(const struct lt_snapshot *snap, const struct lt_frame_source *src,
		    const struct lt_options *opts, const char *tool_path,
		    FILE *text_out, FILE *diag);

/* ---- format.c: valgrind's ways with numbers and words ---- */

#define LT_COMMAS_MAX 32

/* 1234567 -> "1,234,567" (valgrind's %'lu). Returns buf. */
const char *lt_fmt_commas(uint64_t v, char buf[LT_COMMAS_MAX]);

/* "definitely lost", "indirectly lost", ...: the words of a kind; blocks
 * not classified are "still allocated", at exit or at the snapshot. */
const char *lt_kind_words(unsigned kind, bool at_exit);

/* The LT_KINDS_* bit of a block kind; 0 for blocks not classified, which
 * are in no set. */
unsigned lt_kind_bit(unsigned kind);

/* valgrind's name of an interior-pointer heuristic ("newarray", ...). */
const char *lt_heuristic_name(unsigned heuristic);

/* Notes on a reachability scan that could not see everything (threads
 * that did not pause, threads that could not be listed), one sentence
 * each, without a prefix. Returns how many were written, at most
 * LT_SCAN_NOTES_MAX. */
#define LT_SCAN_NOTES_MAX 2
#define LT_SCAN_NOTE_LEN 256
size_t lt_scan_notes(const struct lt_snap_totals *t, char notes[][LT_SCAN_NOTE_LEN]);

#endif
