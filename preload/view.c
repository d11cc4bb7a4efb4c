/* A consistent view of the program for a report (see view.h).
 * Context: cold, async-signal-safe. */
#define _GNU_SOURCE
#include <string.h>

#include "preload-private.h"
#include "scan.h"
#include "stw.h"
#include "view.h"

#define MAX_STOPPED_THREADS 8192

static atomic_flag busy = ATOMIC_FLAG_INIT;
static _Atomic uint32_t sequence;

/* Kept for the life of the process: a signal arriving late may still
 * look at it. */
static struct lt_stopped_thread *storage;
static struct lt_world world;

bool lt_report_trylock(void)
{
	return !atomic_flag_test_and_set_explicit(&busy, memory_order_acquire);
}

void lt_report_lock(void)
{
	/* An exit report waits for a report on demand in progress: the
	 * latter only pauses the program for a fork. */
	while (!lt_report_trylock())
		__builtin_ia32_pause();
}

void lt_report_unlock(void)
{
	atomic_flag_clear_explicit(&busy, memory_order_release);
}

/* In a child of fork, a report another thread was making is not ours. */
void lt_report_after_fork(void)
{
	atomic_flag_clear(&busy);
}

uint32_t lt_next_report_sequence(void)
{
	return atomic_fetch_add(&sequence, 1) + 1;
}

struct lt_world *lt_view_stop(void)
{
	if (!storage)
		storage = lt_os_map(MAX_STOPPED_THREADS * sizeof(*storage));
	if (!storage || lt_opts.leak_check == LT_LEAK_CHECK_NO) {
		memset(&world, 0, sizeof(world));
		return &world;
	}
	lt_world_stop(&world, storage, MAX_STOPPED_THREADS);
	return &world;
}

void lt_view_resume(struct lt_world *w)
{
	if (w->threads)
		lt_world_resume(w);
}

void lt_view_classify(const struct lt_world *w, struct lt_scan_result *scan,
		      struct lt_snap_totals *totals, uintptr_t self_sp,
		      const uintptr_t *self_regs)
{
	memset(totals, 0, sizeof(*totals));
	/* leak_check=no asks for the heap summary alone: no scan. */
	if (w->threads && lt_scan_run(scan, w, self_sp, self_regs) != 0)
		lt_log("the reachability scan could not complete; blocks are reported unclassified");
	lt_counters_total(totals);
	totals->dropped = lt_table_dropped();
	totals->scan_flags = (scan->classified ? LT_SCAN_CLASSIFIED : 0) |
			     (w->incomplete ? LT_SCAN_INCOMPLETE : 0);
	totals->unstopped_threads = w->unstopped;
}
