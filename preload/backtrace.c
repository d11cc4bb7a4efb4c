/* Backtraces with libunwind, correct in code built without frame pointers.
 * Context: HOT, always called with the thread's depth raised: libunwind may
 * allocate or call dl_iterate_phdr, and those calls must pass through.
 * The only file that calls into libunwind. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "preload-private.h"

/* Frames of our own library (interposer, recorder, this function) that
 * unw_backtrace sees before the program's first frame. */
#define OWN_FRAMES_MAX 8

void lt_backtrace_init(void)
{
	/* Per-thread caches avoid the global cache's lock on every unwind. */
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

static inline bool own_frame(uintptr_t ip)
{
	return ip >= lt_self_lo && ip < lt_self_hi;
}

uint32_t lt_backtrace(uintptr_t entry, uintptr_t *frames, uint32_t max)
{
	void *raw[LT_SNAP_MAX_DEPTH + OWN_FRAMES_MAX];
	int want = (int)max - 1 + OWN_FRAMES_MAX;
	int n = unw_backtrace(raw, want);
	int i = 0;
	uint32_t depth = 0;

	while (i < n && own_frame((uintptr_t)raw[i]))
		i++;
	frames[depth++] = entry;
	for (; i < n && depth < max; i++)
		frames[depth++] = (uintptr_t)raw[i];
	return depth;
}
