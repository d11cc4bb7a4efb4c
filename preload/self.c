/* The address range of libleaktrace.so itself, read from its own ELF
 * header as mapped, so that backtraces can leave out our frames.
 * Context: init. */
#include <elf.h>
#include <link.h>

#include "preload-private.h"

extern const ElfW(Ehdr) __ehdr_start LT_HIDDEN;

uintptr_t lt_self_lo, lt_self_hi;
uintptr_t lt_self_data_lo, lt_self_data_hi;

void lt_self_range_init(void)
{
	const ElfW(Ehdr) *eh = &__ehdr_start;
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
	uintptr_t lo = UINTPTR_MAX, hi = 0, vaddr_base = UINTPTR_MAX;

	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < vaddr_base)
			vaddr_base = ph[i].p_vaddr & ~(uintptr_t)(ph[i].p_align - 1);
	uintptr_t bias = (uintptr_t)eh - vaddr_base;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X))
			continue;
		if (bias + ph[i].p_vaddr < lo)
			lo = bias + ph[i].p_vaddr;
		if (bias + ph[i].p_vaddr + ph[i].p_memsz > hi)
			hi = bias + ph[i].p_vaddr + ph[i].p_memsz;
	}
	lt_self_lo = lo;
	lt_self_hi = hi;
	lo = UINTPTR_MAX;
	hi = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_W))
			continue;
		uintptr_t start = (bias + ph[i].p_vaddr) & ~(uintptr_t)4095;
		uintptr_t end = (bias + ph[i].p_vaddr + ph[i].p_memsz + 4095) & ~(uintptr_t)4095;
		if (start < lo)
			lo = start;
		if (end > hi)
			hi = end;
	}
	lt_self_data_lo = lo;
	lt_self_data_hi = hi;
}
