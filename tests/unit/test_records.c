/* Unit tests of loss-record grouping (report/records.c): the key (stack,
 * kind), indirect bytes through head chains, valgrind's sort order, stacks
 * merged when cut to num_callers, and hostile head cycles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lt_test.h"
#include "records.h"

static struct tw w;
static struct lt_snapshot snap;
static struct lt_records recs;

static void build(const struct test_snap *s, unsigned max_frames)
{
	char err[256];
	tw_snapshot(&w, s);
	if (lt_snapshot_parse(w.buf, w.len, &snap, err, sizeof(err)))
		fail_msg("parse: %s", err);
	assert_int_equal(lt_records_build(&snap, max_frames, &recs), 0);
}

static int teardown(void **state)
{
	lt_records_free(&recs);
	lt_snapshot_free(&snap);
	tw_free(&w);
	return 0;
}

static const struct lt_loss_record *find(uint32_t stack_id, uint8_t kind)
{
	for (size_t i = 0; i < recs.count; i++)
		if (recs.recs[i].stack_id == stack_id && recs.recs[i].kind == kind)
			return &recs.recs[i];
	fail_msg("no record for stack %u kind %u", stack_id, kind);
	return NULL;
}

/* Mapping records: key (stack, kind, type, path), indirect mappings
 * credited along head chains, the loss records' order, summary figures
 * per kind and per type; heap records untouched. */
static const struct test_mapping some_mappings[] = {
	/* 0: heads 1, which heads 2 */
	{ 0x7f0000100000, 4096, 1, LT_KIND_DEFINITE, LT_MAP_PRIVATE_ANON, 0, NULL },
	{ 0x7f0000200000, 8192, 2, LT_KIND_INDIRECT, LT_MAP_PRIVATE_ANON, TB_HEAD(0), NULL },
	{ 0x7f0000300000, 16384, 2, LT_KIND_INDIRECT, LT_MAP_SHARED_ANON, TB_HEAD(1), NULL },
	/* same stack and kind, two files: two records */
	{ 0x7f0000400000, 4096, 3, LT_KIND_REACHABLE, LT_MAP_SHARED_FILE, 0, "/a" },
	{ 0x7f0000500000, 4096, 3, LT_KIND_REACHABLE, LT_MAP_SHARED_FILE, 0, "/b" },
	{ 0x7f0000600000, 4096, 3, LT_KIND_REACHABLE, LT_MAP_SHARED_FILE, 0, "/a" },
	/* same stack, same file, another type */
	{ 0x7f0000700000, 40960, 3, LT_KIND_POSSIBLE, LT_MAP_PRIVATE_FILE, 0, "/a" },
};

static const struct lt_map_record *find_map(uint32_t stack, uint8_t kind, uint8_t type,
					    const char *path)
{
	for (size_t i = 0; i < recs.nmaps; i++) {
		const struct lt_map_record *m = &recs.maps[i];
		if (m->stack_id == stack && m->kind == kind && m->type == type &&
		    !strcmp(m->path, path))
			return m;
	}
	fail_msg("no mapping record for stack %u kind %u type %u path %s", stack, kind, type, path);
	return NULL;
}

