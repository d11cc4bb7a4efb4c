/* Helpers shared by the parity scenarios (tests/parity/).
 *
 * Each scenario is built twice, like examples/ (-O0 with frame pointers,
 * -O2 without), so it takes EX_FRAME and ex_use() from examples/example.h.
 * What this header adds is about stale copies of pointers: both valgrind
 * and leaktrace scan live memory conservatively, so a copy of a pointer
 * left in a dead stack frame that a later, live frame happens to reuse
 * without overwriting would keep a "lost" block reachable, differently
 * for each tool (their frames at exit differ). Scenarios that drop a
 * pointer call pt_scrub_stack() afterwards, from the frame that is live
 * at exit, so the dead area below it holds zeros.
 *
 * The same goes for the caller-saved registers: valgrind scans the
 * registers of the thread that exits, and a stale copy left in, say, r10
 * survives or not depending on which system calls ran since (a syscall
 * clobbers rcx and r11), which can depend on thread timing.
 *
 *   pt_scrub_stack()   zeroes 8 KiB of stack below the caller's frame and
 *                      the caller-saved registers (x86-64).
 */
#ifndef PARITY_H
#define PARITY_H

#include <stdlib.h>
#include <string.h>

#include "example.h"

#define PT_UNUSED __attribute__((unused))

EX_FRAME PT_UNUSED static void pt_scrub_stack(void)
{
	char buf[8192];
	memset(buf, 0, sizeof(buf));
	ex_use(buf);
#if defined(__x86_64__)
	__asm__ volatile("xorl %%eax, %%eax\n\txorl %%ecx, %%ecx\n\txorl %%edx, %%edx\n\t"
			 "xorl %%esi, %%esi\n\txorl %%edi, %%edi\n\txorl %%r8d, %%r8d\n\t"
			 "xorl %%r9d, %%r9d\n\txorl %%r10d, %%r10d\n\txorl %%r11d, %%r11d"
			 : : : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
#endif
}

#endif
