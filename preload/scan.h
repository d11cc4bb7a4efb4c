/* The reachability scan (scan.c): classifies every live block as valgrind
 * does. */
#ifndef LT_SCAN_H
#define LT_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lt_world;

/* valgrind's interior-pointer heuristics, in valgrind's order. */
enum lt_heuristic {
	LT_HEUR_NONE = 0,
	LT_HEUR_STDSTRING = 1,
	LT_HEUR_LENGTH64 = 2,
	LT_HEUR_NEWARRAY = 3,
	LT_HEUR_MULTIPLEINHERITANCE = 4,
};

struct lt_scan_block {
	uintptr_t addr;
	uint64_t size;
	uint64_t indirect_bytes;  /* for a leader: what its clique holds */
	uint32_t stack_id;
	uint32_t parent;          /* INDIRECT: the block that points to it */
	uint8_t state;            /* scan-internal */
	uint8_t kind;             /* enum lt_block_kind */
	uint8_t heuristic;        /* enum lt_heuristic, for REACHABLE */
	/* Two flags share a byte so a block stays 40 bytes. */
	uint8_t ignored : 1;      /* the program asked: a root, never lost */
	uint8_t map_type : 7;     /* 0: a heap block; else a tracked mapping
				     (enum lt_map_type) */
	uint32_t map_path;        /* a mapping's path (lt_mappings_path) */
};

_Static_assert(sizeof(struct lt_scan_block) == 40, "scan memory is 40 bytes a block");

struct lt_scan_result {
	struct lt_scan_block *blocks;   /* ascending addresses */
	size_t count;
	size_t blocks_size;             /* bytes mapped for blocks */
	bool classified;
	bool incomplete;                /* threads could not all be listed */
	unsigned unstopped;             /* threads that did not park */
	uint64_t root_bytes, scanned_bytes;
	/* After lt_scan_run, parent is the index of the parent among the
	 * blocks of its own sort (heap blocks, or mappings), LT_NO_HEAD when
	 * the parent is of the other sort. */
	size_t mappings;                /* blocks that are mappings */
};

/* Runs with the world stopped. self_sp: the reporting thread's stack
 * pointer where its live part starts (0: its stack is ours alone);
 * self_regs: its NGREG registers, or NULL. Returns 0 or -errno; on error
 * the blocks may still be there, unclassified. */
int lt_scan_run(struct lt_scan_result *out, const struct lt_world *w,
		uintptr_t self_sp, const uintptr_t *self_regs);
void lt_scan_release(struct lt_scan_result *out);

#endif