static void test_mapping_records(void **state)
{
	struct test_snap s = lt_test_small;
	s.with_mappings = true;
	s.mappings = some_mappings;
	s.nmappings = 7;
	s.mappings_dropped = 2;
	build(&s, 0);
	assert_int_equal(recs.count, 4);          /* heap records as before */
	assert_true(recs.has_mappings);
	assert_int_equal(recs.nmaps, 6);
	const struct lt_map_record *def = find_map(1, LT_KIND_DEFINITE, LT_MAP_PRIVATE_ANON, "");
	assert_true(def->bytes == 4096 && def->count == 1);
	assert_true(def->indirect_bytes == 8192 + 16384 && def->indirect_count == 2);
	const struct lt_map_record *a = find_map(3, LT_KIND_REACHABLE, LT_MAP_SHARED_FILE, "/a");
	assert_true(a->bytes == 8192 && a->count == 2);
	const struct lt_map_record *b = find_map(3, LT_KIND_REACHABLE, LT_MAP_SHARED_FILE, "/b");
	assert_true(b->bytes == 4096 && b->count == 1);
	/* Order: total bytes, then kind rank, count, stack. */
	static const uint64_t totals[] = { 4096, 8192, 8192, 16384, 28672, 40960 };
	for (size_t i = 0; i < 6; i++)
		assert_true(recs.maps[i].bytes + recs.maps[i].indirect_bytes == totals[i]);
	assert_int_equal(recs.maps[1].kind, LT_KIND_REACHABLE);   /* before indirect */
	assert_int_equal(recs.maps[2].kind, LT_KIND_INDIRECT);
	assert_true(recs.map_bytes == 4096 + 8192 + 16384 + 3 * 4096 + 40960);
	assert_true(recs.map_count == 7);
	assert_true(recs.map_kind_bytes[LT_KIND_INDIRECT] == 24576);
	assert_true(recs.map_kind_count[LT_KIND_REACHABLE] == 3);
	assert_true(recs.map_type_bytes[LT_MAP_PRIVATE_ANON] == 12288);
	assert_true(recs.map_type_count[LT_MAP_SHARED_FILE] == 3);
	assert_true(recs.map_type_bytes[LT_MAP_PRIVATE_FILE] == 40960);
	assert_true(recs.maps_dropped == 2);
	assert_string_equal(lt_map_type_words(LT_MAP_SHARED_FILE), "shared file-backed");
	assert_string_equal(lt_map_type_xml_kind(LT_MAP_PRIVATE_ANON), "Leak_MmapPrivateAnon");
}

/* Indirect mappings whose heads loop: counted in their own records and
 * the summary, credited to no head. */
static void test_mapping_head_cycle(void **state)
{
	static const struct test_mapping loop[] = {
		{ 0x7f0000100000, 4096, 1, LT_KIND_INDIRECT, LT_MAP_PRIVATE_ANON, TB_HEAD(1), NULL },
		{ 0x7f0000200000, 4096, 1, LT_KIND_INDIRECT, LT_MAP_PRIVATE_ANON, TB_HEAD(0), NULL },
	};
	struct test_snap s = lt_test_small;
	s.with_mappings = true;
	s.mappings = loop;
	s.nmappings = 2;
	build(&s, 0);
	assert_int_equal(recs.nmaps, 1);
	assert_true(recs.maps[0].bytes == 8192 && recs.maps[0].count == 2);
	assert_true(recs.maps[0].indirect_bytes == 0);
	assert_true(recs.map_kind_bytes[LT_KIND_INDIRECT] == 8192);
}

static void test_small_snapshot(void **state)
{
	build(&lt_test_small, 0);
	assert_int_equal(recs.count, 4);
	const struct lt_loss_record *def = find(1, LT_KIND_DEFINITE);
	assert_true(def->bytes == 64);
	assert_true(def->blocks == 2);
	/* Block 2's head is block 1, itself indirect, whose head is block 0. */
	assert_true(def->indirect_bytes == 1056);
	assert_true(def->indirect_blocks == 2);
	const struct lt_loss_record *ind = find(2, LT_KIND_INDIRECT);
	assert_true(ind->bytes == 1056);
	assert_true(ind->indirect_bytes == 0);
	/* Order by total bytes: possible 16, definite 64+1056, indirect 1056,
	 * reachable 2000. */
	assert_int_equal(recs.recs[0].kind, LT_KIND_POSSIBLE);
	assert_int_equal(recs.recs[1].kind, LT_KIND_INDIRECT);
	assert_int_equal(recs.recs[2].kind, LT_KIND_DEFINITE);
	assert_int_equal(recs.recs[3].kind, LT_KIND_REACHABLE);
	assert_true(recs.bytes == 48 + 56 + 1000 + 16 + 2000 + 16);
	assert_true(recs.blocks == 6);
	assert_true(recs.kind_bytes[LT_KIND_DEFINITE] == 64);
	assert_true(recs.kind_blocks[LT_KIND_INDIRECT] == 2);
	assert_true(recs.kind_bytes[LT_KIND_REACHABLE] == 2000);
	assert_true(recs.kind_blocks[LT_KIND_UNCLASSIFIED] == 0);
}

