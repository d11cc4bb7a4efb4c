/* root-register: a block whose only pointer is in a register (r12) of a
 * live thread that spins in a tight loop when the process exits.
 *
 * spin_thread calls hold_in_r12 (assembly, below), which calls make_held
 * for a 104-byte block, moves the address into the callee-saved r12,
 * clears every other register that may hold a copy, zeroes 4 KiB of the
 * stack below it (where make_held and malloc left copies), sets g_ready
 * and spins reading g_stop, which is never set. main waits for g_ready and
 * returns. The spinning thread is stopped (leaktrace: a signal; valgrind:
 * its scheduler) with the pointer in r12 only.
 *
 * Expected:
 *   104 bytes in 1 blocks still reachable
 *     (malloc <- make_held <- hold_in_r12 <- spin_thread <- start_thread)
 *   the spinner's thread vector (DTV): possibly lost (see root-thread-stack)
 * x86-64 only. Heap: 2 allocs, 0 frees. */
#include <pthread.h>
#include <time.h>

#include "parity.h"

volatile int g_ready;
volatile int g_stop;

void *make_held(void);
void *hold_in_r12(void);

EX_FRAME void *make_held(void)
{
	void *p = malloc(104); /* still reachable: r12 of a live thread */
	ex_use(p);
	if (p)
		memset(p, 0, 104);
	return p;
}

__asm__(
	"	.text\n"
	"	.globl	hold_in_r12\n"
	"	.type	hold_in_r12, @function\n"
	"hold_in_r12:\n"
	"	.cfi_startproc\n"
	"	pushq	%r12\n"
	"	.cfi_def_cfa_offset 16\n"
	"	.cfi_offset r12, -16\n"
	"	call	make_held\n"
	"	movq	%rax, %r12\n"
	/* zero 4 KiB below the stack pointer, from above it, so memcheck
	 * sees valid writes */
	"	subq	$4096, %rsp\n"
	"	.cfi_adjust_cfa_offset 4096\n"
	"	xorl	%eax, %eax\n"
	"	movq	%rsp, %rdi\n"
	"	movl	$512, %ecx\n"
	"	rep stosq\n"
	"	addq	$4096, %rsp\n"
	"	.cfi_adjust_cfa_offset -4096\n"
	"	xorl	%ecx, %ecx\n"
	"	xorl	%edx, %edx\n"
	"	xorl	%esi, %esi\n"
	"	xorl	%edi, %edi\n"
	"	xorl	%r8d, %r8d\n"
	"	xorl	%r9d, %r9d\n"
	"	xorl	%r10d, %r10d\n"
	"	xorl	%r11d, %r11d\n"
	"	movl	$1, g_ready(%rip)\n"
	"1:	pause\n"
	"	cmpl	$0, g_stop(%rip)\n"
	"	je	1b\n"
	"	movq	%r12, %rax\n"
	"	popq	%r12\n"
	"	.cfi_def_cfa_offset 8\n"
	"	ret\n"
	"	.cfi_endproc\n"
	"	.size	hold_in_r12, .-hold_in_r12\n");

EX_FRAME static void *spin_thread(void *arg)
{
	void *p = hold_in_r12(); /* never returns */
	ex_use(p);
	return arg;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, spin_thread, NULL) != 0)
		return 1;
	struct timespec ms = {0, 1000000};
	while (!g_ready)
		nanosleep(&ms, NULL);
	return 0;
}
