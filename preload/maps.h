/* The process's mappings, read from /proc/self/maps without allocating. */
#ifndef LT_MAPS_H
#define LT_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lt_region_kind {
	LT_REGION_ANON,           /* anonymous memory, no name */
	LT_REGION_FILE,           /* a regular file (or /dev/zero, /dev/shm) */
	LT_REGION_HEAP,           /* [heap], the brk area */
	LT_REGION_STACK,          /* [stack], the main thread's stack */
	LT_REGION_DEVICE,         /* a device: never read, it may hang */
	LT_REGION_SPECIAL,        /* [vvar], [vdso], [vsyscall]... */
};

struct lt_region {
	uintptr_t lo, hi;
	bool readable, writable, executable, shared;
	enum lt_region_kind kind;
	const char *path;         /* "" when anonymous; points into the buffer */
};

struct lt_maps {
	struct lt_region *regions;
	size_t count;
	char *text;
	size_t text_size, regions_size;
};

/* Returns 0, or -errno. Regions are in ascending address order. */
int lt_maps_read(struct lt_maps *m);
void lt_maps_release(struct lt_maps *m);
/* The region holding addr, or NULL. */
const struct lt_region *lt_maps_find(const struct lt_maps *m, uintptr_t addr);

#endif
