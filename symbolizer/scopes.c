/* The chain of functions at an address, innermost inlined call first and
 * the physical function last, found through a per-CU index of function
 * address ranges. dwarf_getscopes() answers the same question by walking
 * the CU from its root on every call, which costs ~100 us per address in
 * a large CU (libc); the index makes it a binary search plus a walk of
 * one function's own children.
 * Context: offline side only. When the index has no answer, the caller
 * falls back to dwarf_getscopes(), so this is an optimisation only. */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include <elfutils/libdw.h>

#include "symbolizer-private.h"

struct fn_range {
	Dwarf_Addr lo, hi;
	Dwarf_Die die;
};

struct lt_cu_index {
	struct fn_range *r;
	size_t n;
};

struct collector {
	struct fn_range *r;
	size_t n, cap;
};

static void add_ranges(struct collector *c, Dwarf_Die *die)
{
	Dwarf_Addr base, start, end;
	ptrdiff_t off = 0;
	while ((off = dwarf_ranges(die, off, &base, &start, &end)) > 0) {
		if (start >= end)
			continue;
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 64;
			struct fn_range *r = realloc(c->r, cap * sizeof(*r));
			if (!r)
				return;
			c->r = r;
			c->cap = cap;
		}
		c->r[c->n++] = (struct fn_range){ start, end, *die };
	}
}

/* Functions with code sit at CU level, in namespaces and classes, or in
 * partial units a CU imports (dwz). Depth-limited against hostile DWARF. */
static void collect(struct collector *c, Dwarf_Die *parent, int depth)
{
	Dwarf_Die child, imported;
	Dwarf_Attribute attr;
	if (depth > 16 || dwarf_child(parent, &child) != 0)
		return;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
			add_ranges(c, &child);
			break;
		case DW_TAG_namespace:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
		case DW_TAG_module:
			collect(c, &child, depth + 1);
			break;
		case DW_TAG_imported_unit:
			if (dwarf_formref_die(dwarf_attr(&child, DW_AT_import, &attr), &imported))
				collect(c, &imported, depth + 1);
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static int cmp_range(const void *pa, const void *pb)
{
	const struct fn_range *a = pa, *b = pb;
	return (a->lo > b->lo) - (a->lo < b->lo);
}

static struct lt_cu_index *build_index(struct lt_arena *a, Dwarf_Die *cu)
{
	struct collector c = { 0 };
	struct lt_cu_index *idx = lt_arena_alloc(a, sizeof(*idx));
	if (!idx)
		return NULL;
	collect(&c, cu, 0);
	/* A unit without functions (or DWARF too damaged to show any) has no
	 * array at all, and qsort must not be given NULL. */
	if (c.n)
		qsort(c.r, c.n, sizeof(*c.r), cmp_range);
	idx->r = c.n ? lt_arena_alloc(a, c.n * sizeof(*c.r)) : NULL;
	idx->n = idx->r ? c.n : 0;
	if (idx->r)
		memcpy(idx->r, c.r, c.n * sizeof(*c.r));
	free(c.r);
	return idx;
}

static Dwarf_Die *find_function(const struct lt_cu_index *idx, Dwarf_Addr pc)
{
	size_t lo = 0, hi = idx->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (idx->r[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Ranges of distinct functions do not overlap; look back a little in
	 * case a function's range is split around another's. */
	for (size_t k = lo, tries = 0; k-- > 0 && tries < 4; tries++)
		if (pc >= idx->r[k].lo && pc < idx->r[k].hi)
			return &idx->r[k].die;
	return NULL;
}

static bool has_pc_attr(Dwarf_Die *die)
{
	return dwarf_hasattr(die, DW_AT_low_pc) || dwarf_hasattr(die, DW_AT_ranges);
}

/* The inlined call inside parent that covers pc, looking through lexical
 * blocks; NULL when pc is in parent's own code. */
static bool inlined_child(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *out, int depth)
{
	Dwarf_Die child;
	if (depth > 32 || dwarf_child(parent, &child) != 0)
		return false;
	do {
		int tag = dwarf_tag(&child);
		if (tag == DW_TAG_inlined_subroutine && dwarf_haspc(&child, pc) == 1) {
			*out = child;
			return true;
		}
		if (tag == DW_TAG_lexical_block &&
		    (dwarf_haspc(&child, pc) == 1 || !has_pc_attr(&child)) &&
		    inlined_child(&child, pc, out, depth + 1))
			return true;
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

int lt_scopes(struct lt_arena *a, struct lt_addrmap *cus, Dwarf_Die *cu, Dwarf_Addr pc,
	      Dwarf_Die *chain, int max)
{
	uint64_t key = dwarf_dieoffset(cu);
	struct lt_cu_index *idx = lt_addrmap_get(cus, key, 0);
	Dwarf_Die *fn, inner[64];
	int n = 0;

	if (!idx) {
		idx = build_index(a, cu);
		if (!idx || lt_addrmap_put(cus, key, 0, idx))
			return 0;
	}
	fn = find_function(idx, pc);
	if (!fn)
		return 0;
	Dwarf_Die cur = *fn;
	while (n < (int)(sizeof(inner) / sizeof(inner[0])) && inlined_child(&cur, pc, &inner[n], 0))
		cur = inner[n++];
	if (n + 1 > max)
		return 0;
	/* inner[] runs outermost first: reverse it into chain. */
	for (int i = 0; i < n; i++)
		chain[i] = inner[n - 1 - i];
	chain[n] = *fn;
	return n + 1;
}
