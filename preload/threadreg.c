/* Which exited threads glibc keeps in its stack cache (joined or
 * detached) and which are still waiting to be joined. The scan needs it:
 * a cached stack is glibc's (valgrind's exit clean-up frees the cache, so
 * nothing in it is a root), but the thread-local storage and descriptor
 * of a thread nobody joined yet remain the program's memory.
 * Context: cold (thread creation, join, detach); lock-free open addressing
 * keyed by the thread's descriptor address (its pthread_t). */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "preload-private.h"

#define SLOTS (1u << 16)
#define EMPTY 0
#define TOMB 1

static _Atomic uintptr_t *reaped;    /* descriptors joined or detached */

static unsigned slot_of(uintptr_t tcb)
{
	return (unsigned)((tcb * 0x9e3779b97f4a7c15ull) >> 48) & (SLOTS - 1);
}

void lt_threadreg_init(void)
{
	if (!reaped)
		reaped = lt_os_map(sizeof(*reaped) * SLOTS);
}

/* A thread joined or detached: once it exits, its stack is glibc's. */
void lt_threadreg_reaped(uintptr_t tcb)
{
	if (!reaped || tcb <= TOMB)
		return;
	for (unsigned i = 0, h = slot_of(tcb); i < SLOTS; i++) {
		_Atomic uintptr_t *s = &reaped[(h + i) & (SLOTS - 1)];
		uintptr_t v = atomic_load(s);
		if (v == tcb)
			return;
		if ((v == EMPTY || v == TOMB) && atomic_compare_exchange_strong(s, &v, tcb))
			return;
	}
}

/* A new thread got this descriptor (glibc reuses cached stacks). */
void lt_threadreg_born(uintptr_t tcb)
{
	if (!reaped)
		return;
	for (unsigned i = 0, h = slot_of(tcb); i < SLOTS; i++) {
		_Atomic uintptr_t *s = &reaped[(h + i) & (SLOTS - 1)];
		uintptr_t v = atomic_load(s);
		if (v == EMPTY)
			return;
		if (v == tcb && atomic_compare_exchange_strong(s, &v, TOMB))
			return;
	}
}

bool lt_threadreg_is_reaped(uintptr_t tcb)
{
	if (!reaped)
		return true;   /* nothing known: treat as glibc's, as before */
	for (unsigned i = 0, h = slot_of(tcb); i < SLOTS; i++) {
		uintptr_t v = atomic_load(&reaped[(h + i) & (SLOTS - 1)]);
		if (v == EMPTY)
			return false;
		if (v == tcb)
			return true;
	}
	return false;
}

/* The size of the static TLS block below each thread descriptor, from the
 * loader (a private glibc interface that LeakSanitizer uses as well). */
size_t lt_static_tls_size(void)
{
	static size_t size;
	static bool asked;
	if (!asked) {
		void (*info)(size_t *, size_t *) =
			(void (*)(size_t *, size_t *))dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info");
		size_t align = 0;
		if (info)
			info(&size, &align);
		asked = true;
	}
	return size;
}
