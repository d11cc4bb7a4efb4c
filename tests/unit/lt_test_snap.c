/* The test-side snapshot writer (see lt_test.h): little-endian field by
 * field, exactly as common/SNAPSHOT.md describes. */
#include "lt_test.h"

#include <stdlib.h>
#include <string.h>

size_t tw_off_blocks, tw_off_stacks, tw_off_modules, tw_off_process, tw_off_totals,
	tw_off_mappings;

static void reserve(struct tw *w, size_t n)
{
	if (w->len + n <= w->cap)
		return;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < w->len + n)
		cap *= 2;
	w->buf = realloc(w->buf, cap);
	if (!w->buf)
		abort();
	w->cap = cap;
}

void tw_bytes(struct tw *w, const void *p, size_t n)
{
	reserve(w, n);
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void tw_u8(struct tw *w, uint8_t v) { tw_bytes(w, &v, 1); }

void tw_u16(struct tw *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	tw_bytes(w, b, 2);
}

void tw_u32(struct tw *w, uint32_t v)
{
	tw_u16(w, (uint16_t)v);
	tw_u16(w, (uint16_t)(v >> 16));
}

void tw_u64(struct tw *w, uint64_t v)
{
	tw_u32(w, (uint32_t)v);
	tw_u32(w, (uint32_t)(v >> 32));
}

void tw_pad8(struct tw *w)
{
	while (w->len % 8)
		tw_u8(w, 0);
}

void tw_patch_u32(struct tw *w, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w->buf[off + i] = (uint8_t)(v >> 8 * i);
}

void tw_patch_u64(struct tw *w, size_t off, uint64_t v)
{
	tw_patch_u32(w, off, (uint32_t)v);
	tw_patch_u32(w, off + 4, (uint32_t)(v >> 32));
}

size_t tw_begin_section(struct tw *w, uint32_t tag)
{
	size_t at = w->len;
	tw_u32(w, tag);
	tw_u32(w, 0);
	tw_u64(w, 0);
	return at;
}

void tw_end_section(struct tw *w, size_t header)
{
	tw_patch_u64(w, header + 8, w->len - header - 16);
	tw_pad8(w);
}

void tw_free(struct tw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

static void put_string(struct tw *w, const char *s, size_t n)
{
	tw_u32(w, (uint32_t)n);
	tw_bytes(w, s, n);
}

static void write_blocks(struct tw *w, const struct test_snap *s)
{
	size_t h = tw_off_blocks = tw_begin_section(w, LT_SNAP_BLOCKS);
	tw_u64(w, s->nblocks);
	for (size_t i = 0; i < s->nblocks; i++) {
		const struct test_block *b = &s->blocks[i];
		tw_u64(w, b->addr);
		tw_u64(w, b->size);
		tw_u32(w, b->stack_id);
		tw_u8(w, b->kind);
		tw_u8(w, b->heuristic);
		tw_u16(w, 0);
		tw_u32(w, b->head ? b->head - 1 : LT_NO_HEAD);
		tw_u32(w, 0);
	}
	tw_end_section(w, h);
}

static void write_stacks(struct tw *w, const struct test_snap *s)
{
	size_t h = tw_off_stacks = tw_begin_section(w, LT_SNAP_STACKS);
	tw_u32(w, (uint32_t)s->nstacks);
	tw_u32(w, 0);
	for (size_t i = 0; i < s->nstacks; i++) {
		const struct test_stack *st = &s->stacks[i];
		tw_u32(w, st->id);
		tw_u32(w, st->depth);
		tw_u32(w, st->epoch);
		tw_u32(w, 0);
		for (uint32_t f = 0; f < st->depth; f++)
			tw_u64(w, st->frames[f]);
	}
	tw_end_section(w, h);
}

static void write_modules(struct tw *w, const struct test_snap *s)
{
	size_t h = tw_off_modules = tw_begin_section(w, LT_SNAP_MODULES);
	tw_u32(w, (uint32_t)s->nmodules);
	tw_u32(w, 0);
	for (size_t i = 0; i < s->nmodules; i++) {
		const struct test_module *m = &s->modules[i];
		size_t plen = strlen(m->path);
		tw_u64(w, m->bias);
		tw_u64(w, m->lo);
		tw_u64(w, m->hi);
		tw_u32(w, m->load);
		tw_u32(w, m->unload);
		tw_u16(w, m->build_id_len);
		tw_u16(w, (uint16_t)plen);
		tw_u32(w, 0);
		tw_bytes(w, m->build_id, m->build_id_len);
		tw_bytes(w, m->path, plen);
		tw_pad8(w);
	}
	tw_end_section(w, h);
}

static void write_process(struct tw *w, const struct test_snap *s)
{
	size_t h = tw_off_process = tw_begin_section(w, LT_SNAP_PROCESS);
	tw_u32(w, s->pid);
	tw_u32(w, s->ppid);
	tw_u64(w, 1700000000123456789ull);
	tw_u32(w, s->reason ? s->reason : LT_REASON_EXIT);
	tw_u32(w, 1);
	put_string(w, s->exe ? s->exe : "", s->exe ? strlen(s->exe) : 0);
	put_string(w, s->cmdline ? s->cmdline : "", s->cmdline_len);
	put_string(w, s->options ? s->options : "", s->options ? strlen(s->options) : 0);
	tw_end_section(w, h);
}

static void write_totals(struct tw *w, const struct test_snap *s)
{
	size_t h = tw_off_totals = tw_begin_section(w, LT_SNAP_TOTALS);
	tw_u64(w, s->totals.allocs);
	tw_u64(w, s->totals.frees);
	tw_u64(w, s->totals.bytes_allocated);
	tw_u64(w, s->totals.dropped);
	tw_u32(w, s->totals.scan_flags);
	tw_u32(w, s->totals.unstopped_threads);
	tw_end_section(w, h);
}

static void write_mappings(struct tw *w, const struct test_snap *s)
{
	size_t h = tw_off_mappings = tw_begin_section(w, LT_SNAP_MAPPINGS);
	tw_u64(w, s->nmappings);
	tw_u64(w, s->mappings_dropped);
	for (size_t i = 0; i < s->nmappings; i++) {
		const struct test_mapping *m = &s->mappings[i];
		size_t plen = m->path ? strlen(m->path) : 0;
		tw_u64(w, m->addr);
		tw_u64(w, m->size);
		tw_u32(w, m->stack_id);
		tw_u8(w, m->kind);
		tw_u8(w, m->type);
		tw_u16(w, (uint16_t)plen);
		tw_u32(w, m->head ? m->head - 1 : LT_NO_HEAD);
		tw_u32(w, 0);
		tw_bytes(w, m->path, plen);
		tw_pad8(w);
	}
	tw_end_section(w, h);
}

void tw_snapshot(struct tw *w, const struct test_snap *s)
{
	w->len = 0;
	tw_bytes(w, LT_SNAP_MAGIC, LT_SNAP_MAGIC_LEN);
	tw_u32(w, LT_SNAP_VERSION);
	tw_u32(w, 32);
	tw_u64(w, 0);                         /* file_size, patched below */
	tw_u32(w, 5 + (s->extra_section ? 1 : 0) + (s->memory ? 1 : 0) + (s->with_mappings ? 1 : 0));
	tw_u32(w, 0);
	write_blocks(w, s);
	if (s->with_mappings)
		write_mappings(w, s);
	write_stacks(w, s);
	if (s->extra_section) {
		size_t h = tw_begin_section(w, 99);
		tw_bytes(w, "future", 6);
		tw_end_section(w, h);
	}
	write_modules(w, s);
	write_process(w, s);
	write_totals(w, s);
	if (s->memory) {
		size_t h = tw_begin_section(w, LT_SNAP_MEMORY);
		tw_bytes(w, s->memory, s->memory_len);
		tw_end_section(w, h);
	}
	tw_patch_u64(w, 16, w->len);
}

static const uint8_t small_build_id[] = { 0xde, 0xad, 0xbe, 0xef, 0x01 };

static const struct test_module small_modules[] = {
	{ .bias = 0x400000, .lo = 0x401000, .hi = 0x402000, .load = 0,
	  .unload = LT_EPOCH_NONE, .build_id = small_build_id, .build_id_len = 5,
	  .path = "/usr/bin/prog" },
	{ .bias = 0x7f0000000000, .lo = 0x7f0000001000, .hi = 0x7f0000009000, .load = 0,
	  .unload = 3, .path = "/usr/lib/libplugin.so" },
};

/* Written out of id order on purpose: the reader sorts. */
static const struct test_stack small_stacks[] = {
	{ .id = 3, .depth = 2, .frames = { 0x7f0000001100, 0x401020 } },
	{ .id = 1, .depth = 3, .frames = { 0x7f0000001100, 0x401010, 0x401100 } },
	{ .id = 2, .depth = 3, .frames = { 0x7f0000001100, 0x401030, 0x401100 } },
};

static const struct test_block small_blocks[] = {
	{ 0x10000, 48, 1, LT_KIND_DEFINITE, 0 },          /* 0: heads 1, 2 */
	{ 0x10100, 56, 2, LT_KIND_INDIRECT, TB_HEAD(0) },
	{ 0x10200, 1000, 2, LT_KIND_INDIRECT, TB_HEAD(1) },
	{ 0x10300, 16, 3, LT_KIND_POSSIBLE, 0 },
	{ 0x10400, 2000, 3, LT_KIND_REACHABLE, 0 },
	{ 0x10500, 16, 1, LT_KIND_DEFINITE, 0 },
};

const struct test_snap lt_test_small = {
	.pid = 4242, .ppid = 4241,
	.exe = "/usr/bin/prog",
	.cmdline = "./prog\0-v\0a b", .cmdline_len = 13,
	.options = "num_callers=20",
	.modules = small_modules, .nmodules = 2,
	.stacks = small_stacks, .nstacks = 3,
	.blocks = small_blocks, .nblocks = 6,
	.totals = { .allocs = 10, .frees = 4, .bytes_allocated = 123456, .dropped = 0 },
};

/* ---- the fake symbolizer ---- */

#include "symbolizer.h"

struct fake {
	uint64_t addr;
	size_t count;
	struct lt_frame frames[3];
};

static const struct fake fakes[] = {
	{ 0x7f0000001100, 1, { { .fn = "malloc", .obj = "/usr/lib/libleaktrace.so",
				 .obj_bias = 0x7f0000000000, .dir = "/src/preload",
				 .file = "interpose.c", .line = 40 } } },
	{ 0x401010, 1, { { .fn = "helper", .obj = "/usr/bin/prog", .dir = "/src",
			   .file = "leak.c", .line = 5 } } },
	{ 0x401020, 1, { { .obj = "/usr/bin/prog" } } },
	{ 0x401030, 2, { { .fn = "inl", .obj = "/usr/bin/prog", .dir = "/src", .file = "leak.c",
			   .line = 3, .inlined = true },
			 { .fn = "outer(int)", .obj = "/usr/bin/prog", .dir = "/src",
			   .file = "leak.c", .line = 7, .raw_fn = "_Z5outeri" } } },
	{ 0x401100, 1, { { .fn = "main", .obj = "/usr/bin/prog", .dir = "/src",
			   .file = "leak.c", .line = 10, .kind = LT_FN_MAIN } } },
	{ 0x402000, 1, { { .fn = "__libc_start_call_main", .obj = "/lib/libc.so.6",
			   .file = "libc_start_call_main.h", .line = 58, .kind = LT_FN_BELOW_MAIN } } },
	{ 0x402100, 1, { { .fn = "__libc_start_main_impl", .obj = "/lib/libc.so.6",
			   .kind = LT_FN_BELOW_MAIN } } },
	{ 0x402200, 1, { { .fn = "_start", .obj = "/usr/bin/prog" } } },
	{ 0x403000, 1, { { .fn = "Box<std::vector<int> >::make()", .obj = "/usr/bin/prog" } } },
};

static size_t fake_resolve(void *ctx, const struct lt_stack *stack, uint32_t index,
			   const struct lt_frame **frames)
{
	static const struct lt_frame unknown;
	for (size_t i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++)
		if (fakes[i].addr == stack->frames[index]) {
			*frames = fakes[i].frames;
			return fakes[i].count;
		}
	*frames = &unknown;
	return 1;
}

const struct lt_frame_source lt_test_frames = { fake_resolve, NULL };
