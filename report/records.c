/* Grouping of blocks into loss records (valgrind's mc_leakcheck.c
 * semantics, our code): key (stack, kind); an indirectly lost block adds its
 * bytes to the record of the block that heads its structure, found by
 * following `head` while the head is itself indirectly lost. Hostile head
 * chains (cycles) are detected and left unattributed.
 * Context: offline side only. Linear in blocks and stacks. */
#include "records.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NO_RECORD UINT32_MAX
#define UNRESOLVED (LT_NO_HEAD - 1)
#define IN_PROGRESS (LT_NO_HEAD - 2)

/* valgrind's cmp_LossRecords compares its Reachedness values, declared
 * Reachable, Possible, IndirectLeak, Unreached: at equal total bytes a
 * still reachable record comes first and a definitely lost one last. */
unsigned lt_kind_rank(unsigned kind)
{
	switch (kind) {
	case LT_KIND_REACHABLE: return 0;
	case LT_KIND_POSSIBLE: return 1;
	case LT_KIND_INDIRECT: return 2;
	case LT_KIND_DEFINITE: return 3;
	default: return 4;
	}
}

static size_t stack_index(const struct lt_snapshot *snap, uint32_t id)
{
	/* The reader guarantees every block's stack exists. */
	return (size_t)(lt_snapshot_stack(snap, id) - snap->stacks);
}

static uint64_t hash_frames(const struct lt_stack *s, unsigned n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ s->frames[i]) * 0x100000001b3ull ^ (h >> 29);
	return h;
}

static unsigned cut_depth(const struct lt_stack *s, unsigned max_frames)
{
	return max_frames && s->depth > max_frames ? max_frames : s->depth;
}

/* canon[i]: the index of the first stack whose frames, cut to
 * max_frames, equal those of stack i. */
static int canonical_stacks(const struct lt_snapshot *snap, unsigned max_frames,
			    size_t *canon)
{
	bool any_cut = false;
	for (size_t i = 0; i < snap->nstacks; i++) {
		canon[i] = i;
		any_cut |= max_frames && snap->stacks[i].depth > max_frames;
	}
	if (!any_cut)
		return 0;
	size_t cap = 16;
	while (cap < snap->nstacks * 2)
		cap *= 2;
	size_t *table = malloc(cap * sizeof(*table));
	if (!table)
		return -1;
	memset(table, 0xff, cap * sizeof(*table));
	for (size_t i = 0; i < snap->nstacks; i++) {
		const struct lt_stack *s = &snap->stacks[i];
		unsigned n = cut_depth(s, max_frames);
		for (size_t h = hash_frames(s, n) & (cap - 1);; h = (h + 1) & (cap - 1)) {
			if (table[h] == SIZE_MAX) {
				table[h] = i;
				break;
			}
			const struct lt_stack *o = &snap->stacks[table[h]];
			if (cut_depth(o, max_frames) == n &&
			    memcmp(o->frames, s->frames, n * sizeof(uint64_t)) == 0) {
				canon[i] = table[h];
				break;
			}
		}
	}
	free(table);
	return 0;
}

/* The block heading b's structure: follows heads through indirectly lost
 * blocks. Returns a block index, or LT_NO_HEAD when the chain ends
 * nowhere or loops. root[] memoises, so the whole pass stays linear. */
