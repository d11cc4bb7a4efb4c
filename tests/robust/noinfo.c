/* Code the unwinder knows nothing about: built with
 * -fno-asynchronous-unwind-tables -fno-unwind-tables -fomit-frame-pointer
 * (no .eh_frame entry), and calling malloc with RBP set to garbage, as
 * hand-written assembly or code built without frame pointers may leave it.
 * -mno-red-zone: the call below would otherwise clobber locals the
 * compiler keeps under the stack pointer. */
#include <stdint.h>
#include <stdlib.h>

#include "noinfo.h"

static void *call_malloc_with_rbp(size_t n, uintptr_t rbp)
{
	void *result;
	__asm__ volatile(
		"push %%rbp\n\t"
		"mov %%rsp, %%r12\n\t"
		"and $-16, %%rsp\n\t"      /* the ABI's alignment at a call */
		"mov %[rbp], %%rbp\n\t"
		"call malloc@PLT\n\t"
		"mov %%r12, %%rsp\n\t"
		"pop %%rbp\n\t"
		: "=a"(result)
		: "D"(n), [rbp] "r"(rbp)
		: "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "r12", "memory", "cc",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	return result;
}

void *noinfo_malloc_garbage_fp(size_t n)
{
	return call_malloc_with_rbp(n, 0xdead0000beef0ul);
}

void *noinfo_malloc_looping_fp(size_t n)
{
	uintptr_t frame[2];
	frame[0] = (uintptr_t)frame;   /* saved RBP: itself */
	frame[1] = (uintptr_t)&call_malloc_with_rbp + 1;
	__asm__ volatile("" ::"r"(frame) : "memory");
	return call_malloc_with_rbp(n, (uintptr_t)frame);
}
