/* Stop-the-world: pausing every other thread with its registers saved.
 * See stw.c. */
#ifndef LT_STW_H
#define LT_STW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/ucontext.h>

enum lt_thread_state {
	LT_THREAD_SIGNALLED = 1,  /* asked to park, not parked (yet) */
	LT_THREAD_PARKED = 2,     /* registers saved, waiting for release */
	LT_THREAD_RESUMED = 3,
	LT_THREAD_GONE = 4,       /* exited before it could park */
	LT_THREAD_BLOCKING = 5,   /* blocks the signal: not waited for */
};

struct lt_stopped_thread {
	pid_t tid;
	_Atomic uint32_t state;
	uintptr_t sp;             /* stack pointer when interrupted */
	uintptr_t tcb;            /* its thread pointer (glibc: struct pthread) */
	greg_t regs[NGREG];
};

struct lt_world {
	struct lt_stopped_thread *threads;
	unsigned count, capacity;
	unsigned unstopped;       /* signalled but never parked */
	bool incomplete;          /* threads could not all be listed */
	uintptr_t self_tcb;
	_Atomic uint32_t parked;
};

/* Stops every thread but the caller. storage must stay mapped for the
 * life of the process (a late signal may still read it). Returns 0, or -1
 * when no signal could be had (w->incomplete is set). Threads that did not
 * park in time are counted in w->unstopped: callers must then scan
 * conservatively. */
int lt_world_stop(struct lt_world *w, struct lt_stopped_thread *storage,
		  unsigned capacity);
void lt_world_resume(struct lt_world *w);

#endif
