/* A consistent view of the program for a report: its threads paused, its
 * blocks classified, its counters read, all at one instant (view.c).
 * Context: cold; every function here is async-signal-safe (raw system
 * calls, atomics, mappings of ours), so a report on demand can run them
 * from a signal handler. */
#ifndef LT_VIEW_H
#define LT_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

struct lt_world;
struct lt_scan_result;

/* One report at a time, whichever its trigger. */
void lt_report_lock(void);
bool lt_report_trylock(void);
void lt_report_unlock(void);
void lt_report_after_fork(void);
uint32_t lt_next_report_sequence(void);

/* Pauses every other thread; returns the world to resume. */
struct lt_world *lt_view_stop(void);
void lt_view_resume(struct lt_world *w);

/* With the world stopped (or in a frozen copy of it): classifies the blocks
 * (unless leak_check=no) and fills totals. self_sp: where the reporting
 * thread's live stack starts (0: do not scan it); self_regs: its registers
 * (NULL: none). */
void lt_view_classify(const struct lt_world *w, struct lt_scan_result *scan,
		      struct lt_snap_totals *totals, uintptr_t self_sp,
		      const uintptr_t *self_regs);

#endif