static uint32_t find_root(const struct lt_snapshot *snap, uint32_t *root,
			  uint32_t *path, uint32_t b)
{
	size_t n = 0;
	uint32_t cur = b, result;
	for (;;) {
		const struct lt_snap_block *blk = &snap->blocks[cur];
		if (blk->kind != LT_KIND_INDIRECT) {
			result = cur;
			break;
		}
		if (root[cur] == IN_PROGRESS) {
			result = LT_NO_HEAD;   /* a cycle of indirect blocks */
			break;
		}
		if (root[cur] != UNRESOLVED) {
			result = root[cur];
			break;
		}
		if (blk->head == LT_NO_HEAD) {
			path[n++] = cur;
			result = LT_NO_HEAD;
			break;
		}
		root[cur] = IN_PROGRESS;
		path[n++] = cur;
		cur = blk->head;
	}
	while (n)
		root[path[--n]] = result;
	return result;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

int lt_cmp_record_figures(uint64_t total_a, unsigned kind_a, uint64_t count_a,
			  uint64_t total_b, unsigned kind_b, uint64_t count_b)
{
	if (total_a != total_b)
		return cmp_u64(total_a, total_b);
	unsigned rank_a = lt_kind_rank(kind_a), rank_b = lt_kind_rank(kind_b);
	if (rank_a != rank_b)
		return cmp_u64(rank_a, rank_b);
	return cmp_u64(count_a, count_b);
}

static int cmp_records(const void *pa, const void *pb)
{
	const struct lt_loss_record *a = pa, *b = pb;
	int order = lt_cmp_record_figures(a->bytes + a->indirect_bytes, a->kind, a->blocks,
					  b->bytes + b->indirect_bytes, b->kind, b->blocks);
	if (order)
		return order;
	/* valgrind's last key is the ExeContext's address, in practice the
	 * order in which stacks were first seen; the depot numbers stacks in
	 * the order it creates them. */
	return (a->stack_id > b->stack_id) - (a->stack_id < b->stack_id);
}

struct builder {
	const struct lt_snapshot *snap;
	size_t *canon;            /* per stack index */
	uint32_t *cell;           /* (canonical stack index, kind) -> record */
	struct lt_records *out;
};

static struct lt_loss_record *record_for(struct builder *b, size_t block)
{
	const struct lt_snap_block *blk = &b->snap->blocks[block];
	size_t si = b->canon[stack_index(b->snap, blk->stack_id)];
	uint32_t *c = &b->cell[si * LT_NKINDS + blk->kind];
	if (*c == NO_RECORD) {
		struct lt_loss_record *r = &b->out->recs[b->out->count];
		memset(r, 0, sizeof(*r));
		r->stack_id = b->snap->stacks[si].id;
		r->kind = blk->kind;
		*c = (uint32_t)b->out->count++;
	}
	return &b->out->recs[*c];
}

static int add_indirect(struct builder *b)
{
	const struct lt_snapshot *snap = b->snap;
	uint32_t *root = malloc(snap->nblocks * sizeof(*root));
	uint32_t *path = malloc(snap->nblocks * sizeof(*path));
	if (!root || !path) {
		free(root);
		free(path);
		return -1;
	}
	for (size_t i = 0; i < snap->nblocks; i++)
		root[i] = UNRESOLVED;
	for (size_t i = 0; i < snap->nblocks; i++) {
		if (snap->blocks[i].kind != LT_KIND_INDIRECT)
			continue;
		uint32_t r = find_root(snap, root, path, (uint32_t)i);
		if (r == LT_NO_HEAD)
			continue;
		struct lt_loss_record *rec = record_for(b, r);
		rec->indirect_bytes += snap->blocks[i].size;
		rec->indirect_blocks++;
	}
	free(root);
	free(path);
	return 0;
}

int lt_records_build(const struct lt_snapshot *snap, unsigned max_frames,
		     struct lt_records *out)
{
	struct builder b = { .snap = snap, .out = out };
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (snap->nblocks > UINT32_MAX - 3)
		return -1;
	b.canon = malloc((snap->nstacks ? snap->nstacks : 1) * sizeof(*b.canon));
	b.cell = malloc((snap->nstacks ? snap->nstacks : 1) * LT_NKINDS * sizeof(*b.cell));
	out->recs = malloc((snap->nblocks ? snap->nblocks : 1) * sizeof(*out->recs));
	if (!b.canon || !b.cell || !out->recs || canonical_stacks(snap, max_frames, b.canon))
		goto out;
	memset(b.cell, 0xff, snap->nstacks * LT_NKINDS * sizeof(*b.cell));
	for (size_t i = 0; i < snap->nblocks; i++) {
		const struct lt_snap_block *blk = &snap->blocks[i];
		struct lt_loss_record *r = record_for(&b, i);
		r->bytes += blk->size;
		r->blocks++;
		out->kind_bytes[blk->kind] += blk->size;
		out->kind_blocks[blk->kind]++;
		out->bytes += blk->size;
		out->blocks++;
		if (blk->kind == LT_KIND_REACHABLE && blk->heuristic &&
		    blk->heuristic < LT_SNAP_HEUR_COUNT) {
			out->heur_bytes[blk->heuristic] += blk->size;
			out->heur_blocks[blk->heuristic]++;
		}
	}
	if (add_indirect(&b) || lt_map_records_build(snap, out))
		goto out;
	qsort(out->recs, out->count, sizeof(*out->recs), cmp_records);
	rc = 0;
out:
	free(b.canon);
	free(b.cell);
	if (rc)
		lt_records_free(out);
	return rc;
}

void lt_records_sort(struct lt_records *r)
{
	qsort(r->recs, r->count, sizeof(*r->recs), cmp_records);
}

void lt_records_free(struct lt_records *r)
{
	free(r->recs);
	free(r->maps);
	memset(r, 0, sizeof(*r));
}
