/* `leaktrace diff A.json B.json` and `leaktrace trend R1.json R2.json ...`:
 * what grew between reports of a running program (--json-file with %n,
 * reports on demand or every interval seconds). Live bytes are summed per
 * allocation site (the symbolized stack, whatever the kind), so a site
 * whose blocks are all still reachable but keep growing shows too: a leak
 * that valgrind and LeakSanitizer, which only look for lost blocks, cannot
 * see. The program's own mappings (the report's mapping records) are
 * sites too, marked by their type ("[private anonymous mapping] ..."),
 * never merged with a heap site of the same stack; their "blocks" are
 * mappings. Context: the leaktrace command (offline). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "report.h"

struct site {
	char *key;                /* frames: "function (file:line)" joined by " <- " */
	uint64_t bytes, blocks;   /* live, all kinds */
	bool lost;                /* some of its blocks are lost */
};

struct report {
	const char *path;
	struct site *sites;
	size_t nsites;
	bool has_memory;
	uint64_t mem[5];          /* vss, rss, pss, uss, swap in KiB; UINT64_MAX unknown */
	uint64_t pid, sequence;
};

static const char *const mem_names[5] = { "vss_kib", "rss_kib", "pss_kib", "uss_kib", "swap_kib" };
static const char *const mem_labels[5] = { "VSS", "RSS", "PSS", "USS", "swap" };

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			char *b = realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!b) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = b;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (!got)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Member key of obj as a non-negative integer; false when absent. */
static bool get_u64(const struct lt_json_doc *doc, const struct lt_json_node *obj,
		    const char *key, uint64_t *out)
{
	const struct lt_json_node *n = lt_json_get(doc, obj, key);
	return n && lt_json_u64(n, out);
}

/* The words of a mapping type id of the JSON report ("private-anonymous"
 * -> "private anonymous"); NULL for an id it does not have. */
static const char *map_type_words(const char *id)
{
	static const char *const types[][2] = {
		{ "private-anonymous", "private anonymous" }, { "shared-anonymous", "shared anonymous" },
		{ "private-file", "private file-backed" }, { "shared-file", "shared file-backed" },
	};
	for (size_t i = 0; id && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(id, types[i][0]) == 0)
			return types[i][1];
	return NULL;
}

/* The site's key: its frames, the way a person reads them, after the
 * mark of a mapping site ("[shared file-backed mapping /path] "); mark is
 * NULL for a heap site. */
static char *site_key(const struct lt_json_doc *doc, const struct lt_json_node *stack,
		      const char *mark, const char *path)
{
	char *key = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&key, &len);
	if (!m)
		return NULL;
	if (mark)
		fprintf(m, "[%s mapping%s%s] ", mark, path ? " " : "", path ? path : "");
	bool first = true;
	for (const struct lt_json_node *f = lt_json_first(doc, stack); f; f = lt_json_next(doc, f)) {
		const char *fn = lt_json_get_string(doc, f, "function");
		const char *file = lt_json_get_string(doc, f, "file");
		uint64_t line = 0;
		get_u64(doc, f, "line", &line);
		fprintf(m, "%s%s", first ? "" : " <- ", fn ? fn : "???");
		if (file && line)
			fprintf(m, " (%s:%llu)", file, (unsigned long long)line);
		first = false;
	}
	fclose(m);
	return key;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct site *)a)->key, ((const struct site *)b)->key);
}

/* Records of the same site (one per kind) become one site. */
static void merge_sites(struct report *r)
{
	size_t out = 0;
	qsort(r->sites, r->nsites, sizeof(*r->sites), by_key);
	for (size_t i = 0; i < r->nsites; i++) {
		if (out && strcmp(r->sites[out - 1].key, r->sites[i].key) == 0) {
			r->sites[out - 1].bytes += r->sites[i].bytes;
			r->sites[out - 1].blocks += r->sites[i].blocks;
			r->sites[out - 1].lost |= r->sites[i].lost;
			free(r->sites[i].key);
			continue;
		}
		r->sites[out++] = r->sites[i];
	}
	r->nsites = out;
}

/* A loss record, or a mapping record (mapping): its live bytes and
 * blocks (mappings) at its site. A mapping record of a type this command
 * does not know is passed over. */
