/* Internals of the symbolizer shared by its files.
 * Context: offline side only. */
#ifndef LT_SYMBOLIZER_PRIVATE_H
#define LT_SYMBOLIZER_PRIVATE_H

#include <stdbool.h>

#include <elfutils/libdwfl.h>

#include "symbolizer.h"

/* ---- arena.c: memory that never moves and is freed all at once ---- */

struct lt_arena {
	struct lt_arena_chunk *head;
};

void *lt_arena_alloc(struct lt_arena *a, size_t size);
char *lt_arena_strdup(struct lt_arena *a, const char *s);
char *lt_arena_strndup(struct lt_arena *a, const char *s, size_t n);
void lt_arena_free(struct lt_arena *a);

/* ---- addrmap.c: open-addressing map from a pair of u64 to a pointer ---- */

struct lt_addrmap {
	struct lt_addrmap_slot *slots;
	size_t mask, used;
};

void *lt_addrmap_get(const struct lt_addrmap *m, uint64_t a, uint64_t b);
/* Returns 0, or -1 when out of memory. value must not be NULL. */
int lt_addrmap_put(struct lt_addrmap *m, uint64_t a, uint64_t b, void *value);
void lt_addrmap_free(struct lt_addrmap *m);

/* ---- names.c ---- */

/* The display name of a linkage name: demangled when it is a C++ one.
 * Allocated in the arena. */
const char *lt_demangle(struct lt_arena *a, const char *name);

/* Classifies a raw (not demangled) symbol name as valgrind does. */
enum lt_fn_kind lt_fn_kind_of(const char *raw_name);

/* ---- symtab.c: a module's function symbols, valgrind's way ---- */

struct lt_sym {
	uint64_t lo, hi;          /* runtime addresses, [lo, hi) */
	const char *name;         /* raw (mangled, maybe versioned) */
};

struct lt_symtab {
	struct lt_sym *syms;      /* sorted, disjoint */
	size_t n;
};

int lt_symtab_build(Dwfl_Module *mod, struct lt_symtab *t);
const char *lt_symtab_lookup(const struct lt_symtab *t, uint64_t addr);
void lt_symtab_free(struct lt_symtab *t);

/* ---- debugcache.c ---- */

/* libdwfl's find_debuginfo callback: dwfl_standard_find_debuginfo, then
 * the cache's inflated copy of what it found when there is one to use. */
int lt_debugcache_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
				 Dwarf_Addr base, const char *file_name,
				 const char *debuglink_file, GElf_Word debuglink_crc,
				 char **debuginfo_file_name);

/* ---- image.c: one module file, opened on first use ---- */

enum lt_image_state {
	LT_IMAGE_UNOPENED = 0,
	LT_IMAGE_OK,              /* symbols and DWARF trusted */
	LT_IMAGE_NO_SYMBOLS,      /* absent, unreadable or changed since the run */
};

struct lt_image {
	const struct lt_module *mod;  /* first snapshot module with this file */
	const struct lt_snapshot *snap;
	enum lt_image_state state;
	Dwfl *dwfl;
	Dwfl_Module *dwmod;
	struct lt_symtab symtab;
	struct lt_addrmap cus;        /* CU offset -> index of its functions */
};

/* Opens the image on first use. Says once on diag why its symbols cannot
 * be trusted, when that is the case. */
void lt_image_open(struct lt_image *img, FILE *diag);
void lt_image_close(struct lt_image *img);

/* ---- scopes.c ---- */

/* Fills chain with the functions at pc (a DWARF address of cu): inlined
 * calls innermost first, the physical function last. Returns their number,
 * or 0 when the index has no answer (use dwarf_getscopes then). */
int lt_scopes(struct lt_arena *a, struct lt_addrmap *cus, Dwarf_Die *cu, Dwarf_Addr pc,
	      Dwarf_Die *chain, int max);

/* ---- resolve.c ---- */

struct lt_resolved {
	size_t count;
	struct lt_frame *frames;
};

/* Resolves lookup_addr (already adjusted for return addresses) in img.
 * Fills *out with frames allocated in the arena. Never fails: at worst a
 * single frame with only the module name. */
void lt_resolve(struct lt_arena *a, struct lt_image *img, uint64_t lookup_addr,
		struct lt_resolved *out);

#endif
