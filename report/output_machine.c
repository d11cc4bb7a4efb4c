/* Where the machine-readable reports go: json_file, sarif_file and
 * write_baseline (%p in a name is the traced program's pid, as for
 * log_file), and the baseline they and the text report are read against.
 * Context: offline side only. A file that cannot be written loses only its
 * own report; a baseline that cannot be read is said once and ignored, so
 * that every leak counts (a broken baseline never hides one). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "output_file.h"

static int close_output(struct lt_output_file *of, const char *name, int rc, FILE *diag)
{
	if (rc)
		fprintf(diag, "leaktrace: writing the %s failed: %s\n", name,
			errno ? strerror(errno) : "out of memory");
	if (lt_output_file_close(of, rc == 0) != 0 && !rc) {
		fprintf(diag, "leaktrace: writing the %s failed: %s\n", name, strerror(errno));
		rc = -1;
	}
	return rc;
}

static int write_report(const struct lt_report_ops *ops, const char *what, const char *name,
			const char *pattern, const struct lt_snapshot *snap,
			const struct lt_records *rs, const struct lt_frame_source *src,
			const struct lt_options *opts, const char *tool_path, FILE *diag)
{
	struct lt_output_file of;
	FILE *f = lt_output_file_open(&of, what, pattern, snap, false, diag);
	if (!f)
		return -1;
	errno = 0;
	int rc = lt_report_render(ops, f, snap, rs, src, opts, tool_path);
	return close_output(&of, name, rc, diag);
}

int lt_report_write_machine(const struct lt_snapshot *snap, const struct lt_records *rs,
			    const struct lt_frame_source *src, const struct lt_options *opts,
			    const char *tool_path, FILE *diag)
{
	int rc = 0;
	if (opts->json_file[0])
		rc |= write_report(&lt_report_json_ops, "JSON file", "JSON report",
				   opts->json_file, snap, rs, src, opts, tool_path, diag);
	if (opts->sarif_file[0])
		rc |= write_report(&lt_report_sarif_ops, "SARIF file", "SARIF report",
				   opts->sarif_file, snap, rs, src, opts, tool_path, diag);
	if (opts->write_baseline[0]) {
		struct lt_output_file of;
		FILE *f = lt_output_file_open(&of, "baseline file", opts->write_baseline, snap,
					      false, diag);
		if (f) {
			errno = 0;
			rc |= close_output(&of, "baseline file",
					   lt_baseline_write(f, snap, src, opts, rs), diag);
		} else {
			rc = -1;
		}
	}
	return rc ? -1 : 0;
}

int lt_report_use_baseline(const struct lt_snapshot *snap, const struct lt_frame_source *src,
			   const struct lt_options *opts, struct lt_records *rs, FILE *diag)
{
	struct lt_baseline b;
	char err[512];
	rs->baseline = NULL;
	if (!opts->baseline[0])
		return 0;
	if (lt_baseline_load(opts->baseline, &b, err, sizeof(err)) != 0) {
		fprintf(diag, "leaktrace: cannot use baseline '%s': %s; every leak counts\n",
			opts->baseline, err);
		return -1;
	}
	long marked = lt_baseline_apply(&b, snap, src, opts->num_callers, rs);
	lt_baseline_free(&b);
	if (marked < 0) {
		for (size_t i = 0; i < rs->count; i++)
			rs->recs[i].baselined = false;
		for (size_t i = 0; i < rs->nmaps; i++)
			rs->maps[i].baselined = false;
		fprintf(diag, "leaktrace: cannot use baseline '%s': out of memory; every leak counts\n",
			opts->baseline);
		return -1;
	}
	rs->baseline = opts->baseline;
	return 0;
}

int lt_baseline_check(const struct lt_options *opts, char *err, size_t errlen)
{
	struct lt_baseline b;
	char why[512];
	if (!opts->baseline[0])
		return 0;
	if (lt_baseline_load(opts->baseline, &b, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot use baseline '%s': %s", opts->baseline, why);
		return -1;
	}
	lt_baseline_free(&b);
	return 0;
}
