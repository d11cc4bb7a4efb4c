/* Unit tests of the snapshot reader (common/snapshot_read.c and
 * snapshot_load.c): a round trip through the test-side writer, then every
 * way a file can be cut, corrupted or forged must fail with a one-line
 * reason and never crash. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "lt_test.h"

static struct tw w;
static struct lt_snapshot snap;
static char err[256];

static int setup(void **state)
{
	tw_snapshot(&w, &lt_test_small);
	memset(&snap, 0, sizeof(snap));
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	lt_snapshot_free(&snap);
	tw_free(&w);
	return 0;
}

static int parse(void)
{
	return lt_snapshot_parse(w.buf, w.len, &snap, err, sizeof(err));
}

/* Expects failure with a message containing want. */
static void expect_error(const char *want)
{
	assert_int_equal(parse(), -1);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
	assert_null(strchr(err, '\n'));
	assert_null(snap.blocks);
}

static void test_round_trip(void **state)
{
	assert_int_equal(parse(), 0);
	assert_string_equal(err, "");
	assert_int_equal(snap.process.pid, 4242);
	assert_int_equal(snap.process.ppid, 4241);
	assert_int_equal(snap.process.reason, LT_REASON_EXIT);
	assert_int_equal(snap.process.sequence, 1);
	assert_true(snap.process.time_ns == 1700000000123456789ull);
	assert_string_equal(snap.exe, "/usr/bin/prog");
	assert_string_equal(snap.cmdline, "./prog -v a b");
	assert_int_equal(snap.argc, 3);
	assert_string_equal(snap.argv[0], "./prog");
	assert_string_equal(snap.argv[1], "-v");
	assert_string_equal(snap.argv[2], "a b");
	assert_null(snap.argv[3]);
	assert_string_equal(snap.options, "num_callers=20");

	assert_int_equal(snap.nmodules, 2);
	assert_true(snap.modules[0].bias == 0x400000);
	assert_true(snap.modules[0].lo == 0x401000);
	assert_true(snap.modules[0].hi == 0x402000);
	assert_int_equal(snap.modules[0].unload_epoch, LT_EPOCH_NONE);
	assert_int_equal(snap.modules[0].build_id_len, 5);
	assert_memory_equal(snap.modules[0].build_id, "\xde\xad\xbe\xef\x01", 5);
	assert_string_equal(snap.modules[0].path, "/usr/bin/prog");
	assert_int_equal(snap.modules[1].build_id_len, 0);
	assert_int_equal(snap.modules[1].unload_epoch, 3);
	assert_string_equal(snap.modules[1].path, "/usr/lib/libplugin.so");

	assert_int_equal(snap.nstacks, 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(snap.stacks[i].id, i + 1);   /* sorted */
	assert_int_equal(snap.stacks[0].depth, 3);
	assert_true(snap.stacks[0].frames[1] == 0x401010);
	assert_true(snap.stacks[2].frames[1] == 0x401020);
	assert_ptr_equal(lt_snapshot_stack(&snap, 2), &snap.stacks[1]);
	assert_null(lt_snapshot_stack(&snap, 0));
	assert_null(lt_snapshot_stack(&snap, 4));

	assert_int_equal(snap.nblocks, 6);
	assert_true(snap.blocks[2].addr == 0x10200);
	assert_true(snap.blocks[2].size == 1000);
	assert_int_equal(snap.blocks[2].stack_id, 2);
	assert_int_equal(snap.blocks[2].kind, LT_KIND_INDIRECT);
	assert_int_equal(snap.blocks[2].head, 1);
	assert_int_equal(snap.blocks[0].head, LT_NO_HEAD);

	assert_true(snap.totals.allocs == 10);
	assert_true(snap.totals.frees == 4);
	assert_true(snap.totals.bytes_allocated == 123456);
	assert_true(snap.totals.dropped == 0);
}

/* Every multi-byte field sits at an odd address: the reader must not
 * depend on alignment. */
static void test_unaligned_buffer(void **state)
{
	uint8_t *copy = malloc(w.len + 1);
	memcpy(copy + 1, w.buf, w.len);
	assert_int_equal(lt_snapshot_parse(copy + 1, w.len, &snap, err, sizeof(err)), 0);
	lt_snapshot_free(&snap);
	free(copy);
}

static void test_sparse_stack_ids(void **state)
{
	struct test_stack stacks[] = {
		{ .id = 900, .depth = 1, .frames = { 1 } },
		{ .id = 7, .depth = 1, .frames = { 2 } },
		{ .id = 0xfffffff0, .depth = 1, .frames = { 3 } },
	};
	struct test_block blocks[] = { { 0x1, 1, 900, 0, 0 }, { 0x2, 1, 0xfffffff0, 0, 0 } };
	struct test_snap s = lt_test_small;
	s.stacks = stacks;
	s.nstacks = 3;
	s.blocks = blocks;
	s.nblocks = 2;
	tw_snapshot(&w, &s);
	assert_int_equal(parse(), 0);
	assert_true(lt_snapshot_stack(&snap, 900)->frames[0] == 1);
	assert_true(lt_snapshot_stack(&snap, 7)->frames[0] == 2);
	assert_true(lt_snapshot_stack(&snap, 0xfffffff0)->frames[0] == 3);
	assert_null(lt_snapshot_stack(&snap, 8));
}

static void test_unknown_section_skipped(void **state)
{
	struct test_snap s = lt_test_small;
	s.extra_section = true;
	tw_snapshot(&w, &s);
	assert_int_equal(parse(), 0);
	assert_int_equal(snap.nblocks, 6);
}

/* The optional MEMORY section: read when present, absent otherwise, and
 * a section of the wrong size is an error. */
static void test_memory_section(void **state)
{
	static const struct lt_snap_memory m = { 99548, 1948, 718, 328, LT_MEM_UNKNOWN };
	struct test_snap s = lt_test_small;
	tw_snapshot(&w, &s);
	assert_int_equal(parse(), 0);
	assert_false(snap.has_memory);
	lt_snapshot_free(&snap);
	s.memory = &m;
	s.memory_len = sizeof(m);
	tw_snapshot(&w, &s);
	assert_int_equal(parse(), 0);
	assert_true(snap.has_memory);
	assert_int_equal(snap.memory.vss_kib, 99548);
	assert_int_equal(snap.memory.uss_kib, 328);
	assert_true(snap.memory.swap_kib == LT_MEM_UNKNOWN);
	lt_snapshot_free(&snap);
	s.memory_len = 32;
	tw_snapshot(&w, &s);
	assert_int_equal(parse(), -1);
	assert_string_equal(err, "MEMORY section: 32 bytes, expected 40");
}

/* The optional MAPPINGS section (track_mmap): read when present, with
 * paths and heads; absent in older files. */
static const struct test_mapping good_mappings[] = {
	{ 0x7f1000000000, 8192, 1, LT_KIND_DEFINITE, LT_MAP_PRIVATE_ANON, 0, NULL },
	{ 0x7f1000004000, 4096, 2, LT_KIND_INDIRECT, LT_MAP_SHARED_FILE, TB_HEAD(0), "/tmp/a b" },
	{ 0x7f1000008000, 12288, 3, LT_KIND_REACHABLE, LT_MAP_PRIVATE_FILE, 0, "/lib/x.so" },
};

static void test_mappings_section(void **state)
{
	struct test_snap s = lt_test_small;
	assert_int_equal(parse(), 0);
	assert_false(snap.has_mappings);
	assert_int_equal(snap.nmappings, 0);
	lt_snapshot_free(&snap);
	s.with_mappings = true;
	s.mappings = good_mappings;
	s.nmappings = 3;
	s.mappings_dropped = 7;
	tw_snapshot(&w, &s);
	assert_int_equal(parse(), 0);
	assert_true(snap.has_mappings);
	assert_int_equal(snap.nmappings, 3);
	assert_int_equal(snap.mappings_dropped, 7);
	assert_int_equal(snap.nblocks, 6);
	assert_true(snap.mappings[0].addr == 0x7f1000000000);
	assert_int_equal(snap.mappings[0].size, 8192);
	assert_int_equal(snap.mappings[0].kind, LT_KIND_DEFINITE);
	assert_int_equal(snap.mappings[0].type, LT_MAP_PRIVATE_ANON);
	assert_string_equal(snap.mappings[0].path, "");
	assert_int_equal(snap.mappings[0].head, LT_NO_HEAD);
	assert_int_equal(snap.mappings[1].head, 0);
	assert_string_equal(snap.mappings[1].path, "/tmp/a b");
	assert_string_equal(snap.mappings[2].path, "/lib/x.so");
	assert_int_equal(snap.mappings[2].stack_id, 3);
	/* No mappings at all is a valid, present section. */
	lt_snapshot_free(&snap);
	s.nmappings = 0;
	tw_snapshot(&w, &s);
	assert_int_equal(parse(), 0);
	assert_true(snap.has_mappings);
	assert_int_equal(snap.nmappings, 0);
}

static void expect_mapping_error(const struct test_mapping *m, const char *want)
{
	struct test_snap s = lt_test_small;
	struct test_mapping list[2] = { good_mappings[0], *m };
	s.with_mappings = true;
	s.mappings = list;
	s.nmappings = 2;
	tw_snapshot(&w, &s);
	expect_error(want);
}

static void test_mapping_values(void **state)
{
	struct test_mapping m = good_mappings[2];
	m.kind = 5;
	expect_mapping_error(&m, "MAPPINGS section: mapping 1 has unknown kind 5");
	m = good_mappings[2];
	m.type = 0;
	expect_mapping_error(&m, "MAPPINGS section: mapping 1 has unknown type 0");
	m.type = 5;
	expect_mapping_error(&m, "MAPPINGS section: mapping 1 has unknown type 5");
	m = good_mappings[2];
	m.stack_id = 9;
	expect_mapping_error(&m, "mapping 1 refers to stack id 9, which is not in the STACKS section");
	m = good_mappings[2];
	m.head = TB_HEAD(0);
	expect_mapping_error(&m, "mapping 1 has a head but is not indirectly lost");
	m = good_mappings[1];
	m.head = TB_HEAD(1);
	expect_mapping_error(&m, "mapping 1 has head 1 (expected a mapping index below 2, not its own)");
	m.head = TB_HEAD(2);
	expect_mapping_error(&m, "mapping 1 has head 2");
	m = good_mappings[0];
	m.path = "/etc/x";
	expect_mapping_error(&m, "mapping 1: an anonymous mapping has a path");
	m = good_mappings[0];
	m.addr = UINT64_MAX - 4095;
	m.size = 8192;
	expect_mapping_error(&m, "mapping 1: range wraps around");
}

/* Counts, reserved bytes, padding and lengths of the MAPPINGS section. */
static void test_mapping_layout(void **state)
{
	struct test_snap s = lt_test_small;
	s.with_mappings = true;
	s.mappings = good_mappings;
	s.nmappings = 3;
	tw_snapshot(&w, &s);
	size_t first = tw_off_mappings + 16 + 16;
	/* reserved */
	w.buf[first + 28] = 1;
	expect_error("MAPPINGS section: mapping 0: reserved field is not zero");
	w.buf[first + 28] = 0;
	/* a count beyond the payload */
	tw_patch_u64(&w, tw_off_mappings + 16, 1000);
	expect_error("truncated: MAPPINGS section: 1000 mappings need at least 32 bytes each");
	/* a count below the entries: bytes left over */
	tw_patch_u64(&w, tw_off_mappings + 16, 2);
	expect_error("MAPPINGS section: 48 bytes after the last mapping");
	tw_patch_u64(&w, tw_off_mappings + 16, 3);
	/* a path with a NUL byte, and padding that is not zero (mapping 1's
	 * path "/tmp/a b" is 8 bytes: mapping 2's path "/lib/x.so" is 9,
	 * padded with 7 zero bytes) */
	size_t second = first + 32;
	w.buf[second + 32 + 2] = '\0';
	expect_error("MAPPINGS section: mapping 1: path contains a NUL byte");
	w.buf[second + 32 + 2] = 'm';
	size_t third = second + 32 + 8;
	w.buf[third + 32 + 9] = 'x';
	expect_error("MAPPINGS section: mapping 2: padding is not zero");
	w.buf[third + 32 + 9] = 0;
	/* a path longer than the section */
	w.buf[third + 22] = 200;
	expect_error("truncated: MAPPINGS section: mapping 2 needs 232 bytes, 48 left");
	w.buf[third + 22] = 9;
	assert_int_equal(parse(), 0);
}

static void test_empty_lists(void **state)
{
	struct test_snap s = { .pid = 1 };
	tw_snapshot(&w, &s);
	assert_int_equal(parse(), 0);
	assert_int_equal(snap.nblocks, 0);
	assert_int_equal(snap.nstacks, 0);
	assert_int_equal(snap.nmodules, 0);
	assert_int_equal(snap.argc, 0);
	assert_string_equal(snap.cmdline, "");
	assert_non_null(snap.argv);
}

/* The central promise: whatever the cut, a clean error. Both with the
 * header's file_size left as it was and patched to the cut length, so
 * that the section checks themselves are exercised. */
static void test_every_prefix_fails(void **state)
{
	size_t full = w.len;
	uint8_t *orig = malloc(full);
	memcpy(orig, w.buf, full);
	for (size_t len = 0; len < full; len++) {
		for (int patch = 0; patch < 2; patch++) {
			memcpy(w.buf, orig, full);
			if (patch && len >= 24)
				tw_patch_u64(&w, 16, len);
			err[0] = '\0';
			if (lt_snapshot_parse(w.buf, len, &snap, err, sizeof(err)) != -1)
				fail_msg("prefix of %zu bytes (patch %d) was accepted", len, patch);
			if (!err[0] || strchr(err, '\n'))
				fail_msg("prefix of %zu bytes: bad message \"%s\"", len, err);
		}
	}
	memcpy(w.buf, orig, full);
	free(orig);
}

static void test_truncation_message(void **state)
{
	/* Cut inside the STACKS payload (written second), header patched. */
	w.len = tw_off_stacks + 16 + 20;
	tw_patch_u64(&w, 16, w.len);
	expect_error("truncated: STACKS section needs");
	assert_non_null(strstr(err, "left"));
}

static void test_bad_magic(void **state)
{
	w.buf[0] = 'X';
	expect_error("bad magic");
}

static void test_bad_version(void **state)
{
	tw_patch_u32(&w, 8, 2);
	expect_error("unsupported format version 2");
}

static void test_bad_header_size(void **state)
{
	tw_patch_u32(&w, 12, 31);
	expect_error("bad header_size");
	tw_patch_u32(&w, 12, 0xfffffff8);
	expect_error("bad header_size");
}

static void test_header_flags(void **state)
{
	tw_patch_u32(&w, 28, 1);
	expect_error("unknown header flags");
}

static void test_file_size_mismatch(void **state)
{
	tw_patch_u64(&w, 16, w.len + 1);
	expect_error("truncated: header says");
	tw_patch_u64(&w, 16, w.len - 8);
	expect_error("header says");
	tw_patch_u64(&w, 16, UINT64_MAX);
	expect_error("truncated");
}

static void test_trailing_bytes(void **state)
{
	tw_u64(&w, 0);
	tw_patch_u64(&w, 16, w.len);
	expect_error("bytes after the last section");
}

static void test_section_count(void **state)
{
	tw_patch_u32(&w, 24, 6);
	expect_error("truncated: section 6 of 6");
	tw_patch_u32(&w, 24, UINT32_MAX);
	expect_error("truncated");
	tw_patch_u32(&w, 24, 4);
	expect_error("bytes after the last section");
}

static void test_section_size_overflow(void **state)
{
	tw_patch_u64(&w, tw_off_blocks + 8, UINT64_MAX);
	expect_error("truncated: BLOCKS section needs");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u64(&w, tw_off_blocks + 8, UINT64_MAX - 3);
	expect_error("truncated");
}

static void test_duplicate_and_missing_sections(void **state)
{
	tw_patch_u32(&w, tw_off_stacks, LT_SNAP_BLOCKS);
	expect_error("BLOCKS section appears twice");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, tw_off_totals, 77);
	expect_error("TOTALS section is missing");
}

