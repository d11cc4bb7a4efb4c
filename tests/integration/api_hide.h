/* Helpers of the in-program API tests: pointers kept where no scan finds
 * them, and a stack and registers cleared of stale copies, so that a
 * block is lost exactly when the test means it to be. */
#ifndef API_HIDE_H
#define API_HIDE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define API_NOINLINE __attribute__((noinline))

/* A pointer stored inverted is no pointer to a scan. */
static inline uintptr_t api_hide(void *p)
{
	return ~(uintptr_t)p;
}

static inline void *api_unhide(uintptr_t h)
{
	return (void *)~h;
}

/* Zeroes 8 KiB below the caller's frame and the caller-saved registers. */
API_NOINLINE static void api_scrub(void)
{
	char buf[8192];
	memset(buf, 0, sizeof(buf));
	__asm__ volatile("" : : "r"(buf) : "memory");
	__asm__ volatile("xorl %%eax, %%eax\n\txorl %%ecx, %%ecx\n\txorl %%edx, %%edx\n\t"
			 "xorl %%esi, %%esi\n\txorl %%edi, %%edi\n\txorl %%r8d, %%r8d\n\t"
			 "xorl %%r9d, %%r9d\n\txorl %%r10d, %%r10d\n\txorl %%r11d, %%r11d"
			 : : : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
}

/* malloc(size), filled with zeros, its address returned hidden. */
API_NOINLINE static uintptr_t api_alloc_hidden(size_t size)
{
	void *p = calloc(1, size);
	return api_hide(p);
}

#endif
