/* Takes one allocation stack both ways, for test_stackcache.c: by a walk
 * (lt_backtrace) and as an id (lt_stack_id). Built like the preloaded
 * library (-ffixed-rbp): both expect the caller's RBP untouched. */
#include "preload-private.h"
#include "stack_capture.h"

__attribute__((noinline)) uint32_t capture_id(struct stack_capture *c, uint32_t max)
{
	uintptr_t ra = (uintptr_t)__builtin_return_address(0);
	uintptr_t cfa = (uintptr_t)__builtin_dwarf_cfa();
	c->sp = cfa;
	c->depth = lt_backtrace(1, ra, cfa, c->frames, max);
	c->id = lt_stack_id(1, ra, cfa, max);
	__asm__ volatile("" ::: "memory");
	return c->id;
}
