/* Shared helpers of the offline-side unit tests: a tiny snapshot writer
 * that builds raw snapshots in memory from a description (independent of
 * preload/snapshot_write.c, so the reader is tested against the format
 * document, not against the other implementation), and a fake frame
 * source for report tests. */
#ifndef LT_TEST_H
#define LT_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

struct tw {
	uint8_t *buf;
	size_t len, cap;
};

void tw_u8(struct tw *w, uint8_t v);
void tw_u16(struct tw *w, uint16_t v);
void tw_u32(struct tw *w, uint32_t v);
void tw_u64(struct tw *w, uint64_t v);
void tw_bytes(struct tw *w, const void *p, size_t n);
void tw_pad8(struct tw *w);
/* Writes a section header and returns its offset, for tw_end_section. */
size_t tw_begin_section(struct tw *w, uint32_t tag);
void tw_end_section(struct tw *w, size_t header);
void tw_patch_u32(struct tw *w, size_t off, uint32_t v);
void tw_patch_u64(struct tw *w, size_t off, uint64_t v);
void tw_free(struct tw *w);

struct test_module {
	uint64_t bias, lo, hi;
	uint32_t load, unload;
	const uint8_t *build_id;
	uint16_t build_id_len;
	const char *path;
};

struct test_stack {
	uint32_t id, epoch, depth;
	uint64_t frames[16];
};

struct test_block {
	uint64_t addr, size;
	uint32_t stack_id;
	uint8_t kind;
	uint32_t head;            /* 0 in a literal means LT_NO_HEAD: see below */
	uint8_t heuristic;        /* enum lt_snap_heuristic */
};
#define TB_HEAD(i) ((i) + 1)      /* test_block.head is index + 1, 0 = none */

struct test_mapping {
	uint64_t addr, size;
	uint32_t stack_id;
	uint8_t kind, type;
	uint32_t head;            /* as test_block.head: TB_HEAD(i), 0 = none */
	const char *path;         /* NULL: none */
};

struct test_snap {
	uint32_t pid, ppid, reason;
	const char *exe;
	const char *cmdline;      /* arguments separated by NUL bytes */
	size_t cmdline_len;
	const char *options;
	const struct test_module *modules;
	size_t nmodules;
	const struct test_stack *stacks;
	size_t nstacks;
	const struct test_block *blocks;
	size_t nblocks;
	struct lt_snap_totals totals;
	bool extra_section;       /* add an unknown section (tag 99) */
	const struct lt_snap_memory *memory;  /* add a MEMORY section */
	size_t memory_len;        /* its payload size (40; other sizes are bad) */
	bool with_mappings;       /* add a MAPPINGS section */
	const struct test_mapping *mappings;
	size_t nmappings;
	uint64_t mappings_dropped;
};

/* Writes a whole, valid snapshot for s (sections in the order BLOCKS,
 * STACKS, MODULES, PROCESS, TOTALS, as a writer may choose any). */
void tw_snapshot(struct tw *w, const struct test_snap *s);

/* Offsets of interest in the last snapshot tw_snapshot wrote. */
extern size_t tw_off_blocks, tw_off_stacks, tw_off_modules, tw_off_process, tw_off_totals,
	tw_off_mappings;

/* A ready-made small snapshot: 3 stacks, blocks of every kind. */
extern const struct test_snap lt_test_small;


/* A fake symbolizer knowing the addresses of lt_test_small and a few
 * more (see lt_test_snap.c), so report tests need no DWARF. */
struct lt_frame_source;
extern const struct lt_frame_source lt_test_frames;

#endif