static void test_section_flags_and_padding(void **state)
{
	tw_patch_u32(&w, tw_off_totals + 4, 2);
	expect_error("TOTALS section: unknown flags");
	tw_snapshot(&w, &lt_test_small);
	/* The PROCESS payload is not a multiple of 8: it has padding. */
	size_t payload = w.buf[tw_off_process + 8] | w.buf[tw_off_process + 9] << 8;
	assert_true(payload % 8 != 0);
	w.buf[tw_off_process + 16 + payload] = 1;
	expect_error("PROCESS section: padding is not zero");
}

static void test_blocks_count_overflow(void **state)
{
	size_t count = tw_off_blocks + 16;
	tw_patch_u64(&w, count, UINT64_MAX);
	expect_error("truncated: BLOCKS section");
	tw_patch_u64(&w, count, (UINT64_MAX / 32) + 2);   /* wraps when multiplied */
	expect_error("truncated: BLOCKS section");
	tw_patch_u64(&w, count, 5);
	expect_error("bytes after the last block");
}

static void test_list_counts_overflow(void **state)
{
	tw_patch_u32(&w, tw_off_stacks + 16, UINT32_MAX);
	expect_error("truncated: STACKS section");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, tw_off_stacks + 20, 1);
	expect_error("reserved word after the count");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, tw_off_modules + 16, UINT32_MAX);
	expect_error("truncated: MODULES section");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, tw_off_modules + 16, 1);
	expect_error("bytes after the last module");
}

