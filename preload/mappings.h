/* The program's own mappings (mappings.c): regions made by its mmap and
 * mremap calls, with their stacks and types, for the reachability scan and
 * the snapshot's MAPPINGS section. */
#ifndef LT_MAPPINGS_H
#define LT_MAPPINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "snapshot.h"

struct lt_thread;

/* Regions the registry holds at most; more are counted as dropped. */
#define LT_MAP_CAPACITY (1u << 16)

struct lt_mapping {
	uintptr_t lo, hi;         /* page-aligned */
	uint32_t stack_id;        /* of the mmap or mremap call that made it */
	uint32_t path;            /* offset in the path pool; 0: none */
	uint8_t type;             /* enum lt_map_type */
};

/* HOT. The interposers' bodies, once the real functions are known:
 * each makes the real call, records what changed, keeps errno. */
void *lt_mappings_mmap(struct lt_thread *t, void *addr, size_t len, int prot, int flags,
		       int fd, off_t off, uintptr_t entry, uintptr_t ra, uintptr_t cfa);
int lt_mappings_munmap(struct lt_thread *t, void *addr, size_t len);
void *lt_mappings_mremap(struct lt_thread *t, void *old_addr, size_t old_len, size_t new_len,
			 int flags, void *new_addr, uintptr_t entry, uintptr_t ra,
			 uintptr_t cfa);

/* Cold: installs the fork handlers. */
void lt_mappings_init(void);

/* Cold, with the other threads parked: calls fn for every tracked region
 * in ascending address order; returns how many there were. */
size_t lt_mappings_foreach(void (*fn)(const struct lt_mapping *m, void *ctx), void *ctx);
/* The file path of a region ("" if none or unknown). */
const char *lt_mappings_path(uint32_t path);
/* Regions that could not be tracked (the registry was full). */
uint64_t lt_mappings_dropped(void);
/* Whether mappings are tracked (track_mmap=yes). */
bool lt_mappings_tracked(void);

#endif
