/* The XML report in valgrind's protocol 4 (docs/internals/
 * xml-output-protocol4.txt in valgrind's tree), so that CI tools reading
 * memcheck XML read ours. Layout and blank lines follow memcheck 3.19.
 * Context: offline side only. Blocks that were not classified get the
 * kind Leak_NotClassified, which is ours, not valgrind's: never pretend a
 * verdict. */
#include "config.h"

#include <string.h>
#include <time.h>

#include "delta.h"
#include "report.h"
#include "suppress.h"

/* Text content: escapes what XML requires and replaces the control
 * characters XML 1.0 cannot carry at all. */
static bool plain(unsigned char c)
{
	return c >= 0x20 ? c != '&' && c != '<' && c != '>' : c == '\t' || c == '\n' || c == '\r';
}

static void put_escaped(struct lt_outbuf *out, const char *s)
{
	while (*s) {
		size_t run = 0;
		while (s[run] && plain((unsigned char)s[run]))
			run++;
		lt_ob_putn(out, s, run);
		s += run;
		if (!*s)
			break;
		if (*s == '&')
			lt_ob_puts(out, "&amp;");
		else if (*s == '<')
			lt_ob_puts(out, "&lt;");
		else if (*s == '>')
			lt_ob_puts(out, "&gt;");
		else
			lt_ob_putc(out, '?');
		s++;
	}
}

static void element(struct lt_outbuf *out, const char *indent, const char *tag, const char *text)
{
	lt_ob_puts(out, indent);
	lt_ob_putc(out, '<');
	lt_ob_puts(out, tag);
	lt_ob_putc(out, '>');
	put_escaped(out, text);
	lt_ob_puts(out, "</");
	lt_ob_puts(out, tag);
	lt_ob_puts(out, ">\n");
}

static void put_command_line(struct lt_report *r)
{
	const struct lt_snapshot *snap = r->snap;
	lt_ob_puts(r->out, "  <line>Command: ");
	if (!snap->argc)
		put_escaped(r->out, snap->exe);
	for (size_t i = 0; i < snap->argc; i++) {
		if (i)
			lt_ob_putc(r->out, ' ');
		put_escaped(r->out, snap->argv[i]);
	}
	lt_ob_puts(r->out, "</line>\n");
}

/* <vargv>: the leaktrace command and the options in effect, in the
 * command-line spelling. */
static void put_tool_args(struct lt_report *r)
{
	char list[4 * LT_OPT_PATH_MAX + 256];
	lt_options_format(r->opts, list, sizeof(list));
	lt_ob_puts(r->out, "  <vargv>\n");
	element(r->out, "    ", "exe", r->tool_path ? r->tool_path : "leaktrace");
	for (char *item = list, *next; item && *item; item = next) {
		next = strchr(item, ':');
		if (next)
			*next++ = '\0';
		for (char *p = item; *p && *p != '='; p++)
			if (*p == '_')
				*p = '-';
		lt_ob_puts(r->out, "    <arg>--");
		put_escaped(r->out, item);
		lt_ob_puts(r->out, "</arg>\n");
	}
	lt_ob_puts(r->out, "  </vargv>\n");
}

static void put_program_args(struct lt_report *r)
{
	const struct lt_snapshot *snap = r->snap;
	lt_ob_puts(r->out, "  <argv>\n");
	element(r->out, "    ", "exe", snap->argc ? snap->argv[0] : snap->exe);
	for (size_t i = 1; i < snap->argc; i++)
		element(r->out, "    ", "arg", snap->argv[i]);
	lt_ob_puts(r->out, "  </argv>\n");
}

/* valgrind's <time> is the time elapsed since start, "DD:HH:MM:SS.mmm ".
 * The snapshot knows when it was taken, not when the program started, so
 * FINISHED carries that wall-clock time (the format is free per the
 * protocol: "human-readable"). */
static void put_status(struct lt_report *r, const char *state)
{
	char when[64] = "00:00:00:00.000 ";
	if (strcmp(state, "FINISHED") == 0) {
		uint64_t ns = r->snap->process.time_ns;
		time_t sec = (time_t)(ns / 1000000000u);
		struct tm tm;
		if (gmtime_r(&sec, &tm)) {
			size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
			snprintf(when + n, sizeof(when) - n, ".%03uZ",
				 (unsigned)(ns / 1000000u % 1000u));
		}
	}
	lt_ob_printf(r->out, "<status>\n  <state>%s</state>\n  <time>%s</time>\n</status>\n",
		state, when);
}

