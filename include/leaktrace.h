/* leaktrace.h: ask leaktrace for a report, or tell it about memory, from
 * inside the traced program.
 *
 * Every function is declared weak: a program built with this header runs
 * the same with or without libleaktrace.so preloaded. Without it, each
 * call below is a no-op that returns 0 (the wrapping macros test the
 * function's address first), so no link option and no library is needed.
 *
 * The same library also exports LeakSanitizer's interface
 * (<sanitizer/lsan_interface.h>: __lsan_do_leak_check, __lsan_ignore_object,
 * ...) with LSan's meanings; see README, "In-program API".
 *
 * None of these functions may be called from a signal handler. */
#ifndef LEAKTRACE_H
#define LEAKTRACE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when libleaktrace.so is loaded and ready. */
int leaktrace_running(void) __attribute__((weak));

/* Pauses the program, classifies every live block and writes a full
 * report now (to the same destination as the report at exit), then
 * returns: 1 when it found leaks of a kind in errors_for_leak_kinds (after
 * suppressions), 0 when none, -1 when no report could be made. The report
 * at exit still runs. */
int leaktrace_report_now(void) __attribute__((weak));

/* The live block that starts at ptr (as malloc/new returned it) is never
 * reported as lost: it counts as still reachable, and so does what it
 * points to. Returns 0, or -1 when ptr is not the start of a live block.
 * A realloc that moves or resizes the block ends the ignoring. */
int leaktrace_ignore(const void *ptr) __attribute__((weak));

/* Blocks the calling thread allocates between leaktrace_disable() and the
 * matching leaktrace_enable() are ignored as by leaktrace_ignore().
 * Calls nest; each thread has its own count. */
void leaktrace_disable(void) __attribute__((weak));
void leaktrace_enable(void) __attribute__((weak));

/* [ptr, ptr + size) is scanned for pointers as a root (where readable)
 * until removed. Up to 256 regions; a range is removed by the exact start
 * and size it was added with. Both return 0, or -1 (range empty or
 * wrapping, registry full, or not registered). */
int leaktrace_root_add(const void *ptr, size_t size) __attribute__((weak));
int leaktrace_root_remove(const void *ptr, size_t size) __attribute__((weak));

#ifdef __cplusplus
}
#endif

/* Calls that do nothing and return 0 when the library is absent. The
 * parentheses around the name call the function itself, not the macro. */
#define LEAKTRACE_CALL0_(fn, none) (&fn ? (fn)() : (none))
#define LEAKTRACE_CALL_(fn, none, ...) (&fn ? (fn)(__VA_ARGS__) : (none))
#define leaktrace_running() LEAKTRACE_CALL0_(leaktrace_running, 0)
#define leaktrace_report_now() LEAKTRACE_CALL0_(leaktrace_report_now, 0)
#define leaktrace_ignore(ptr) LEAKTRACE_CALL_(leaktrace_ignore, 0, ptr)
#define leaktrace_disable() LEAKTRACE_CALL0_(leaktrace_disable, (void)0)
#define leaktrace_enable() LEAKTRACE_CALL0_(leaktrace_enable, (void)0)
#define leaktrace_root_add(ptr, size) LEAKTRACE_CALL_(leaktrace_root_add, 0, ptr, size)
#define leaktrace_root_remove(ptr, size) LEAKTRACE_CALL_(leaktrace_root_remove, 0, ptr, size)

#endif
