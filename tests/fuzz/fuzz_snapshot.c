/* Fuzz target: the raw snapshot reader (common/snapshot_read.c) on any
 * bytes: a clear error or a valid snapshot, never a crash, a hang or
 * unbounded memory. */
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lt_snapshot snap;
	char err[256];
	if (lt_snapshot_parse(data, size, &snap, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < snap.nblocks; i++)
			(void)lt_snapshot_stack(&snap, snap.blocks[i].stack_id);
		for (size_t i = 0; i < snap.nmappings; i++)
			(void)lt_snapshot_stack(&snap, snap.mappings[i].stack_id);
		lt_snapshot_free(&snap);
	}
	return 0;
}
