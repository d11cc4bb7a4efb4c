/* The raw snapshot: the one contract between the traced process (writer,
 * preload/snapshot_write.c) and the offline side (reader, snapshot_read.c).
 * Layout is documented in common/SNAPSHOT.md; every multi-byte field is
 * little-endian and every record carries its own length so that a reader
 * can validate before it trusts. */
#ifndef LT_SNAPSHOT_H
#define LT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LT_SNAP_MAGIC "LTRACE\x00\x1a"
#define LT_SNAP_MAGIC_LEN 8
#define LT_SNAP_VERSION 1u

/* File header, 32 bytes. */
struct lt_snap_file_header {
	uint8_t magic[LT_SNAP_MAGIC_LEN];
	uint32_t version;
	uint32_t header_size;     /* sizeof(struct lt_snap_file_header) */
	uint64_t file_size;       /* total bytes, header included */
	uint32_t section_count;
	uint32_t flags;           /* none defined yet: must be 0 */
};

/* Each section: this header, then payload_size bytes, then zero padding up
 * to the next multiple of 8. Unknown tags are skipped by readers. */
struct lt_snap_section_header {
	uint32_t tag;
	uint32_t flags;           /* must be 0 */
	uint64_t payload_size;
};

enum lt_snap_tag {
	LT_SNAP_PROCESS = 1,
	LT_SNAP_MODULES = 2,
	LT_SNAP_STACKS = 3,
	LT_SNAP_BLOCKS = 4,
	LT_SNAP_TOTALS = 5,
	LT_SNAP_MEMORY = 6,       /* optional */
	LT_SNAP_MAPPINGS = 7,     /* optional: absent when track_mmap=no */
};

/* Why the snapshot was taken. */
enum lt_snap_reason {
	LT_REASON_EXIT = 1,
	LT_REASON_SIGNAL = 2,
	LT_REASON_API = 3,
	LT_REASON_INTERVAL = 4,
};

/* PROCESS payload: this fixed part, then three strings, each a u32 length
 * followed by that many bytes (no terminator): executable path, command line
 * (arguments separated by NUL bytes), options string (LEAKTRACE_OPTIONS
 * syntax, the effective options of the traced process). */
struct lt_snap_process {
	uint32_t pid;
	uint32_t ppid;
	uint64_t time_ns;         /* CLOCK_REALTIME at snapshot */
	uint32_t reason;          /* enum lt_snap_reason */
	uint32_t sequence;        /* 1 for the first snapshot of this process */
};

/* MODULES payload: u32 count, u32 zero, then count entries. Each entry is
 * this fixed part, build_id_len bytes of build-id, path_len bytes of path,
 * zero padding to a multiple of 8. */
struct lt_snap_module {
	uint64_t bias;            /* load bias: runtime address - ELF vaddr */
	uint64_t lo, hi;          /* runtime range of its PT_LOAD segments */
	uint32_t load_epoch;      /* module epoch at which it was seen loaded */
	uint32_t unload_epoch;    /* epoch of its dlclose, LT_EPOCH_NONE if loaded */
	uint16_t build_id_len;
	uint16_t path_len;
	uint32_t reserved;
};
#define LT_EPOCH_NONE 0xffffffffu

/* STACKS payload: u32 count, u32 zero, then count entries: this fixed part
 * followed by depth u64 frames. frames[0] is the entry point that allocated
 * (malloc, calloc, operator new...), frames[1..] are return addresses of
 * the callers, innermost first. */
struct lt_snap_stack {
	uint32_t id;              /* 1-based, unique within the snapshot */
	uint32_t depth;
	uint32_t epoch;           /* module epoch when first captured */
	uint32_t reserved;
};
#define LT_SNAP_MAX_DEPTH 256

/* BLOCKS payload: u64 count, then count of these. */
struct lt_snap_block {
	uint64_t addr;
	uint64_t size;
	uint32_t stack_id;
	uint8_t kind;             /* enum lt_block_kind */
	uint8_t heuristic;        /* enum lt_snap_heuristic: how a REACHABLE
				     block was reached through an interior
				     pointer, 0 if by a start pointer */
	uint8_t reserved[2];
	uint32_t head;            /* for LT_KIND_INDIRECT: index of the lost block
				     heading its structure; else LT_NO_HEAD */
	uint32_t reserved2;
};
#define LT_NO_HEAD 0xffffffffu

enum lt_block_kind {
	LT_KIND_UNCLASSIFIED = 0, /* no reachability scan was made */
	LT_KIND_DEFINITE = 1,
	LT_KIND_INDIRECT = 2,
	LT_KIND_POSSIBLE = 3,
	LT_KIND_REACHABLE = 4,
};

/* valgrind's interior-pointer heuristics, in valgrind's order. */
enum lt_snap_heuristic {
	LT_SNAP_HEUR_NONE = 0,
	LT_SNAP_HEUR_STDSTRING = 1,
	LT_SNAP_HEUR_LENGTH64 = 2,
	LT_SNAP_HEUR_NEWARRAY = 3,
	LT_SNAP_HEUR_MULTIPLEINHERITANCE = 4,
};
#define LT_SNAP_HEUR_COUNT 5

/* MAPPINGS payload: u64 count, u64 dropped (regions that could not be
 * tracked), then count entries: this fixed part, path_len bytes of path,
 * zero padding to a multiple of 8. */
