/* Loss records: the blocks of a snapshot grouped the way valgrind groups
 * them, by (allocation stack, kind), each with the bytes of the blocks it
 * heads, sorted as valgrind prints them.
 * Context: offline side only. */
#ifndef LT_RECORDS_H
#define LT_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define LT_NKINDS 5               /* enum lt_block_kind values */

struct lt_supp_set;

struct lt_loss_record {
	uint32_t stack_id;        /* the (first) stack of this record */
	uint8_t kind;             /* enum lt_block_kind */
	uint64_t bytes;           /* sum of the sizes of its own blocks */
	uint64_t blocks;
	uint64_t indirect_bytes;  /* blocks lost through the ones it heads */
	uint64_t indirect_blocks;
	bool baselined;           /* its fingerprint is in the baseline: not an error */
	/* Set by lt_supp_apply (suppress.h): a suppression matched its stack
	 * and kind. Suppressed records are never shown nor counted as errors,
	 * and their blocks move from kind_* to suppressed_* below. */
	bool suppressed;
	const char *supp_name;    /* the name of the suppression that matched */
	/* Set by lt_delta_apply (delta.h) in a report after the process's
	 * first: the record's figures in the previous report (0 for a new
	 * record), and whether the delta mode leaves the record out (valgrind's
	 * "delta considered", negated). A record that went away since is kept
	 * with 0 blocks, as valgrind keeps it for one more report. */
	uint64_t old_bytes, old_indirect_bytes, old_blocks;
	bool delta_hidden;
};

/* The LEAK SUMMARY figures of the previous report (delta.h). */
struct lt_records_previous {
	uint32_t sequence;        /* the report they come from */
	uint64_t kind_bytes[LT_NKINDS], kind_blocks[LT_NKINDS];
	uint64_t heur_bytes[LT_SNAP_HEUR_COUNT], heur_blocks[LT_SNAP_HEUR_COUNT];
	uint64_t suppressed_bytes, suppressed_blocks;
};

/* A mapping record: the tracked mappings of one (stack, kind, type, path),
 * like a loss record of heap blocks. */
struct lt_map_record {
	uint32_t stack_id;
	uint8_t kind;             /* enum lt_block_kind */
	uint8_t type;             /* enum lt_map_type */
	const char *path;         /* the snapshot's; "" for anonymous ones */
	uint64_t bytes, count;
	uint64_t indirect_bytes;  /* mappings lost through the ones it heads */
	uint64_t indirect_count;
	/* Set by lt_supp_apply, as for a loss record: never shown nor an
	 * error, its mappings counted under map_suppressed_* instead of
	 * their kind. */
	bool suppressed;
	const char *supp_name;
	bool baselined;           /* its fingerprint is in the baseline: not an error */
};

struct lt_records {
	struct lt_loss_record *recs;
	size_t count;
	/* Per block kind, every block counted once (LEAK SUMMARY). */
	uint64_t kind_bytes[LT_NKINDS], kind_blocks[LT_NKINDS];
	uint64_t bytes, blocks;   /* all blocks in use (HEAP SUMMARY) */
	const char *baseline;     /* the baseline file applied, NULL if none */
	/* Still reachable blocks reached through an interior pointer, by
	 * heuristic (enum lt_snap_heuristic; [0] unused), suppressed or not,
	 * as valgrind counts them under "of which reachable via heuristic". */
	uint64_t heur_bytes[LT_SNAP_HEUR_COUNT], heur_blocks[LT_SNAP_HEUR_COUNT];
	/* Direct bytes and blocks of the suppressed records (LEAK SUMMARY
	 * "suppressed:"). */
	uint64_t suppressed_bytes, suppressed_blocks;
	const struct lt_supp_set *supps;  /* the suppressions applied, or NULL */
	/* Mappings (track_mmap=yes): records in the same order as loss
	 * records, and the MAPPING SUMMARY's figures, per kind and per type
	 * (enum lt_map_type; [0] unused). */
	bool has_mappings;        /* the snapshot tracked mappings */
	struct lt_map_record *maps;
	size_t nmaps;
	uint64_t map_bytes, map_count;
	uint64_t map_kind_bytes[LT_NKINDS], map_kind_count[LT_NKINDS];
	uint64_t map_type_bytes[LT_MAP_NTYPES], map_type_count[LT_MAP_NTYPES];
	uint64_t map_suppressed_bytes, map_suppressed_count;  /* MAPPING SUMMARY "suppressed:" */
	uint64_t maps_dropped;
	/* Set by lt_delta_apply when there was a previous report: figures are
	 * shown with their deltas ("(+N)"). */
	bool has_previous;
	struct lt_records_previous previous;
};

/* Groups and sorts. When max_frames is not 0, stacks that agree on their
 * first max_frames frames form one record, as valgrind's stacks are cut to
 * --num-callers before they are compared. Returns 0, or -1 when out of
 * memory. */
int lt_records_build(const struct lt_snapshot *snap, unsigned max_frames,
		     struct lt_records *out);

void lt_records_free(struct lt_records *r);

/* map_records.c: groups the snapshot's mappings into out's mapping
 * records and figures. Returns 0, or -1 when out of memory. */
int lt_map_records_build(const struct lt_snapshot *snap, struct lt_records *out);

/* "private anonymous", "shared file-backed", ...: the words of a type. */
const char *lt_map_type_words(unsigned type);
/* valgrind-XML-style error kind of a mapping: "Leak_MmapPrivateAnon"... */
const char *lt_map_type_xml_kind(unsigned type);
/* Sorts the records again in valgrind's order (after records were added). */
void lt_records_sort(struct lt_records *r);

/* Sort rank of a kind among records of equal total bytes: valgrind's
 * Reachedness order (still reachable < possibly lost < indirectly lost <
 * definitely lost), then blocks not classified. */
unsigned lt_kind_rank(unsigned kind);
/* valgrind's order of loss records, which mapping records follow too:
 * total bytes, then kind (lt_kind_rank), then number of blocks (or of
 * mappings). Negative, 0 or positive as qsort wants; 0 when all three tie,
 * for the caller's own last keys. */
int lt_cmp_record_figures(uint64_t total_a, unsigned kind_a, uint64_t count_a,
			  uint64_t total_b, unsigned kind_b, uint64_t count_b);

#endif
