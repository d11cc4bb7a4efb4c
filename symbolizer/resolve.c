/* One address of one module to display frames, the way valgrind shows
 * them: each level of inlining is a frame of its own (innermost first, the
 * inlined function's DWARF name, the line inside it), then the physical
 * function under its ELF symbol name, demangled, at the line of the call
 * into the outermost inlined function.
 * Context: offline side only. Never fails: missing pieces stay NULL. */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include <elfutils/libdw.h>

#include "symbolizer-private.h"

struct place {
	const char *path;         /* as the line table or DW_AT_call_file says */
	const char *comp_dir;     /* to make a relative path whole */
	unsigned line;
};

/* Splits a source path into valgrind's <dir> and <file>. */
static void set_source(struct lt_arena *a, struct lt_frame *f, const struct place *pl)
{
	const char *path = pl->path, *slash;
	char *whole = NULL;
	if (!path || !pl->line)
		return;
	if (path[0] != '/' && pl->comp_dir && pl->comp_dir[0]) {
		size_t dl = strlen(pl->comp_dir), pl_len = strlen(path);
		whole = lt_arena_alloc(a, dl + pl_len + 2);
		if (!whole)
			return;
		memcpy(whole, pl->comp_dir, dl);
		whole[dl] = '/';
		memcpy(whole + dl + 1, path, pl_len + 1);
		path = whole;
	}
	slash = strrchr(path, '/');
	f->file = slash ? lt_arena_strdup(a, slash + 1) : lt_arena_strdup(a, path);
	f->dir = slash ? lt_arena_strndup(a, path, slash > path ? (size_t)(slash - path) : 1) : NULL;
	f->line = pl->line;
}

static const char *die_string(Dwarf_Die *die, int name)
{
	Dwarf_Attribute attr;
	/* _integrate follows DW_AT_abstract_origin and DW_AT_specification,
	 * where inlined and out-of-line instances keep their names. */
	return dwarf_formstring(dwarf_attr_integrate(die, name, &attr));
}

static const char *cu_comp_dir(Dwarf_Die *cu)
{
	Dwarf_Attribute attr;
	return dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
}

/* Where an inlined call was made, from the inlined instance's DIE. */
static void call_site(Dwarf_Die *inl, Dwarf_Die *cu, struct place *pl)
{
	Dwarf_Attribute attr;
	Dwarf_Word file = 0, line = 0;
	Dwarf_Files *files;
	size_t nfiles;
	pl->path = NULL;
	pl->line = 0;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &file) != 0 ||
	    dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &line) != 0)
		return;
	if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || file >= nfiles)
		return;
	pl->path = dwarf_filesrc(files, file, NULL, NULL);
	pl->comp_dir = cu_comp_dir(cu);
	pl->line = line <= 0xffffffffu ? (unsigned)line : 0;
}

/* The name of the physical function: valgrind's is the ELF symbol's; the
 * DWARF one is the fallback (linkage name first, it says more in C++). */
static void set_physical_name(struct lt_arena *a, struct lt_frame *f,
			      const char *sym, Dwarf_Die *subprogram)
{
	const char *raw = sym;
	if (!raw && subprogram) {
		raw = die_string(subprogram, DW_AT_linkage_name);
		if (!raw)
			raw = die_string(subprogram, DW_AT_MIPS_linkage_name);
		if (!raw)
			raw = die_string(subprogram, DW_AT_name);
	}
	f->fn = lt_demangle(a, raw);
	f->raw_fn = raw ? lt_arena_strdup(a, raw) : NULL;
	f->kind = lt_fn_kind_of(raw);
}

/* The slow way: dwarf_getscopes() stops at the innermost inlined
 * instance and continues with its abstract origin's scopes, so restart
 * from that instance with dwarf_getscopes_die() to get the concrete chain
 * of inlined calls up to the physical function (as eu-addr2line -i). */
