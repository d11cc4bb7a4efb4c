/* Where reports go: the text report to log_file or to the given stream
 * (standard error), the XML report to xml_file; %p in a file name is the
 * pid of the traced program, taken from the snapshot, %n the report's
 * sequence number in that process, %q{NAME} the value of an environment
 * variable (the program's environment at exit, which the reporter
 * inherits; the launcher expands it at start-up already). A process that
 * reports more than once (on demand, then at exit) into a text log without
 * %n appends each report after the first, under a header line; files of
 * other formats hold one document each, the latest.
 * Context: offline side only. A file that cannot be opened loses only its
 * own report: the text report falls back to standard error. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "baseline.h"
#include "delta.h"
#include "output_file.h"
#include "report.h"
#include "suppress.h"

static int render_to(const struct lt_report_ops *ops, FILE *out, const char *name,
		     const struct lt_snapshot *snap, const struct lt_records *recs,
		     const struct lt_frame_source *src, const struct lt_options *opts,
		     const char *tool_path, FILE *diag)
{
	int rc = lt_report_render(ops, out, snap, recs, src, opts, tool_path);
	if (rc)
		fprintf(diag, "leaktrace: writing the %s report failed: %s\n", name,
			strerror(errno));
	return rc;
}

/* The reports of one process after its first (on demand, periodic, at
 * exit after those) say which they are, and when. */
static void write_header(FILE *out, const struct lt_snapshot *snap)
{
	static const char *const why[] = {
		[LT_REASON_EXIT] = "at exit", [LT_REASON_SIGNAL] = "on the report signal",
		[LT_REASON_API] = "on request", [LT_REASON_INTERVAL] = "on the interval timer",
	};
	const struct lt_snap_process *p = &snap->process;
	time_t t = (time_t)(p->time_ns / 1000000000u);
	struct tm tm;
	char when[64] = "";
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (p->sequence <= 1 && p->reason == LT_REASON_EXIT)
		return;
	fprintf(out, "==%u== leaktrace report %u of this process, %s, %s\n", p->pid,
		p->sequence, p->reason < sizeof(why) / sizeof(why[0]) && why[p->reason]
				     ? why[p->reason] : "", when);
	if (snap->has_memory) {
		const struct lt_snap_memory *m = &snap->memory;
		char fig[5][LT_COMMAS_MAX];
		const uint64_t v[5] = { m->vss_kib, m->rss_kib, m->pss_kib, m->uss_kib, m->swap_kib };
		for (int i = 0; i < 5; i++) {
			if (v[i] == LT_MEM_UNKNOWN)
				snprintf(fig[i], sizeof(fig[i]), "?");
			else
				lt_fmt_commas(v[i], fig[i]);
		}
		fprintf(out, "==%u== process memory: VSS %s kB, RSS %s kB, PSS %s kB, USS %s kB, "
			"swap %s kB\n", p->pid, fig[0], fig[1], fig[2], fig[3], fig[4]);
	}
}

static int write_text(const struct lt_snapshot *snap, const struct lt_records *recs,
		      const struct lt_frame_source *src, const struct lt_options *opts,
		      const char *tool_path, FILE *text_out, FILE *diag)
{
	struct lt_output_file of;
	FILE *f = NULL;
	int rc;
	if (opts->log_file[0]) {
		bool append = snap->process.sequence > 1 && !strstr(opts->log_file, "%n");
		f = lt_output_file_open(&of, "log file", opts->log_file, snap, append, diag);
		if (!f)
			fprintf(diag, "leaktrace: writing the report to standard error instead\n");
	}
	if (opts->verbosity > 0)
		write_header(f ? f : text_out, snap);
	rc = render_to(&lt_report_text_ops, f ? f : text_out, "text", snap, recs, src,
		       opts, tool_path, diag);
	if (f && lt_output_file_close(&of, rc == 0) != 0 && !rc) {
		fprintf(diag, "leaktrace: writing the text report failed: %s\n", strerror(errno));
		rc = -1;
	}
	return f || !opts->log_file[0] ? rc : -1;
}

static int write_xml(const struct lt_snapshot *snap, const struct lt_records *recs,
		     const struct lt_frame_source *src, const struct lt_options *opts,
		     const char *tool_path, FILE *diag)
{
	struct lt_output_file of;
	FILE *f;
	int rc;
	if (!opts->xml_file[0]) {
		fprintf(diag, "leaktrace: xml=yes needs xml_file=FILE: no XML report written\n");
		return -1;
	}
	f = lt_output_file_open(&of, "XML file", opts->xml_file, snap, false, diag);
	if (!f)
		return -1;
	rc = render_to(&lt_report_xml_ops, f, "XML", snap, recs, src, opts, tool_path, diag);
	if (lt_output_file_close(&of, rc == 0) != 0 && !rc) {
		fprintf(diag, "leaktrace: writing the XML report failed: %s\n", strerror(errno));
		rc = -1;
	}
	return rc;
}

/* valgrind's --leak-resolution: how many frames of two stacks must agree
 * for their blocks to share a loss record. */
static unsigned grouping_frames(const struct lt_options *opts)
{
	unsigned n = opts->leak_resolution == 0 ? 2 : opts->leak_resolution == 1 ? 4
							: opts->num_callers;
	return n < opts->num_callers ? n : opts->num_callers;
}

int lt_report_write(const struct lt_snapshot *snap, const struct lt_frame_source *src,
		    const struct lt_options *opts, const char *tool_path,
		    FILE *text_out, FILE *diag)
{
	struct lt_records recs;
	struct lt_supp_set supps = { 0 };
	char err[LT_OPT_PATH_MAX + 400];
	int rc = 0;
	/* A suppressions file that cannot be read stops the report, as it
	 * stops valgrind: a report without them would show, and count,
	 * exactly the leaks the user asked not to hear about. */
	if (lt_supp_load_options(&supps, opts, err, sizeof(err))) {
		fprintf(diag, "leaktrace: %s\n", err);
		lt_supp_free(&supps);
		return -1;
	}
	if (lt_records_build(snap, grouping_frames(opts), &recs) != 0 ||
	    lt_supp_apply(&supps, snap, src, opts->num_callers, &recs) < 0) {
		fprintf(diag, "leaktrace: out of memory grouping %zu blocks\n", snap->nblocks);
		lt_records_free(&recs);
		lt_supp_free(&supps);
		return -1;
	}
	/* Reports after a process's first: what changed since the last one. */
	lt_delta_apply(&recs, snap, grouping_frames(opts), opts, diag);
	/* A baseline that cannot be used is said, and every leak counts. */
	lt_report_use_baseline(snap, src, opts, &recs, diag);
	/* XML first: when the text goes to the terminal, the last thing on
	 * screen stays the ERROR SUMMARY. */
	if (opts->xml || opts->xml_file[0])
		rc |= write_xml(snap, &recs, src, opts, tool_path, diag);
	rc |= lt_report_write_machine(snap, &recs, src, opts, tool_path, diag);
	rc |= write_text(snap, &recs, src, opts, tool_path, text_out, diag);
	size_t errors = 0;
	for (size_t i = 0; i < recs.count; i++)
		errors += lt_report_counts(opts, &recs.recs[i]);
	for (size_t i = 0; i < recs.nmaps; i++)
		errors += lt_report_map_counts(opts, &recs.maps[i]);
	lt_records_free(&recs);
	lt_supp_free(&supps);
	if (rc)
		return -1;
	return errors > INT_MAX ? INT_MAX : (int)errors;
}