/* Notes on an incomplete scan go in the preamble: free text that readers
 * of valgrind's XML show or skip, and no element they do not know. */
static void put_scan_notes(struct lt_report *r)
{
	char notes[LT_SCAN_NOTES_MAX][LT_SCAN_NOTE_LEN];
	size_t n = lt_scan_notes(&r->snap->totals, notes);
	for (size_t i = 0; i < n; i++)
		element(r->out, "  ", "line", notes[i]);
}

static void xml_begin(struct lt_report *r)
{
	struct lt_outbuf *out = r->out;
	lt_ob_puts(out, "<?xml version=\"1.0\"?>\n\n<valgrindoutput>\n\n");
	lt_ob_puts(out, "<protocolversion>4</protocolversion>\n");
	/* The error format is memcheck's: parsers key on this name. */
	lt_ob_puts(out, "<protocoltool>memcheck</protocoltool>\n\n");
	lt_ob_puts(out, "<preamble>\n");
	lt_ob_printf(out, "  <line>leaktrace-%s, a memory leak detector</line>\n", LT_VERSION);
	put_command_line(r);
	put_scan_notes(r);
	lt_ob_puts(out, "</preamble>\n\n");
	lt_ob_printf(out, "<pid>%u</pid>\n<ppid>%u</ppid>\n<tool>memcheck</tool>\n\n",
		r->snap->process.pid, r->snap->process.ppid);
	lt_ob_puts(out, "<args>\n");
	put_tool_args(r);
	put_program_args(r);
	lt_ob_puts(out, "</args>\n\n");
	put_status(r, "RUNNING");
	lt_ob_puts(out, "\n\n");
	put_status(r, "FINISHED");
	lt_ob_puts(out, "\n");
}

static const char *xml_kind(unsigned kind)
{
	switch (kind) {
	case LT_KIND_DEFINITE: return "Leak_DefinitelyLost";
	case LT_KIND_INDIRECT: return "Leak_IndirectlyLost";
	case LT_KIND_POSSIBLE: return "Leak_PossiblyLost";
	case LT_KIND_REACHABLE: return "Leak_StillReachable";
	default: return "Leak_NotClassified";
	}
}

/* An <error>'s opening up to its <xwhat>: loss and mapping records alike. */
static void open_error(struct lt_outbuf *out, size_t unique, const char *kind)
{
	lt_ob_printf(out, "<error>\n  <unique>0x%zx</unique>\n  <tid>1</tid>\n  <kind>%s</kind>\n",
		     unique, kind);
	lt_ob_puts(out, "  <xwhat>\n");
}

/* The figures for programs that end an <xwhat>, then the <stack> opens.
 * No thousands separators inside the numbers meant for programs. */
static void close_xwhat(struct lt_outbuf *out, uint64_t leaked, uint64_t blocks)
{
	lt_ob_printf(out, "    <leakedbytes>%llu</leakedbytes>\n", (unsigned long long)leaked);
	lt_ob_printf(out, "    <leakedblocks>%llu</leakedblocks>\n", (unsigned long long)blocks);
	lt_ob_puts(out, "  </xwhat>\n  <stack>\n");
}

static void xml_leak(struct lt_report *r, const struct lt_loss_record *rec, size_t number)
{
	struct lt_outbuf *out = r->out;
	char figures[8 * LT_DELTA_MAX + 64], num[LT_COMMAS_MAX], of[LT_COMMAS_MAX];
	const char *words = lt_kind_words(rec->kind, r->snap->process.reason == LT_REASON_EXIT);
	uint64_t leaked = rec->bytes + rec->indirect_bytes;

	lt_fmt_commas(number, num);
	lt_fmt_commas(r->records->count, of);
	/* valgrind numbers leak errors by loss record, shown or not. */
	open_error(out, number - 1, xml_kind(rec->kind));
	/* valgrind's text, deltas included after a process's first report. */
	lt_record_figures(r->records, rec, figures, sizeof(figures));
	lt_ob_printf(out, "    <text>%s are %s in loss record %s of %s</text>\n", figures, words,
		     num, of);
	close_xwhat(out, leaked, rec->blocks);
}

