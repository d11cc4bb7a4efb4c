/* Call-frame information: the rule that recovers a caller's frame at a
 * given code address, read from the module's .eh_frame_hdr / .eh_frame
 * (DWARF CFA programs), reduced to what the fast unwinder can apply:
 * CFA = RSP or RBP + offset, return address and RBP saved at fixed offsets
 * from the CFA. Anything else (expressions, other registers, signal
 * frames) is reported as "use the full unwinder".
 * Context: HOT-safe (called on a rule-cache miss of backtrace.c): reads
 * mapped ELF data through _dl_find_object, which takes no lock; never the
 * program's allocator: decoded rows go to memory mapped once with mmap. */
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

/* The rule a row gives, if the fast unwinder can apply it. */
static bool row_rule(const struct row *row, struct lt_unwind_rule *out)
{
	if (row->cfa_other || (row->cfa_reg != DW_RSP && row->cfa_reg != DW_RBP))
		return false;
	if (row->ra_how == UNDEF) {
		out->kind = LT_RULE_END;      /* outermost frame (_start, clone) */
		return true;
	}
	if (row->ra_how != AT_CFA || (row->rbp_how != SAME && row->rbp_how != AT_CFA))
		return false;
	/* What the fast walk assumes, and what compilers emit on x86-64: the
	 * return address just below the CFA, a saved RBP further down. */
	if (row->ra_off != -8 || (row->rbp_how == AT_CFA && row->rbp_off > -16))
		return false;
	if (row->cfa_off < -32768 || row->cfa_off > 32767 || row->ra_off < -32768 ||
	    row->ra_off > 32767 || row->rbp_off < -32768 || row->rbp_off > 32767)
		return false;
	out->kind = LT_RULE_FRAME;
	out->cfa_from_rbp = row->cfa_reg == DW_RBP;
	out->cfa_off = (int16_t)row->cfa_off;
	out->ra_off = (int16_t)row->ra_off;
	out->rbp_saved = row->rbp_how == AT_CFA;
	out->rbp_off = (int16_t)row->rbp_off;
	return true;
}

/* ---- an FDE decoded once into rows ----
 *
 * Running an FDE's program from its start for every new return address
 * costs thousands of instructions in a large function. The first time a
 * function is seen, its whole program is run once and every row (code
 * offset -> rule) is kept, in memory of our own that is never freed; any
 * other address in the function is then a binary search. Tables are
 * published with one release store: a reader sees a whole table or none.
 * Rows are valid for the module epoch they were decoded in: after a
 * dlclose, another object may sit at the same address. */

struct fde_row {
	uint32_t off;                 /* from the FDE's start */
	struct lt_unwind_rule rule;   /* kind LT_RULE_NONE: not for the fast walk */
};

struct fde_rows {
	uintptr_t start, range;
	uint32_t epoch;
	/* The program was understood up to this offset: beyond it, no rule. */
	uint32_t valid_end;
	uint32_t n;
	struct fde_row rows[];
};

/* Index: FDE address -> its rows, open addressing, never shrinks. */
#define INDEX_BITS 16
#define INDEX_SIZE (1u << INDEX_BITS)
#define INDEX_PROBES 16
/* Rows of every decoded FDE; beyond it, the program is run as before. */
#define ARENA_SIZE ((size_t)32 << 20)

struct index_slot {
	_Atomic uintptr_t fde;
	_Atomic(struct fde_rows *) rows;
};

static _Atomic(void *) fde_index;   /* struct index_slot[INDEX_SIZE] */
static _Atomic(void *) arena;
static _Atomic size_t arena_used;

/* Maps a region once; a thread that loses the race gives its copy back. */
static void *map_once(_Atomic(void *) *where, size_t size)
{
	void *p = atomic_load_explicit(where, memory_order_acquire);
	if (LT_LIKELY(p))
		return p;
	void *fresh = lt_os_map(size);
	if (!fresh)
		return NULL;
	if (!atomic_compare_exchange_strong_explicit(where, &p, fresh, memory_order_acq_rel,
						     memory_order_acquire)) {
		lt_os_unmap(fresh, size);
		return p;
	}
	return fresh;
}

static void *arena_take(size_t size)
{
	uint8_t *base = map_once(&arena, ARENA_SIZE);
	size = (size + 15) & ~(size_t)15;
	if (!base || atomic_load_explicit(&arena_used, memory_order_relaxed) + size > ARENA_SIZE)
		return NULL;
	size_t at = atomic_fetch_add_explicit(&arena_used, size, memory_order_relaxed);
	if (at + size > ARENA_SIZE)
		return NULL;
	return base + at;
}

/* The slot of fde: found, or claimed when empty; NULL when the probes
 * run out. */