static void test_module_lengths(void **state)
{
	size_t m0 = tw_off_modules + 24;
	w.buf[m0 + 32] = 0xff;                /* build_id_len = 0x..ff */
	w.buf[m0 + 33] = 0xff;
	expect_error("truncated: MODULES section: module 0 needs");
	tw_snapshot(&w, &lt_test_small);
	w.buf[m0 + 34] = 0xff;                /* path_len */
	w.buf[m0 + 35] = 0xff;
	expect_error("truncated: MODULES section: module 0");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, m0 + 36, 9);
	expect_error("module 0: reserved field is not zero");
}

static void test_module_values(void **state)
{
	size_t m0 = tw_off_modules + 24;
	tw_patch_u64(&w, m0 + 8, 0x500000);   /* lo above hi */
	expect_error("range start");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, m0 + 24, 5);         /* load 5, unload 5 */
	tw_patch_u32(&w, m0 + 28, 5);
	expect_error("not after its load");
	tw_snapshot(&w, &lt_test_small);
	w.buf[m0 + 40 + 5 + 3] = '\0';        /* NUL inside the path */
	expect_error("path contains a NUL");
}

static void test_stack_values(void **state)
{
	/* Stacks are written in the order 3, 1, 2; the first is at +24. */
	size_t s0 = tw_off_stacks + 24;
	tw_patch_u32(&w, s0 + 4, 0);
	expect_error("depth 0");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, s0 + 4, LT_SNAP_MAX_DEPTH + 1);
	expect_error("depth 257");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, s0 + 4, 100);        /* deeper than the payload */
	expect_error("truncated: STACKS section: stack id 3 needs");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, s0, 0);
	expect_error("has id 0");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, s0, 1);
	expect_error("stack id 1 appears twice");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, s0 + 12, 1);
	expect_error("reserved field is not zero");
}