static void add_site(struct report *r, const struct lt_json_doc *doc,
		     const struct lt_json_node *rec, bool mapping)
{
	struct site *s = &r->sites[r->nsites];
	const char *kind = lt_json_get_string(doc, rec, "kind");
	const char *mark = NULL;
	if (mapping && !(mark = map_type_words(lt_json_get_string(doc, rec, "type"))))
		return;
	get_u64(doc, rec, "direct_bytes", &s->bytes);
	get_u64(doc, rec, mapping ? "mappings" : "blocks", &s->blocks);
	s->lost = kind && strstr(kind, "lost");
	s->key = site_key(doc, lt_json_get(doc, rec, "stack"), mark,
			  mapping ? lt_json_get_string(doc, rec, "path") : NULL);
	if (s->key)
		r->nsites++;
}

static int load_report(const char *path, struct report *r)
{
	char err[300];
	size_t len = 0;
	struct lt_json_doc doc;
	char *text = read_file(path, &len);
	memset(r, 0, sizeof(*r));
	r->path = path;
	if (!text) {
		fprintf(stderr, "leaktrace: cannot read report %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* Numbers keep pointing into text: it lives as long as doc. */
	if (lt_json_parse(text, len, &lt_json_default_limits, false, &doc, err, sizeof(err))) {
		fprintf(stderr, "leaktrace: report %s: %s\n", path, err);
		free(text);
		return -1;
	}
	const struct lt_json_node *top = lt_json_at(&doc, doc.first);
	const char *format = lt_json_get_string(&doc, top, "format");
	const struct lt_json_node *records = lt_json_get(&doc, top, "records");
	if (!format || strcmp(format, "leaktrace-report") != 0 || !records ||
	    records->type != LT_JSON_ARRAY) {
		fprintf(stderr, "leaktrace: %s is not a leaktrace JSON report (--json-file)\n", path);
		lt_json_free(&doc);
		free(text);
		return -1;
	}
	const struct lt_json_node *proc = lt_json_get(&doc, top, "process");
	get_u64(&doc, proc, "pid", &r->pid);
	get_u64(&doc, proc, "sequence", &r->sequence);
	const struct lt_json_node *mem = lt_json_get(&doc, top, "memory");
	r->has_memory = mem && mem->type == LT_JSON_OBJECT;
	for (int i = 0; i < 5; i++)
		if (!r->has_memory || !get_u64(&doc, mem, mem_names[i], &r->mem[i]))
			r->mem[i] = UINT64_MAX;
	const struct lt_json_node *maps = lt_json_get(&doc, top, "mappings");
	const struct lt_json_node *map_records = maps && maps->type == LT_JSON_OBJECT
						 ? lt_json_get(&doc, maps, "records") : NULL;
	if (map_records && map_records->type != LT_JSON_ARRAY)
		map_records = NULL;
	size_t nrecs = records->count + (map_records ? map_records->count : 0);
	r->sites = calloc(nrecs ? nrecs : 1, sizeof(*r->sites));
	if (!r->sites) {
		lt_json_free(&doc);
		free(text);
		return -1;
	}
	for (const struct lt_json_node *rec = lt_json_first(&doc, records); rec;
	     rec = lt_json_next(&doc, rec))
		add_site(r, &doc, rec, false);
	for (const struct lt_json_node *rec = map_records ? lt_json_first(&doc, map_records)
							  : NULL;
	     rec; rec = lt_json_next(&doc, rec))
		add_site(r, &doc, rec, true);
	lt_json_free(&doc);
	free(text);
	merge_sites(r);
	return 0;
}

static void free_report(struct report *r)
{
	for (size_t i = 0; i < r->nsites; i++)
		free(r->sites[i].key);
	free(r->sites);
}

static const struct site *find_site(const struct report *r, const char *key)
{
	struct site probe = { .key = (char *)key };
	return bsearch(&probe, r->sites, r->nsites, sizeof(*r->sites), by_key);
}

static const char *commas(uint64_t v, char buf[LT_COMMAS_MAX])
{
	return lt_fmt_commas(v, buf);
}

static const char *signed_commas(int64_t v, char buf[LT_COMMAS_MAX + 1])
{
	char tmp[LT_COMMAS_MAX];
	snprintf(buf, LT_COMMAS_MAX + 1, "%c%s", v < 0 ? '-' : '+',
		 lt_fmt_commas(v < 0 ? (uint64_t)-v : (uint64_t)v, tmp));
	return buf;
}

static void print_memory(const struct report *const *reports, size_t n)
{
	char a[LT_COMMAS_MAX], d[LT_COMMAS_MAX + 1];
	for (size_t i = 0; i < n; i++)
		if (!reports[i]->has_memory)
			return;
	printf("process memory, kB:\n");
	for (int k = 0; k < 5; k++) {
		printf("  %-5s", mem_labels[k]);
		for (size_t i = 0; i < n; i++)
			printf(" %12s", reports[i]->mem[k] == UINT64_MAX ? "?" : commas(reports[i]->mem[k], a));
		if (reports[0]->mem[k] != UINT64_MAX && reports[n - 1]->mem[k] != UINT64_MAX)
			printf("   (%s)", signed_commas((int64_t)(reports[n - 1]->mem[k] - reports[0]->mem[k]), d));
		printf("\n");
	}
}

struct growth {
	const struct site *now;
	int64_t bytes, blocks;
	const char *key;
	bool lost;
};

static int by_growth(const void *a, const void *b)
{
	const struct growth *x = a, *y = b;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : strcmp(x->key, y->key);
}

/* Sites of last that hold more live bytes than in first; those that never
 * decreased across all reports when monotonic is set. */
static size_t collect_growth(const struct report *const *reports, size_t n, bool monotonic,
			     struct growth *out)
{
	const struct report *first = reports[0], *last = reports[n - 1];
	size_t count = 0;
	for (size_t i = 0; i < last->nsites; i++) {
		const struct site *s = &last->sites[i];
		const struct site *was = find_site(first, s->key);
		int64_t grew = (int64_t)s->bytes - (int64_t)(was ? was->bytes : 0);
		if (grew <= 0)
			continue;
		bool steady = true;
		uint64_t prev = 0;
		for (size_t r = 0; monotonic && r < n; r++) {
			const struct site *at = find_site(reports[r], s->key);
			uint64_t b = at ? at->bytes : 0;
			steady &= r == 0 || b >= prev;
			prev = b;
		}
		if (!steady)
			continue;
		out[count++] = (struct growth){ s, grew,
						(int64_t)s->blocks - (int64_t)(was ? was->blocks : 0),
						s->key, s->lost };
	}
	qsort(out, count, sizeof(*out), by_growth);
	return count;
}

static void print_growth(const struct growth *g, size_t count, size_t nreports)
{
	char a[LT_COMMAS_MAX + 1], b[LT_COMMAS_MAX], c[LT_COMMAS_MAX + 1];
	printf("%14s %14s %10s  %-15s %s\n", "growth, bytes", "live now", "blocks", "verdict", "site");
	for (size_t i = 0; i < count; i++)
		printf("%14s %14s %10s  %-15s %s\n", signed_commas(g[i].bytes, a),
		       commas(g[i].now->bytes, b), signed_commas(g[i].blocks, c),
		       g[i].lost ? "lost" : "still reachable", g[i].key);
	if (nreports > 2 && count)
		printf("(every site above grew or held at each of the %zu reports)\n", nreports);
}

/* diff: exactly two reports; trend (monotonic): two or more. */
static int run(const char *name, int argc, char **argv, bool monotonic)
{
	size_t n = argc > 0 ? (size_t)argc - 1 : 0;
	if (n < 2 || (!monotonic && n != 2)) {
		fprintf(stderr, "usage: leaktrace %s %s\n", name,
			monotonic ? "REPORT.json REPORT.json..." : "BEFORE.json AFTER.json");
		return LT_EXIT_USAGE;
	}
	struct report *reports = calloc(n, sizeof(*reports));
	const struct report **order = calloc(n, sizeof(*order));
	int rc = 0;
	if (!reports || !order) {
		free(reports);
		free(order);
		return 1;
	}
	size_t loaded = 0;
	for (; loaded < n; loaded++) {
		if (load_report(argv[1 + loaded], &reports[loaded])) {
			rc = 1;
			break;
		}
		order[loaded] = &reports[loaded];
	}
	if (!rc) {
		struct growth *g = calloc(reports[n - 1].nsites + 1, sizeof(*g));
		size_t count = g ? collect_growth(order, n, monotonic, g) : 0;
		printf("leaktrace %s: live bytes per allocation site, %s (pid %llu, reports %llu to %llu)\n",
		       name, n == 2 ? "second report minus first" : "first report to last",
		       (unsigned long long)reports[0].pid, (unsigned long long)reports[0].sequence,
		       (unsigned long long)reports[n - 1].sequence);
		print_memory(order, n);
		print_growth(g, count, n);
		printf("%zu site%s grew\n", count, count == 1 ? "" : "s");
		free(g);
	}
	for (size_t i = 0; i < loaded; i++)
		free_report(&reports[i]);
	free(reports);
	free(order);
	return rc;
}

int lt_diff_main(int argc, char **argv)
{
	return run("diff", argc, argv, false);
}

int lt_trend_main(int argc, char **argv)
{
	return run("trend", argc, argv, true);
}