static struct index_slot *index_slot(uintptr_t fde)
{
	struct index_slot *index = map_once(&fde_index, sizeof(struct index_slot) * INDEX_SIZE);
	if (!index)
		return NULL;
	uint32_t h = (uint32_t)((fde * 0x9e3779b97f4a7c15ull) >> (64 - INDEX_BITS));
	for (uint32_t i = 0; i < INDEX_PROBES; i++) {
		struct index_slot *s = &index[(h + i) & (INDEX_SIZE - 1)];
		uintptr_t key = atomic_load_explicit(&s->fde, memory_order_acquire);
		if (key == fde)
			return s;
		if (key == 0 && atomic_compare_exchange_strong_explicit(
					&s->fde, &key, fde, memory_order_acq_rel, memory_order_acquire))
			return s;
		if (key == fde)
			return s;
	}
	return NULL;
}

static bool same_rule(const struct lt_unwind_rule *a, const struct lt_unwind_rule *b)
{
	return a->kind == b->kind && a->cfa_from_rbp == b->cfa_from_rbp &&
	       a->rbp_saved == b->rbp_saved && a->cfa_off == b->cfa_off &&
	       a->ra_off == b->ra_off && a->rbp_off == b->rbp_off;
}

/* Where the rows go while a program runs to its end; NULL when it runs
 * only up to one address. */
struct sink {
	struct fde_row *rows;         /* NULL while counting */
	uint32_t n, cap;
	bool overflow;
	uintptr_t start;
};

/* One row, for the addresses [from, to). */
static void emit(struct sink *s, const struct row *row, uintptr_t from, uintptr_t to)
{
	if (!s->rows) {
		s->n++;
		return;
	}
	struct lt_unwind_rule rule = { 0 };
	if (!row_rule(row, &rule))
		memset(&rule, 0, sizeof(rule));
	if (s->n && same_rule(&s->rows[s->n - 1].rule, &rule))
		return;
	if (s->n == s->cap) {
		s->overflow = true;
		return;
	}
	s->rows[s->n].off = (uint32_t)(from - s->start);
	s->rows[s->n].rule = rule;
	s->n++;
}

/* The location moves to next. Without a sink: true when it passes pc, the
 * row in hand being the answer. With one: the row in hand covers up to
 * next; a location that does not move forward ends the decoding. */
static bool advance(struct sink *s, struct reader *r, const struct row *row, uintptr_t *loc,
		    uintptr_t next, uintptr_t pc)
{
	if (!s) {
		*loc = next;
		return next > pc;
	}
	if (r->bad)
		return false;
	if (next < *loc) {
		r->bad = true;
		return false;
	}
	if (next > *loc)
		emit(s, row, *loc, next);
	*loc = next;
	return false;
}

/* Runs CFA instructions until the location passes pc (or, with a sink, to
 * the end, noting every row). Returns false on anything it does not
 * understand; *end_loc is where it stopped. */
static bool run_program(struct reader *r, const struct cie *c, struct row *row,
			const struct row *initial, uintptr_t loc, uintptr_t pc,
			struct sink *s, uintptr_t *end_loc)
{
	struct row stack[8];
	unsigned depth = 0;
	bool ok = false;

	while (r->p < r->end && !r->bad) {
		uint8_t op = *r->p++;
		uint8_t low = op & 0x3f;
		uint64_t reg;
		switch (op >> 6) {
		case 1:
			if (advance(s, r, row, &loc, loc + low * c->code_align, pc))
				goto passed;
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
		case 0x01:
			if (advance(s, r, row, &loc, encoded(r, c->fde_enc, 0), pc))
				goto passed;
			break;
		case 0x02:
			if (advance(s, r, row, &loc, loc + fixed(r, 1) * c->code_align, pc))
				goto passed;
			break;
		case 0x03:
			if (advance(s, r, row, &loc, loc + fixed(r, 2) * c->code_align, pc))
				goto passed;
			break;
		case 0x04:
			if (advance(s, r, row, &loc, loc + fixed(r, 4) * c->code_align, pc))
				goto passed;
			break;
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
				goto out;
			stack[depth++] = *row;
			break;
		case 0x0b:
			if (depth == 0)
				goto out;
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
		default: goto out;
		}
	}
	ok = !r->bad;
out:
	*end_loc = loc;
	return ok;
passed:
	*end_loc = loc;
	return true;
}

/* What every use of an FDE starts with: its CIE, its address range and
 * its instructions. */
struct fde_info {
	struct cie cie;
	uintptr_t start, range;
	struct reader insns;
	struct row initial;
};