static int concrete_scopes(Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Die **scopes)
{
	int n = dwarf_getscopes(cu, pc, scopes);
	if (n <= 0) {
		free(*scopes);
		*scopes = NULL;
		return 0;
	}
	Dwarf_Die inner = (*scopes)[0];
	free(*scopes);
	*scopes = NULL;
	n = dwarf_getscopes_die(&inner, scopes);
	if (n <= 0) {
		free(*scopes);
		*scopes = NULL;
		return 0;
	}
	return n;
}

static size_t count_inlined(Dwarf_Die *scopes, int n)
{
	size_t k = 0;
	for (int i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_subprogram)
			break;
		if (tag == DW_TAG_inlined_subroutine)
			k++;
	}
	return k;
}

static void fill(struct lt_arena *a, const char *obj, const char *sym,
		 Dwarf_Die *cu, Dwarf_Die *scopes, int nscopes,
		 struct place here, struct lt_resolved *out)
{
	size_t k = 0;
	Dwarf_Die *subprogram = NULL;
	for (int i = 0; i < nscopes; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_subprogram) {
			subprogram = &scopes[i];
			break;
		}
		if (tag != DW_TAG_inlined_subroutine)
			continue;
		struct lt_frame *f = &out->frames[k++];
		f->obj = obj;
		f->inlined = true;
		f->fn = lt_arena_strdup(a, die_string(&scopes[i], DW_AT_name));
		f->raw_fn = f->fn;
		set_source(a, f, &here);
		call_site(&scopes[i], cu, &here);
	}
	struct lt_frame *f = &out->frames[k];
	f->obj = obj;
	set_physical_name(a, f, sym, subprogram);
	set_source(a, f, &here);
}

/* What libdw knows about one address. */
struct lookup {
	const char *sym;          /* ELF symbol, raw */
	struct place here;        /* line of the address itself */
	Dwarf_Die *cu;
	Dwarf_Die chain[64];      /* functions at the address (fast path) */
	Dwarf_Die *scopes;        /* or libdw's scopes (slow path), malloc'ed */
	int nscopes;
};

static void look_up(struct lt_arena *a, struct lt_image *img, uint64_t addr,
		    struct lookup *lk)
{
	Dwarf_Addr bias = 0;
	int lineno = 0;
	Dwfl_Line *line = dwfl_module_getsrc(img->dwmod, addr);

	lk->sym = lt_symtab_lookup(&img->symtab, addr);
	if (line) {
		lk->here.path = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
		lk->here.comp_dir = dwfl_line_comp_dir(line);
		lk->here.line = lineno > 0 ? (unsigned)lineno : 0;
	}
	lk->cu = dwfl_module_addrdie(img->dwmod, addr, &bias);
	if (!lk->cu)
		return;
	lk->nscopes = lt_scopes(a, &img->cus, lk->cu, addr - bias, lk->chain, 64);
	if (lk->nscopes == 0)
		lk->nscopes = concrete_scopes(lk->cu, addr - bias, &lk->scopes);
}

void lt_resolve(struct lt_arena *a, struct lt_image *img, uint64_t addr,
		struct lt_resolved *out)
{
	static struct lt_frame fallback;  /* used only when out of memory */
	const char *obj = img->mod->path[0] ? img->mod->path : NULL;
	struct lookup lk = { 0 };

	if (img->state == LT_IMAGE_OK)
		look_up(a, img, addr, &lk);
	Dwarf_Die *scopes = lk.scopes ? lk.scopes : lk.chain;
	out->count = 1 + count_inlined(scopes, lk.nscopes);
	out->frames = lt_arena_alloc(a, out->count * sizeof(struct lt_frame));
	if (!out->frames) {
		out->frames = &fallback;
		out->count = 1;
	} else {
		memset(out->frames, 0, out->count * sizeof(struct lt_frame));
		fill(a, obj, lk.sym, lk.cu, scopes, lk.nscopes, lk.here, out);
		for (size_t i = 0; i < out->count; i++)
			out->frames[i].obj_bias = img->mod->bias;
	}
	free(lk.scopes);
}
