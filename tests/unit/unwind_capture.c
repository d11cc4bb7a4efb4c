/* Captures one stack both ways, for test_unwind.c. Built like the
 * preloaded library (-ffixed-rbp), since lt_backtrace expects the caller's
 * RBP untouched; the test's own functions are built normally. */
#include "preload-private.h"
#include "unwind_capture.h"

__attribute__((noinline)) void capture_both(struct capture *c, uint32_t max)
{
	c->max = max;
	c->nfast = lt_backtrace(1, (uintptr_t)__builtin_return_address(0),
				(uintptr_t)__builtin_dwarf_cfa(), c->fast, max);
	c->nfull = lt_backtrace_full(1, c->full, max);
	__asm__ volatile("" ::: "memory");
}
