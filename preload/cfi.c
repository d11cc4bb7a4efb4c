/* Call-frame information: the rule that recovers a caller's frame at a
 * given code address, read from the module's .eh_frame_hdr / .eh_frame
 * (DWARF CFA programs), reduced to what the fast unwinder can apply:
 * CFA = RSP or RBP + offset, return address and RBP saved at fixed offsets
 * from the CFA. Anything else (expressions, other registers, signal
 * frames) is reported as "use the full unwinder".
 * Context: HOT-safe (called on a cache miss of unwind.c): reads mapped
 * ELF data through _dl_find_object, which takes no lock; no allocation. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

#include "cfi.h"
#include "preload-private.h"

/* glibc 2.35+; absent (NULL) on older systems, where everything falls
 * back to libunwind. */
extern int _dl_find_object(void *pc, struct dl_find_object *result) __attribute__((weak));

/* DWARF register numbers on x86-64 */
enum { DW_RBP = 6, DW_RSP = 7, DW_RA = 16 };

/* DW_EH_PE pointer encodings */
enum {
	PE_ABSPTR = 0x00, PE_ULEB128 = 0x01, PE_UDATA2 = 0x02, PE_UDATA4 = 0x03,
	PE_UDATA8 = 0x04, PE_SLEB128 = 0x09, PE_SDATA2 = 0x0a, PE_SDATA4 = 0x0b,
	PE_SDATA8 = 0x0c, PE_PCREL = 0x10, PE_DATAREL = 0x30, PE_INDIRECT = 0x80,
	PE_OMIT = 0xff,
};

