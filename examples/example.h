/* Helpers shared by the example programs.
 *
 * The examples are built twice, at -O0 with frame pointers and at -O2
 * without, and the integration tests compare their leak reports frame by
 * frame with valgrind's. These macros keep the frames and allocations the
 * tests talk about from being optimised away at -O2:
 *
 *   EX_FRAME    on every helper whose frame must appear in a stack: no
 *               inlining, no cloning (foo.constprop.0), no IPA tricks.
 *   ex_use(p)   makes the compiler believe p is read, so an allocation whose
 *               result is otherwise unused is not deleted, and a call
 *               followed by ex_use() is never a tail call (which would drop
 *               the caller's frame).
 */
#ifndef EXAMPLE_H
#define EXAMPLE_H

#if defined(__has_attribute)
#if __has_attribute(noipa)
#define EX_FRAME __attribute__((noipa))
#endif
#endif
#ifndef EX_FRAME
#define EX_FRAME __attribute__((noinline, noclone))
#endif

#define ex_use(p) __asm__ volatile("" : : "r"(p) : "memory")

#endif