static void test_block_values(void **state)
{
	size_t b = tw_off_blocks + 24;        /* block 0 */
	tw_patch_u32(&w, b + 16, 77);
	expect_error("block 0 refers to stack id 77");
	tw_snapshot(&w, &lt_test_small);
	w.buf[b + 20] = 5;
	expect_error("block 0 has unknown kind 5");
	tw_snapshot(&w, &lt_test_small);
	w.buf[b + 22] = 1;
	expect_error("block 0: reserved field");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, b + 28, 1);
	expect_error("block 0: reserved field");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, b + 24, 1);          /* head on a definite block */
	expect_error("has a head but is not indirectly lost");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, b + 32 + 24, 6);     /* block 1: head out of range */
	expect_error("block 1 has head 6");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, b + 32 + 24, 1);     /* block 1: its own head */
	expect_error("block 1 has head 1");
}

static void test_process_values(void **state)
{
	size_t p = tw_off_process + 16;
	tw_patch_u32(&w, p + 16, 9);
	expect_error("unknown reason 9");
	tw_snapshot(&w, &lt_test_small);
	tw_patch_u32(&w, p + 24, 0xffffffff); /* exe length */
	expect_error("truncated: PROCESS section: executable path needs");
	tw_snapshot(&w, &lt_test_small);
	w.buf[p + 28] = '\0';                 /* NUL inside "/usr/bin/prog" */
	expect_error("executable path contains a NUL");
	tw_snapshot(&w, &lt_test_small);
	/* Shorter exe length: the following strings are misread, and the
	 * payload no longer ends where the options end. */
	tw_patch_u32(&w, p + 24, 4);
	assert_int_equal(parse(), -1);
}