struct lt_snap_mapping {
	uint64_t addr;            /* page-aligned start of the region */
	uint64_t size;            /* bytes, a multiple of the page size */
	uint32_t stack_id;        /* the mmap or mremap call that made it */
	uint8_t kind;             /* enum lt_block_kind */
	uint8_t type;             /* enum lt_map_type */
	uint16_t path_len;        /* bytes of path that follow (file-backed) */
	uint32_t head;            /* for LT_KIND_INDIRECT: index in this list
				     of the lost mapping heading it, or
				     LT_NO_HEAD; else LT_NO_HEAD */
	uint32_t reserved;
};

/* The four types of mapping. */
enum lt_map_type {
	LT_MAP_PRIVATE_ANON = 1,
	LT_MAP_SHARED_ANON = 2,
	LT_MAP_PRIVATE_FILE = 3,
	LT_MAP_SHARED_FILE = 4,
};
#define LT_MAP_NTYPES 5           /* enum values, 0 unused */

/* TOTALS payload. */
struct lt_snap_totals {
	uint64_t allocs;          /* successful allocation calls, valgrind-counted */
	uint64_t frees;
	uint64_t bytes_allocated;
	uint64_t dropped;         /* blocks whose record could not be kept */
	uint32_t scan_flags;      /* LT_SCAN_* */
	uint32_t unstopped_threads; /* threads that did not pause for the scan:
				       their stacks were scanned whole */
};

/* MEMORY payload: the process's memory when the snapshot was taken, in
 * KiB, as /proc shows it; a figure the kernel did not give is
 * LT_MEM_UNKNOWN. USS = Private_Clean + Private_Dirty. */
struct lt_snap_memory {
	uint64_t vss_kib;         /* VmSize */
	uint64_t rss_kib;         /* Rss */
	uint64_t pss_kib;         /* Pss */
	uint64_t uss_kib;         /* Private_Clean + Private_Dirty */
	uint64_t swap_kib;        /* Swap */
};
#define LT_MEM_UNKNOWN UINT64_MAX

/* TOTALS.scan_flags */
#define LT_SCAN_CLASSIFIED 1u     /* kinds come from a reachability scan */
#define LT_SCAN_INCOMPLETE 2u     /* not every thread could be listed */

/* Exit status of `leaktrace report --raw-fd=N`, the reporter the preloaded
 * library runs: 0 rendered, no leak of a kind in errors_for_leak_kinds;
 * LT_REPORT_STATUS_ERRORS rendered, and such leaks were found; anything
 * else, the report failed. */
#define LT_REPORT_STATUS_ERRORS 3

/* ---- Reader (offline side; allocates freely) ---- */

struct lt_module {
	uint64_t bias, lo, hi;
	uint32_t load_epoch, unload_epoch;
	const uint8_t *build_id;  /* points into the snapshot buffer */
	size_t build_id_len;
	char *path;               /* NUL-terminated copy */
};

struct lt_stack {
	uint32_t id, depth, epoch;
	const uint64_t *frames;   /* aligned copy owned by the snapshot */
};

struct lt_mapping_entry {
	uint64_t addr, size;
	uint32_t stack_id;
	uint32_t head;            /* index in mappings, or LT_NO_HEAD */
	uint8_t kind;             /* enum lt_block_kind */
	uint8_t type;             /* enum lt_map_type */
	char *path;               /* NUL-terminated copy; "" when none */
};

struct lt_snapshot {
	struct lt_snap_process process;
	char *exe;                /* NUL-terminated */
	char *cmdline;            /* arguments joined by single spaces */
	char **argv;              /* the arguments one by one, NULL-terminated */
	size_t argc;
	char *options;            /* NUL-terminated */
	struct lt_module *modules;
	size_t nmodules;
	struct lt_stack *stacks;  /* sorted by id */
	size_t nstacks;
	struct lt_snap_block *blocks;
	size_t nblocks;
	struct lt_snap_totals totals;
	bool has_memory;          /* the optional MEMORY section was there */
	struct lt_snap_memory memory;
	bool has_mappings;        /* the optional MAPPINGS section was there */
	struct lt_mapping_entry *mappings;
	size_t nmappings;
	uint64_t mappings_dropped;
	void *storage_;           /* reader-private */
};

/* Parses and validates a snapshot held in memory. Returns 0, or -1 with a
 * one-line reason in err. The buffer must outlive the snapshot. */
int lt_snapshot_parse(const void *buf, size_t len, struct lt_snapshot *out,
		      char *err, size_t errlen);

/* Reads a whole file (or fd when path is NULL) and parses it. The snapshot
 * owns the bytes read. */
int lt_snapshot_load(const char *path, int fd, struct lt_snapshot *out,
		     char *err, size_t errlen);

/* Reads every byte of a file (or of fd when path is NULL: a pipe works)
 * into a malloc'ed buffer, refusing more than LT_SNAP_MAX_FILE_SIZE or more
 * than the header's file_size. Returns 0, or -1 with a reason in err. */
int lt_snapshot_read_all(const char *path, int fd, void **buf, size_t *len,
			 char *err, size_t errlen);
#define LT_SNAP_MAX_FILE_SIZE ((uint64_t)16 << 30)

/* Frees what the reader allocated; safe on a zeroed or failed snapshot. */
void lt_snapshot_free(struct lt_snapshot *snap);

/* The stack with this id, or NULL. */
const struct lt_stack *lt_snapshot_stack(const struct lt_snapshot *snap,
					 uint32_t id);

#endif