static void xml_frame(struct lt_report *r, uint64_t ip, const struct lt_frame *f, bool first)
{
	struct lt_outbuf *out = r->out;
	lt_ob_puts(out, "    <frame>\n      <ip>");
	lt_ob_hex(out, ip);
	lt_ob_puts(out, "</ip>\n");
	if (f->obj)
		element(out, "      ", "obj", f->obj);
	if (f->fn)
		element(out, "      ", "fn", f->fn);
	if (f->file) {
		if (f->dir)
			element(out, "      ", "dir", f->dir);
		element(out, "      ", "file", f->file);
		lt_ob_puts(out, "      <line>");
		lt_ob_u64(out, f->line);
		lt_ob_puts(out, "</line>\n");
	}
	lt_ob_puts(out, "    </frame>\n");
}

/* With --gen-suppressions valgrind 3.19 writes each record's suppression
 * twice: inside its <error>, and again after it. */
static void close_error(struct lt_report *r, uint32_t stack_id, unsigned kind)
{
	bool gen = r->opts->gen_suppressions != 0;
	lt_ob_puts(r->out, "  </stack>\n");
	if (gen)
		lt_supp_write_xml(r->out, r->snap, r->src, r->opts->num_callers, stack_id, kind);
	lt_ob_puts(r->out, "</error>\n\n");
	if (gen)
		lt_supp_write_xml(r->out, r->snap, r->src, r->opts->num_callers, stack_id, kind);
}

static void xml_leak_end(struct lt_report *r, const struct lt_loss_record *rec)
{
	close_error(r, rec->stack_id, rec->kind);
}

/* A mapping record: an error whose kind is the mapping's type
 * (Leak_MmapPrivateAnon, ...) and whose text says its verdict, as the
 * text report does. Numbered after the loss records. */
static void xml_mapping(struct lt_report *r, const struct lt_map_record *rec, size_t number)
{
	struct lt_outbuf *out = r->out;
	char total[LT_COMMAS_MAX], direct[LT_COMMAS_MAX], indirect[LT_COMMAS_MAX];
	char count[LT_COMMAS_MAX], num[LT_COMMAS_MAX], of[LT_COMMAS_MAX];
	const char *words = lt_kind_words(rec->kind, r->snap->process.reason == LT_REASON_EXIT);
	uint64_t leaked = rec->bytes + rec->indirect_bytes;

	lt_fmt_commas(rec->count, count);
	lt_fmt_commas(number, num);
	lt_fmt_commas(r->records->nmaps, of);
	open_error(out, r->records->count + number - 1, lt_map_type_xml_kind(rec->type));
	lt_ob_puts(out, "    <text>");
	if (rec->indirect_bytes)
		lt_ob_printf(out, "%s (%s direct, %s indirect) bytes", lt_fmt_commas(leaked, total),
			     lt_fmt_commas(rec->bytes, direct),
			     lt_fmt_commas(rec->indirect_bytes, indirect));
	else
		lt_ob_printf(out, "%s bytes", lt_fmt_commas(leaked, total));
	lt_ob_printf(out, " in %s mappings (%s%s", count, lt_map_type_words(rec->type),
		     rec->path[0] ? " " : "");
	put_escaped(out, rec->path);
	lt_ob_printf(out, ") are %s in mapping record %s of %s</text>\n", words, num, of);
	close_xwhat(out, leaked, rec->count);
}

static void xml_mapping_end(struct lt_report *r, const struct lt_map_record *rec)
{
	close_error(r, rec->stack_id, rec->kind);
}

/* The suppressions used, how often, in valgrind's order. */
static void put_suppcounts(struct lt_report *r)
{
	const struct lt_supp_set *set = r->records->supps;
	lt_ob_puts(r->out, "<suppcounts>\n");
	for (size_t i = 0; set && i < set->count; i++) {
		const struct lt_supp *s = set->order[i];
		if (!s->count)
			continue;
		lt_ob_printf(r->out, "  <pair>\n    <count>%llu</count>\n",
			     (unsigned long long)s->count);
		element(r->out, "    ", "name", s->name);
		lt_ob_puts(r->out, "  </pair>\n");
	}
	lt_ob_puts(r->out, "</suppcounts>\n\n");
}

static void xml_end(struct lt_report *r)
{
	/* Leak errors are not repeated in <errorcounts> (valgrind neither). */
	lt_ob_puts(r->out, "<errorcounts>\n</errorcounts>\n\n");
	put_suppcounts(r);
	lt_ob_puts(r->out, "</valgrindoutput>\n\n");
}

const struct lt_report_ops lt_report_xml_ops = {
	.name = "xml",
	.summary_lists_records = true,
	.begin = xml_begin,
	.leak = xml_leak,
	.frame = xml_frame,
	.leak_end = xml_leak_end,
	.end = xml_end,
	.mapping = xml_mapping,
	.mapping_end = xml_mapping_end,
};