static bool open_fde(const uint8_t *fde, struct fde_info *f)
{
	uint32_t len, cie_off;
	memcpy(&len, fde, 4);
	if (len == 0 || len == 0xffffffffu)
		return false;
	memcpy(&cie_off, fde + 4, 4);
	if (cie_off == 0 || !parse_cie(fde + 4 - cie_off, &f->cie) || f->cie.signal_frame ||
	    f->cie.ra_reg != DW_RA)
		return false;
	struct reader r = { .p = fde + 8, .end = fde + 4 + len };
	f->start = encoded(&r, f->cie.fde_enc, 0);
	f->range = encoded(&r, f->cie.fde_enc & 0x0f, 0);
	if (r.bad)
		return false;
	if (f->cie.has_augmentation_data)
		r.p += uleb(&r);     /* the FDE's LSDA pointer: not ours to read */
	if (r.bad || r.p > r.end)
		return false;
	f->insns = r;

	struct row row = { .ra_how = SAME };
	struct reader ci = f->cie.insns;
	uintptr_t end;
	if (!run_program(&ci, &f->cie, &row, &row, f->start, ~(uintptr_t)0, NULL, &end))
		return false;
	f->initial = row;
	return true;
}

/* The FDE's rows, decoded now into the arena; NULL when it is full or
 * the FDE is not one we read. */
static struct fde_rows *decode(const uint8_t *fde, uint32_t epoch)
{
	struct fde_info f;
	if (!open_fde(fde, &f) || f.range > UINT32_MAX)
		return NULL;
	struct sink count = { .start = f.start };
	struct reader r = f.insns;
	struct row row = f.initial;
	uintptr_t end;
	run_program(&r, &f.cie, &row, &f.initial, f.start, 0, &count, &end);
	count.n++;   /* the last row, after the last advance */

	struct fde_rows *t = arena_take(sizeof(*t) + count.n * sizeof(t->rows[0]));
	if (!t)
		return NULL;
	struct sink s = { .rows = t->rows, .cap = count.n, .start = f.start };
	r = f.insns;
	row = f.initial;
	bool ok = run_program(&r, &f.cie, &row, &f.initial, f.start, 0, &s, &end);
	if (ok && end < f.start + f.range)
		emit(&s, &row, end, f.start + f.range);
	t->start = f.start;
	t->range = f.range;
	t->epoch = epoch;
	t->n = s.n;
	/* Beyond where the program stopped making sense, or a row could not
	 * be noted, the fast walk has no rule. */
	uintptr_t understood = ok ? f.range : end - f.start;
	t->valid_end = s.overflow ? 0 : (uint32_t)(understood < f.range ? understood : f.range);
	return t;
}

static bool rule_from_rows(const struct fde_rows *t, uintptr_t pc, struct lt_unwind_rule *out)
{
	if (pc < t->start || pc - t->start >= t->valid_end)
		return false;
	uint32_t off = (uint32_t)(pc - t->start);
	uint32_t lo = 0, hi = t->n;
	if (hi == 0 || t->rows[0].off > off)
		return false;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (t->rows[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	if (t->rows[lo].rule.kind == LT_RULE_NONE)
		return false;
	*out = t->rows[lo].rule;
	return true;
}

static const uint8_t *fde_for(uintptr_t pc)
{
	struct dl_find_object dfo;
	if (!_dl_find_object || _dl_find_object((void *)pc, &dfo) != 0 || !dfo.dlfo_eh_frame)
		return NULL;
	return find_fde(dfo.dlfo_eh_frame, pc);
}

bool lt_cfi_rule_uncached(uintptr_t pc, struct lt_unwind_rule *out)
{
	struct fde_info f;
	const uint8_t *fde = fde_for(pc);
	if (!fde || !open_fde(fde, &f) || pc < f.start || pc >= f.start + f.range)
		return false;
	struct row row = f.initial;
	uintptr_t end;
	if (!run_program(&f.insns, &f.cie, &row, &f.initial, f.start, pc, NULL, &end))
		return false;
	return row_rule(&row, out);
}

bool lt_cfi_rule(uintptr_t pc, struct lt_unwind_rule *out)
{
	const uint8_t *fde = fde_for(pc);
	if (!fde)
		return false;
	uint32_t epoch = atomic_load_explicit(&lt_module_epoch, memory_order_acquire);
	struct index_slot *slot = index_slot((uintptr_t)fde);
	if (!slot)
		return lt_cfi_rule_uncached(pc, out);
	struct fde_rows *t = atomic_load_explicit(&slot->rows, memory_order_acquire);
	if (!t || t->epoch != epoch) {
		t = decode(fde, epoch);
		if (!t)
			return lt_cfi_rule_uncached(pc, out);
		atomic_store_explicit(&slot->rows, t, memory_order_release);
	}
	return rule_from_rows(t, pc, out);
}