static const struct test_stack three_stacks[] = {
	{ .id = 1, .depth = 3, .frames = { 0x10, 0x20, 0x30 } },
	{ .id = 2, .depth = 3, .frames = { 0x10, 0x20, 0x31 } },
	{ .id = 3, .depth = 2, .frames = { 0x10, 0x21 } },
};

/* Equal totals: valgrind's Reachedness order (reachable, possible,
 * indirect, definite; what valgrind 3.19 prints for a program with one
 * 16-byte record of each kind), then fewer blocks, then older stack. */
static void test_sort_ties(void **state)
{
	const struct test_block blocks[] = {
		{ 1, 100, 1, LT_KIND_UNCLASSIFIED, 0 },
		{ 2, 100, 1, LT_KIND_REACHABLE, 0 },
		{ 3, 100, 1, LT_KIND_POSSIBLE, 0 },
		{ 4, 100, 1, LT_KIND_INDIRECT, 0 },
		{ 5, 100, 1, LT_KIND_DEFINITE, 0 },
		{ 6, 50, 2, LT_KIND_DEFINITE, 0 },
		{ 7, 50, 2, LT_KIND_DEFINITE, 0 },  /* 100 in 2 blocks */
		{ 8, 100, 3, LT_KIND_DEFINITE, 0 }, /* 100 in 1 block, stack 3 */
		{ 9, 99, 3, LT_KIND_REACHABLE, 0 },
	};
	struct test_snap s = { .pid = 1, .stacks = three_stacks, .nstacks = 3,
			       .blocks = blocks, .nblocks = 9 };
	build(&s, 0);
	assert_int_equal(recs.count, 8);
	const struct { uint32_t stack; uint8_t kind; } want[] = {
		{ 3, LT_KIND_REACHABLE },           /* 99 */
		{ 1, LT_KIND_REACHABLE }, { 1, LT_KIND_POSSIBLE }, { 1, LT_KIND_INDIRECT },
		{ 1, LT_KIND_DEFINITE }, { 3, LT_KIND_DEFINITE }, { 2, LT_KIND_DEFINITE },
		{ 1, LT_KIND_UNCLASSIFIED },
	};
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(recs.recs[i].stack_id, want[i].stack);
		assert_int_equal(recs.recs[i].kind, want[i].kind);
	}
}

/* valgrind cuts stacks to --num-callers before comparing them. */
static void test_merge_when_cut(void **state)
{
	const struct test_block blocks[] = {
		{ 1, 10, 1, LT_KIND_DEFINITE, 0 },
		{ 2, 20, 2, LT_KIND_DEFINITE, 0 },
		{ 3, 40, 3, LT_KIND_DEFINITE, 0 },
	};
	struct test_snap s = { .pid = 1, .stacks = three_stacks, .nstacks = 3,
			       .blocks = blocks, .nblocks = 3 };
	build(&s, 3);
	assert_int_equal(recs.count, 3);
	teardown(NULL);
	build(&s, 2);
	assert_int_equal(recs.count, 2);
	assert_int_equal(recs.recs[0].stack_id, 1);   /* 1 and 2 merged: 30 */
	assert_true(recs.recs[0].bytes == 30);
	assert_true(recs.recs[0].blocks == 2);
	assert_int_equal(recs.recs[1].stack_id, 3);
	teardown(NULL);
	build(&s, 1);
	assert_int_equal(recs.count, 1);
	assert_true(recs.recs[0].bytes == 70);
}

/* A structure whose head is possibly lost, and chains ending nowhere. */
static void test_indirect_chains(void **state)
{
	const struct test_block blocks[] = {
		{ 1, 8, 1, LT_KIND_POSSIBLE, 0 },
		{ 2, 16, 2, LT_KIND_INDIRECT, TB_HEAD(0) },
		{ 3, 32, 2, LT_KIND_INDIRECT, TB_HEAD(1) },
		{ 4, 64, 2, LT_KIND_INDIRECT, 0 },          /* no head */
		{ 5, 128, 3, LT_KIND_INDIRECT, TB_HEAD(3) }, /* ends at block 3 */
	};
	struct test_snap s = { .pid = 1, .stacks = three_stacks, .nstacks = 3,
			       .blocks = blocks, .nblocks = 5 };
	build(&s, 0);
	const struct lt_loss_record *pos = find(1, LT_KIND_POSSIBLE);
	assert_true(pos->indirect_bytes == 48);
	assert_true(find(2, LT_KIND_INDIRECT)->bytes == 112);
	assert_true(find(2, LT_KIND_INDIRECT)->indirect_bytes == 0);
	assert_true(find(3, LT_KIND_INDIRECT)->indirect_bytes == 0);
}

