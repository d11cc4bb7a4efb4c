/* leaktrace_report_now() sees the caller's callee-saved registers: a block
 * whose only pointer sits in rbx, r12 or r15 at the call is reachable
 * (0: no leak), one whose pointer sat in r10, which the call may clobber,
 * is lost (1). x86-64. */
#include <stdio.h>

#include "api_hide.h"
#include "leaktrace.h"

__asm__(".weak leaktrace_report_now");

static uintptr_t last;   /* hidden: freed after each report */

/* Puts the pointer, unhidden, in REG only, calls the API, clears REG,
 * frees the block. */
#define REPORT_WITH_ONLY(reg, clobbers...)                                          \
	({                                                                          \
		int rc_;                                                            \
		uintptr_t h_ = api_alloc_hidden(32);                                \
		last = h_;                                                          \
		api_scrub();                                                        \
		__asm__ volatile("mov %[h], %%" reg "\n\tnot %%" reg "\n\t"         \
				 "xor %[h], %[h]\n\t"                               \
				 "call leaktrace_report_now@PLT\n\t"                \
				 "xor %%" reg ", %%" reg                            \
				 : "=a"(rc_), [h] "+r"(h_)                          \
				 :                                                  \
				 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",   \
				   "r11", "memory", clobbers);                      \
		free(api_unhide(last));                                             \
		rc_;                                                                \
	})

API_NOINLINE static int held_in_rbx(void) { return REPORT_WITH_ONLY("rbx", "rbx"); }
API_NOINLINE static int held_in_r12(void) { return REPORT_WITH_ONLY("r12", "r12"); }
API_NOINLINE static int held_in_r15(void) { return REPORT_WITH_ONLY("r15", "r15"); }
API_NOINLINE static int held_in_r10(void) { return REPORT_WITH_ONLY("r10", "cc"); }

int main(void)
{
	/* The calls below are made from assembly, not through the header's
	 * macros: without the library there is nothing to call. */
	if (!leaktrace_running()) {
		puts("no library");
		return 0;
	}
	int rbx = held_in_rbx();
	int r12 = held_in_r12();
	int r15 = held_in_r15();
	int r10 = held_in_r10();
	printf("rbx=%d r12=%d r15=%d r10=%d\n", rbx, r12, r15, r10);
	return 0;
}