static void test_totals_size(void **state)
{
	tw_patch_u64(&w, tw_off_totals + 8, 24);
	assert_int_equal(parse(), -1);        /* 8 bytes become non-zero padding */
}

/* Random corruption: parse must succeed or fail, never crash (run it under
 * -Db_sanitize=address to see memory errors). */
static void test_random_corruption(void **state)
{
	uint8_t *orig = malloc(w.len);
	memcpy(orig, w.buf, w.len);
	srand(12345);
	for (int round = 0; round < 20000; round++) {
		memcpy(w.buf, orig, w.len);
		int flips = 1 + rand() % 4;
		for (int f = 0; f < flips; f++)
			w.buf[(size_t)rand() % w.len] ^= (uint8_t)(1 + rand() % 255);
		if (lt_snapshot_parse(w.buf, w.len, &snap, err, sizeof(err)) == 0)
			lt_snapshot_free(&snap);
		else
			assert_true(err[0] != '\0');
	}
	memcpy(w.buf, orig, w.len);
	free(orig);
}

static void test_load_file_and_fds(void **state)
{
	char path[] = "/tmp/lt-test-snap-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, w.buf, w.len), (ssize_t)w.len);

	assert_int_equal(lt_snapshot_load(path, -1, &snap, err, sizeof(err)), 0);
	assert_int_equal(snap.nblocks, 6);
	lt_snapshot_free(&snap);

	/* A regular file whose offset is at its end, as the preloaded library
	 * hands over its memfd: read from offset 0 all the same. */
	assert_int_equal(lt_snapshot_load(NULL, fd, &snap, err, sizeof(err)), 0);
	assert_int_equal(snap.nstacks, 3);
	lt_snapshot_free(&snap);
	close(fd);
	unlink(path);

	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], w.buf, w.len), (ssize_t)w.len);
	close(p[1]);
	assert_int_equal(lt_snapshot_load(NULL, p[0], &snap, err, sizeof(err)), 0);
	assert_int_equal(snap.nmodules, 2);
	lt_snapshot_free(&snap);
	close(p[0]);

	assert_int_equal(lt_snapshot_load("/nonexistent/snap", -1, &snap, err, sizeof(err)), -1);
	assert_string_equal(err, "No such file or directory");
	assert_int_equal(lt_snapshot_load("/tmp", -1, &snap, err, sizeof(err)), -1);
	assert_string_equal(err, "is a directory");
}

/* A pipe that says more than it holds, or holds more than it says, does
 * not make the reader allocate or read without bound. */
static void test_load_pipe_longer_than_declared(void **state)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], w.buf, w.len), (ssize_t)w.len);
	assert_int_equal(write(p[1], "garbage!", 8), 8);
	close(p[1]);
	assert_int_equal(lt_snapshot_load(NULL, p[0], &snap, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "header says"));
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unaligned_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sparse_stack_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_section_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mappings_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mapping_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mapping_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_prefix_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_magic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_header_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_size_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailing_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_section_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_section_size_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_and_missing_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_section_flags_and_padding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocks_count_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_counts_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stack_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_process_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totals_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file_and_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_pipe_longer_than_declared, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