struct reader {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t uleb(struct reader *r)
{
	uint64_t v = 0;
	unsigned shift = 0;
	while (r->p < r->end) {
		uint8_t b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static int64_t sleb(struct reader *r)
{
	int64_t v = 0;
	unsigned shift = 0;
	uint8_t b = 0;
	while (r->p < r->end) {
		b = *r->p++;
		if (shift < 64)
			v |= (int64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	if (shift < 64 && (b & 0x40))
		v |= -((int64_t)1 << shift);
	if (b & 0x80)
		r->bad = true;
	return v;
}

static uint64_t fixed(struct reader *r, unsigned n)
{
	uint64_t v = 0;
	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p, n);
	r->p += n;
	return v;
}

/* Reads a pointer in encoding enc; datarel is the base for PE_DATAREL. */
static uintptr_t encoded(struct reader *r, uint8_t enc, uintptr_t datarel)
{
	const uint8_t *at = r->p;
	uint64_t v;
	if (enc == PE_OMIT)
		return 0;
	switch (enc & 0x0f) {
	case PE_ABSPTR: v = fixed(r, 8); break;
	case PE_ULEB128: v = uleb(r); break;
	case PE_UDATA2: v = fixed(r, 2); break;
	case PE_UDATA4: v = fixed(r, 4); break;
	case PE_UDATA8: v = fixed(r, 8); break;
	case PE_SLEB128: v = (uint64_t)sleb(r); break;
	case PE_SDATA2: v = (uint64_t)(int64_t)(int16_t)fixed(r, 2); break;
	case PE_SDATA4: v = (uint64_t)(int64_t)(int32_t)fixed(r, 4); break;
	case PE_SDATA8: v = fixed(r, 8); break;
	default: r->bad = true; return 0;
	}
	switch (enc & 0x70) {
	case 0: break;
	case PE_PCREL: v += (uintptr_t)at; break;
	case PE_DATAREL: v += datarel; break;
	default: r->bad = true; return 0;
	}
	if (enc & PE_INDIRECT) {
		r->bad = true;   /* not used by .eh_frame_hdr tables */
		return 0;
	}
	return (uintptr_t)v;
}

/* The FDE covering pc, via the binary-search table of .eh_frame_hdr. */
static const uint8_t *find_fde(const uint8_t *hdr, uintptr_t pc)
{
	struct reader r = { .p = hdr, .end = hdr + 4 + 32 };
	if (fixed(&r, 1) != 1)
		return NULL;
	uint8_t ptr_enc = (uint8_t)fixed(&r, 1);
	uint8_t count_enc = (uint8_t)fixed(&r, 1);
	uint8_t table_enc = (uint8_t)fixed(&r, 1);
	encoded(&r, ptr_enc, (uintptr_t)hdr);
	uintptr_t count = encoded(&r, count_enc, (uintptr_t)hdr);
	if (r.bad || table_enc != (PE_DATAREL | PE_SDATA4) || count == 0)
		return NULL;
	const int32_t *table = (const int32_t *)r.p;
	size_t lo = 0, hi = count;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if ((uintptr_t)hdr + table[2 * mid] <= pc)
			lo = mid;
		else
			hi = mid;
	}
	if ((uintptr_t)hdr + table[2 * lo] > pc)
		return NULL;
	return hdr + table[2 * lo + 1];
}

struct cie {
	uint64_t code_align;
	int64_t data_align;
	uint64_t ra_reg;
	uint8_t fde_enc;
	bool signal_frame;
	bool has_augmentation_data;   /* 'z': FDEs carry a length-prefixed blob */
	struct reader insns;
};

static bool parse_cie(const uint8_t *p, struct cie *c)
{
	uint32_t len;
	memcpy(&len, p, 4);
	if (len == 0 || len == 0xffffffffu)
		return false;
	struct reader r = { .p = p + 4, .end = p + 4 + len };
	if (fixed(&r, 4) != 0)
		return false;                 /* not a CIE */
	uint8_t version = (uint8_t)fixed(&r, 1);
	const char *aug = (const char *)r.p;
	size_t aug_len = strnlen(aug, (size_t)(r.end - r.p));
	r.p += aug_len + 1;
	c->code_align = uleb(&r);
	c->data_align = sleb(&r);
	c->ra_reg = version == 1 ? fixed(&r, 1) : uleb(&r);
	c->fde_enc = PE_ABSPTR;
	c->signal_frame = false;
	c->has_augmentation_data = aug[0] == 'z';
	if (aug[0] == 'z') {
		uint64_t aug_data = uleb(&r);
		const uint8_t *after = r.p + aug_data;
		for (size_t i = 1; i < aug_len && !r.bad; i++) {
			switch (aug[i]) {
			case 'R': c->fde_enc = (uint8_t)fixed(&r, 1); break;
			case 'L': fixed(&r, 1); break;
			case 'P': {
				uint8_t enc = (uint8_t)fixed(&r, 1);
				encoded(&r, enc & 0x7f, 0);
				break;
			}
			case 'S': c->signal_frame = true; break;
			default: r.p = after; i = aug_len; break;
			}
		}
		r.p = after;
	} else if (aug[0]) {
		return false;
	}
	c->insns = r;
	return !r.bad && r.p <= r.end;
}

/* Register rules while the CFA program runs. */
struct row {
	uint8_t cfa_reg;
	int64_t cfa_off;
	uint8_t rbp_how, ra_how;      /* 0 same value, 1 at CFA+off, 2 other, 3 undefined */
	int64_t rbp_off, ra_off;
	bool cfa_other;               /* CFA from an expression or odd register */
};

enum { SAME = 0, AT_CFA = 1, OTHER = 2, UNDEF = 3 };

static void set_reg(struct row *row, uint64_t reg, uint8_t how, int64_t off)
{
	if (reg == DW_RBP) {
		row->rbp_how = how;
		row->rbp_off = off;
	} else if (reg == DW_RA) {
		row->ra_how = how;
		row->ra_off = off;
	}
}

/* Runs CFA instructions until the location passes pc. Returns false on
 * anything it does not understand. */
static bool run_program(struct reader *r, const struct cie *c, struct row *row,
			const struct row *initial, uintptr_t loc, uintptr_t pc)
{
	struct row stack[8];
	unsigned depth = 0;

	while (r->p < r->end && !r->bad) {
		uint8_t op = *r->p++;
		uint8_t low = op & 0x3f;
		uint64_t reg;
		switch (op >> 6) {
		case 1:
			loc += low * c->code_align;
			if (loc > pc)
				return true;
			continue;
		case 2:
			set_reg(row, low, AT_CFA, (int64_t)uleb(r) * c->data_align);
			continue;
		case 3:
			set_reg(row, low, low == DW_RBP ? initial->rbp_how : initial->ra_how,
				low == DW_RBP ? initial->rbp_off : initial->ra_off);
			continue;
		}
		switch (op) {
		case 0x00: break;                                     /* nop */
		case 0x01: loc = encoded(r, c->fde_enc, 0); if (loc > pc) return true; break;
		case 0x02: loc += fixed(r, 1) * c->code_align; if (loc > pc) return true; break;
		case 0x03: loc += fixed(r, 2) * c->code_align; if (loc > pc) return true; break;
		case 0x04: loc += fixed(r, 4) * c->code_align; if (loc > pc) return true; break;
		case 0x05: reg = uleb(r); set_reg(row, reg, AT_CFA, (int64_t)uleb(r) * c->data_align); break;
		case 0x06: reg = uleb(r);
			set_reg(row, reg, reg == DW_RBP ? initial->rbp_how : initial->ra_how,
				reg == DW_RBP ? initial->rbp_off : initial->ra_off);
			break;
		case 0x07: set_reg(row, uleb(r), UNDEF, 0); break;
		case 0x08: set_reg(row, uleb(r), SAME, 0); break;
		case 0x09: reg = uleb(r); uleb(r); set_reg(row, reg, OTHER, 0); break;
		case 0x0a:
			if (depth == 8)
				return false;
			stack[depth++] = *row;
			break;
		case 0x0b:
			if (depth == 0)
				return false;
			*row = stack[--depth];
			break;
		case 0x0c: row->cfa_reg = (uint8_t)uleb(r); row->cfa_off = (int64_t)uleb(r); row->cfa_other = false; break;
		case 0x0d: row->cfa_reg = (uint8_t)uleb(r); row->cfa_other = false; break;
		case 0x0e: row->cfa_off = (int64_t)uleb(r); break;
		case 0x0f: row->cfa_other = true; r->p += uleb(r); break;  /* def_cfa_expression */
		case 0x10: reg = uleb(r); r->p += uleb(r); set_reg(row, reg, OTHER, 0); break;
		case 0x11: reg = uleb(r); set_reg(row, reg, AT_CFA, sleb(r) * c->data_align); break;
		case 0x12: row->cfa_reg = (uint8_t)uleb(r); row->cfa_off = sleb(r) * c->data_align; row->cfa_other = false; break;
		case 0x13: row->cfa_off = sleb(r) * c->data_align; break;
		case 0x14: reg = uleb(r); uleb(r); set_reg(row, reg, OTHER, 0); break;
		case 0x15: reg = uleb(r); sleb(r); set_reg(row, reg, OTHER, 0); break;
		case 0x16: reg = uleb(r); r->p += uleb(r); set_reg(row, reg, OTHER, 0); break;
		case 0x2e: uleb(r); break;                            /* GNU_args_size */
		case 0x2f: reg = uleb(r); set_reg(row, reg, AT_CFA, -(int64_t)uleb(r) * c->data_align); break;
		default: return false;
		}
	}
	return !r->bad;
}

bool lt_cfi_rule(uintptr_t pc, struct lt_unwind_rule *out)
{
	struct dl_find_object dfo;
	struct cie cie;
	if (!_dl_find_object || _dl_find_object((void *)pc, &dfo) != 0 || !dfo.dlfo_eh_frame)
		return false;
	const uint8_t *fde = find_fde(dfo.dlfo_eh_frame, pc);
	if (!fde)
		return false;
	uint32_t len, cie_off;
	memcpy(&len, fde, 4);
	if (len == 0 || len == 0xffffffffu)
		return false;
	memcpy(&cie_off, fde + 4, 4);
	if (cie_off == 0 || !parse_cie(fde + 4 - cie_off, &cie) || cie.signal_frame ||
	    cie.ra_reg != DW_RA)
		return false;
	struct reader r = { .p = fde + 8, .end = fde + 4 + len };
	uintptr_t start = encoded(&r, cie.fde_enc, 0);
	uintptr_t range = encoded(&r, cie.fde_enc & 0x0f, 0);
	if (r.bad || pc < start || pc >= start + range)
		return false;
	if (cie.has_augmentation_data)
		r.p += uleb(&r);     /* the FDE's LSDA pointer: not ours to read */
	if (r.bad || r.p > r.end)
		return false;

	struct row row = { .ra_how = SAME };
	struct reader ci = cie.insns;
	if (!run_program(&ci, &cie, &row, &row, start, ~(uintptr_t)0))
		return false;
	struct row initial = row;
	if (!run_program(&r, &cie, &row, &initial, start, pc))
		return false;

	if (row.cfa_other || (row.cfa_reg != DW_RSP && row.cfa_reg != DW_RBP))
		return false;
	if (row.ra_how == UNDEF) {
		out->kind = LT_RULE_END;      /* outermost frame (_start, clone) */
		return true;
	}
	if (row.ra_how != AT_CFA || (row.rbp_how != SAME && row.rbp_how != AT_CFA))
		return false;
	/* What the fast walk assumes, and what compilers emit on x86-64: the
	 * return address just below the CFA, a saved RBP further down. */
	if (row.ra_off != -8 || (row.rbp_how == AT_CFA && row.rbp_off > -16))
		return false;
	if (row.cfa_off < -32768 || row.cfa_off > 32767 || row.ra_off < -32768 ||
	    row.ra_off > 32767 || row.rbp_off < -32768 || row.rbp_off > 32767)
		return false;
	out->kind = LT_RULE_FRAME;
	out->cfa_from_rbp = row.cfa_reg == DW_RBP;
	out->cfa_off = (int16_t)row.cfa_off;
	out->ra_off = (int16_t)row.ra_off;
	out->rbp_saved = row.rbp_how == AT_CFA;
	out->rbp_off = (int16_t)row.rbp_off;
	return true;
}
