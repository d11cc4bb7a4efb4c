/* The ELF symbol table of one module, canonicalised the way valgrind does
 * it, so that the name shown for an address is the one valgrind shows:
 * aliases at the same range resolve to the shortest name (a version
 * suffix "@GLIBC_x" not counted; at equal length the versioned one;
 * then alphabetical), so glibc's strdup/__strdup shows as "strdup", and
 * overlapping ranges are cut where the next symbol starts.
 * Context: offline side only. Names point into libelf's data and live as
 * long as the module's Dwfl. */
#include <stdlib.h>
#include <string.h>

#include "symbolizer-private.h"

static size_t unversioned_len(const char *s)
{
	const char *at = strchr(s, '@');
	return at ? (size_t)(at - s) : strlen(s);
}

static const char *prefer(const char *a, const char *b)
{
	size_t la = unversioned_len(a), lb = unversioned_len(b);
	bool va = strchr(a, '@') != NULL, vb = strchr(b, '@') != NULL;
	if (la != lb)
		return la < lb ? a : b;
	if (va != vb)
		return va ? a : b;
	return strcmp(a, b) <= 0 ? a : b;
}

static int cmp_sym(const void *pa, const void *pb)
{
	const struct lt_sym *a = pa, *b = pb;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	return 0;
}

/* One pass of merging and cutting; returns whether anything changed. */
static bool canonicalise_pass(struct lt_symtab *t)
{
	bool changed = false;
	size_t n = 0;
	qsort(t->syms, t->n, sizeof(*t->syms), cmp_sym);
	for (size_t i = 0; i < t->n; i++) {
		if (n && t->syms[n - 1].lo == t->syms[i].lo && t->syms[n - 1].hi == t->syms[i].hi) {
			t->syms[n - 1].name = prefer(t->syms[n - 1].name, t->syms[i].name);
			changed = true;
			continue;
		}
		t->syms[n++] = t->syms[i];
	}
	t->n = n;
	for (size_t i = 0; i + 1 < t->n; i++) {
		struct lt_sym *a = &t->syms[i], *b = &t->syms[i + 1];
		if (a->hi <= b->lo)
			continue;
		if (a->lo < b->lo)
			a->hi = b->lo;        /* the first ends where the next starts */
		else
			b->lo = a->hi;        /* same start: the longer keeps its tail */
		changed = true;
	}
	return changed;
}

int lt_symtab_build(Dwfl_Module *mod, struct lt_symtab *t)
{
	int n = dwfl_module_getsymtab(mod);
	t->syms = NULL;
	t->n = 0;
	if (n <= 0)
		return 0;
	t->syms = malloc((size_t)n * sizeof(*t->syms));
	if (!t->syms)
		return -1;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, NULL, NULL);
		int type = name ? GELF_ST_TYPE(sym.st_info) : STT_NOTYPE;
		if (!name || !name[0] || shndx == SHN_UNDEF ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		/* A sizeless function still names its first instruction. */
		t->syms[t->n++] = (struct lt_sym){ addr, addr + (sym.st_size ? sym.st_size : 1), name };
	}
	/* Each pass only shrinks ranges or merges entries: this ends. */
	for (int pass = 0; pass < 16 && canonicalise_pass(t); pass++)
		;
	return 0;
}

const char *lt_symtab_lookup(const struct lt_symtab *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->syms[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct lt_sym *s = &t->syms[lo - 1];
	return addr < s->hi ? s->name : NULL;
}

void lt_symtab_free(struct lt_symtab *t)
{
	free(t->syms);
	t->syms = NULL;
	t->n = 0;
}
