/* Unwind rules derived from .eh_frame (cfi.c), applied by unwind.c. */
#ifndef LT_CFI_H
#define LT_CFI_H

#include <stdbool.h>
#include <stdint.h>

enum lt_rule_kind {
	LT_RULE_NONE = 0,   /* not known: let the full unwinder do it */
	LT_RULE_FRAME = 1,  /* a normal frame, described below */
	LT_RULE_END = 2,    /* the outermost frame: the stack ends here */
};

/* How to find the caller of a frame at one code address:
 *   CFA = (cfa_from_rbp ? RBP : RSP) + cfa_off
 *   return address = *(CFA + ra_off), ra_off = -8 always
 *   caller's RBP   = rbp_saved ? *(CFA + rbp_off) : RBP
 *   caller's RSP   = CFA */
struct lt_unwind_rule {
	uint8_t kind;
	bool cfa_from_rbp;
	bool rbp_saved;
	int16_t cfa_off;
	int16_t ra_off;
	int16_t rbp_off;
};

/* HOT-safe. Fills out for code address pc (for a return address, pass the
 * address minus one). Returns false when the rule is not one the fast
 * unwinder can apply, or there is no unwind information. */
bool lt_cfi_rule(uintptr_t pc, struct lt_unwind_rule *out);

/* The same answer, from the FDE's program run up to pc every time, as
 * before rows were kept per FDE: what tests compare lt_cfi_rule with. */
bool lt_cfi_rule_uncached(uintptr_t pc, struct lt_unwind_rule *out);

#endif