/* A cycle of indirect blocks (only a hostile file has one) is left
 * unattributed, and grouping still ends. */
static void test_head_cycle(void **state)
{
	const struct test_block blocks[] = {
		{ 1, 8, 1, LT_KIND_INDIRECT, TB_HEAD(1) },
		{ 2, 16, 1, LT_KIND_INDIRECT, TB_HEAD(2) },
		{ 3, 32, 1, LT_KIND_INDIRECT, TB_HEAD(0) },
		{ 4, 64, 2, LT_KIND_INDIRECT, TB_HEAD(0) },  /* leads into it */
		{ 5, 1, 3, LT_KIND_DEFINITE, 0 },
	};
	struct test_snap s = { .pid = 1, .stacks = three_stacks, .nstacks = 3,
			       .blocks = blocks, .nblocks = 5 };
	build(&s, 0);
	assert_int_equal(recs.count, 3);
	for (size_t i = 0; i < recs.count; i++)
		assert_true(recs.recs[i].indirect_bytes == 0);
}

/* Still reachable blocks reached through an interior pointer are counted
 * per heuristic, in bytes and blocks, whatever their record. */
static void test_heuristics(void **state)
{
	const struct test_block blocks[] = {
		{ 1, 28, 1, LT_KIND_REACHABLE, 0, LT_SNAP_HEUR_NEWARRAY },
		{ 2, 40, 2, LT_KIND_REACHABLE, 0, LT_SNAP_HEUR_MULTIPLEINHERITANCE },
		{ 3, 12, 1, LT_KIND_REACHABLE, 0, LT_SNAP_HEUR_NEWARRAY },
		{ 4, 101, 3, LT_KIND_REACHABLE, 0, LT_SNAP_HEUR_NONE },
		{ 5, 7, 3, LT_KIND_DEFINITE, 0 },
	};
	struct test_snap s = { .pid = 1, .stacks = three_stacks, .nstacks = 3,
			       .blocks = blocks, .nblocks = 5 };
	build(&s, 0);
	assert_true(recs.heur_bytes[LT_SNAP_HEUR_NEWARRAY] == 40);
	assert_true(recs.heur_blocks[LT_SNAP_HEUR_NEWARRAY] == 2);
	assert_true(recs.heur_bytes[LT_SNAP_HEUR_MULTIPLEINHERITANCE] == 40);
	assert_true(recs.heur_blocks[LT_SNAP_HEUR_MULTIPLEINHERITANCE] == 1);
	assert_true(recs.heur_blocks[LT_SNAP_HEUR_STDSTRING] == 0);
	assert_true(recs.heur_blocks[LT_SNAP_HEUR_LENGTH64] == 0);
	assert_true(recs.heur_blocks[LT_SNAP_HEUR_NONE] == 0);
	assert_true(recs.kind_bytes[LT_KIND_REACHABLE] == 181);
}

static void test_empty(void **state)
{
	struct test_snap s = { .pid = 1 };
	build(&s, 12);
	assert_int_equal(recs.count, 0);
	assert_true(recs.bytes == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_small_snapshot, teardown),
		cmocka_unit_test_teardown(test_mapping_records, teardown),
		cmocka_unit_test_teardown(test_mapping_head_cycle, teardown),
		cmocka_unit_test_teardown(test_sort_ties, teardown),
		cmocka_unit_test_teardown(test_merge_when_cut, teardown),
		cmocka_unit_test_teardown(test_indirect_chains, teardown),
		cmocka_unit_test_teardown(test_head_cycle, teardown),
		cmocka_unit_test_teardown(test_heuristics, teardown),
		cmocka_unit_test_teardown(test_empty, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
