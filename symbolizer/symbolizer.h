/* Offline symbolizer: turns the raw addresses of a snapshot's stacks into
 * function, file and line, inlined calls expanded, C++ names demangled.
 * Context: offline side only (libdw/libdwfl, allocates freely). Degrades,
 * never dies: whatever cannot be resolved comes back as an empty field. */
#ifndef LT_SYMBOLIZER_H
#define LT_SYMBOLIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot.h"

/* What the ELF symbol of a physical frame says about its place in the
 * program: valgrind stops stacks at main, and names glibc's start-up
 * functions "(below main)". */
enum lt_fn_kind {
	LT_FN_NORMAL = 0,
	LT_FN_MAIN,
	LT_FN_BELOW_MAIN,
};

/* One display frame. Strings stay valid until lt_symbolizer_free. */
struct lt_frame {
	const char *fn;           /* demangled function name, NULL if unknown */
	const char *obj;          /* path of the module, NULL if no module */
	uint64_t obj_bias;        /* its load bias: address - bias is the
				   * module-relative address (addr2line -e) */
	const char *dir;          /* directory of the source file, or NULL */
	const char *file;         /* source file name without directory, or NULL */
	unsigned line;            /* 0 if unknown */
	bool inlined;             /* an inlined call, shown before its caller */
	enum lt_fn_kind kind;     /* set on the physical (last) frame only */
	/* The name as the binary has it, what valgrind's suppressions match
	 * (fun:) and --gen-suppressions writes: the ELF symbol, not
	 * demangled, for a physical frame; the DWARF name for an inlined
	 * call. NULL if unknown (then fn is the name to use). */
	const char *raw_fn;
};

struct lt_symbolizer;

/* Where inflated copies of compressed separate debug files are kept
 * (debugcache.c), from the symbol_cache option: "" the default directory
 * ($XDG_CACHE_HOME/leaktrace, else $HOME/.cache/leaktrace), "no" none, or
 * a directory. Without this call no cache is used. Applies to every
 * symbolizer of the process. */
void lt_debugcache_configure(const char *setting);

/* Prepares symbolization of the stacks of snap, which must outlive the
 * symbolizer. Modules are opened lazily, on the first frame that needs
 * them. Messages (a module file that changed since the run, ...) go to diag
 * once each; diag may be NULL. Returns NULL only when out of memory. */
struct lt_symbolizer *lt_symbolizer_new(const struct lt_snapshot *snap, FILE *diag);

void lt_symbolizer_free(struct lt_symbolizer *sym);

/* Resolves one address seen by a stack captured at epoch. A return address
 * is looked up at addr - 1 (the call instruction), an entry point as is.
 * Returns the number of display frames (at least 1) and points *frames at
 * them: inlined calls innermost first, the physical function last. */
size_t lt_symbolize(struct lt_symbolizer *sym, uint64_t addr, uint32_t epoch,
		    bool return_address, const struct lt_frame **frames);

/* lt_symbolize for frame index of stack: frames[0] is the allocation entry
 * point, the others return addresses. */
size_t lt_symbolize_frame(struct lt_symbolizer *sym, const struct lt_stack *stack,
			  uint32_t index, const struct lt_frame **frames);

/* The seam the report layer resolves frames through, so that reports can
 * be tested without DWARF. */
struct lt_frame_source {
	size_t (*resolve)(void *ctx, const struct lt_stack *stack, uint32_t index,
			  const struct lt_frame **frames);
	void *ctx;
};

struct lt_frame_source lt_symbolizer_source(struct lt_symbolizer *sym);

#endif
