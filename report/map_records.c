/* Mapping records: the snapshot's tracked mappings grouped by (allocation
 * stack, kind, type, path) and sorted as loss records are (total bytes,
 * kind, count, stack). An indirectly lost mapping adds its bytes to the
 * record of the lost mapping heading it; head chains that loop are left
 * unattributed, as for heap blocks.
 * Context: offline side only. */
#include "records.h"

#include <stdlib.h>
#include <string.h>

const char *lt_map_type_words(unsigned type)
{
	switch (type) {
	case LT_MAP_PRIVATE_ANON: return "private anonymous";
	case LT_MAP_SHARED_ANON: return "shared anonymous";
	case LT_MAP_PRIVATE_FILE: return "private file-backed";
	case LT_MAP_SHARED_FILE: return "shared file-backed";
	default: return "unknown";
	}
}

const char *lt_map_type_xml_kind(unsigned type)
{
	switch (type) {
	case LT_MAP_PRIVATE_ANON: return "Leak_MmapPrivateAnon";
	case LT_MAP_SHARED_ANON: return "Leak_MmapSharedAnon";
	case LT_MAP_PRIVATE_FILE: return "Leak_MmapPrivateFile";
	case LT_MAP_SHARED_FILE: return "Leak_MmapSharedFile";
	default: return "Leak_Mmap";
	}
}

static const struct lt_snapshot *sort_snap;

static int cmp_key(const struct lt_mapping_entry *a, const struct lt_mapping_entry *b)
{
	if (a->stack_id != b->stack_id)
		return a->stack_id < b->stack_id ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return strcmp(a->path, b->path);
}

static int cmp_by_key(const void *pa, const void *pb)
{
	const struct lt_mapping_entry *m = sort_snap->mappings;
	return cmp_key(&m[*(const size_t *)pa], &m[*(const size_t *)pb]);
}

static int cmp_map_records(const void *pa, const void *pb)
{
	const struct lt_map_record *a = pa, *b = pb;
	int order = lt_cmp_record_figures(a->bytes + a->indirect_bytes, a->kind, a->count,
					  b->bytes + b->indirect_bytes, b->kind, b->count);
	if (order)
		return order;
	if (a->stack_id != b->stack_id)
		return a->stack_id < b->stack_id ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return strcmp(a->path, b->path);
}

/* The mapping heading m's lost structure, or LT_NO_HEAD: at most n steps,
 * so a loop of heads ends unattributed. */
static uint32_t head_of(const struct lt_snapshot *snap, uint32_t m)
{
	for (size_t steps = 0; steps <= snap->nmappings; steps++) {
		const struct lt_mapping_entry *e = &snap->mappings[m];
		if (e->kind != LT_KIND_INDIRECT)
			return m;
		if (e->head == LT_NO_HEAD)
			return LT_NO_HEAD;
		m = e->head;
	}
	return LT_NO_HEAD;
}

int lt_map_records_build(const struct lt_snapshot *snap, struct lt_records *out)
{
	size_t n = snap->nmappings;
	out->has_mappings = snap->has_mappings;
	out->maps_dropped = snap->mappings_dropped;
	if (!n)
		return 0;
	size_t *order = malloc(n * sizeof(*order));
	size_t *rec_of = malloc(n * sizeof(*rec_of));
	out->maps = calloc(n, sizeof(*out->maps));
	if (!order || !rec_of || !out->maps) {
		free(order);
		free(rec_of);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	sort_snap = snap;
	qsort(order, n, sizeof(*order), cmp_by_key);
	for (size_t k = 0; k < n; k++) {
		const struct lt_mapping_entry *m = &snap->mappings[order[k]];
		if (!k || cmp_key(&snap->mappings[order[k - 1]], m) != 0) {
			struct lt_map_record *r = &out->maps[out->nmaps++];
			r->stack_id = m->stack_id;
			r->kind = m->kind;
			r->type = m->type;
			r->path = m->path;
		}
		struct lt_map_record *r = &out->maps[out->nmaps - 1];
		rec_of[order[k]] = out->nmaps - 1;
		r->bytes += m->size;
		r->count++;
		out->map_bytes += m->size;
		out->map_count++;
		out->map_kind_bytes[m->kind] += m->size;
		out->map_kind_count[m->kind]++;
		out->map_type_bytes[m->type] += m->size;
		out->map_type_count[m->type]++;
	}
	for (size_t i = 0; i < n; i++) {
		if (snap->mappings[i].kind != LT_KIND_INDIRECT)
			continue;
		uint32_t h = head_of(snap, (uint32_t)i);
		if (h == LT_NO_HEAD)
			continue;
		out->maps[rec_of[h]].indirect_bytes += snap->mappings[i].size;
		out->maps[rec_of[h]].indirect_count++;
	}
	qsort(out->maps, out->nmaps, sizeof(*out->maps), cmp_map_records);
	free(order);
	free(rec_of);
	return 0;
}
