/* The symbolizer's front: picks the module an address belonged to when its
 * stack was captured, and caches results twice, by (address, epoch) for the
 * common case and by (module file, address) so that a module seen in
 * several epochs is resolved once.
 * Context: offline side only. Must stay fast: snapshots carry 10^4 stacks
 * and more, sharing most of their addresses. */
#include <stdlib.h>
#include <string.h>

#include "symbolizer-private.h"

struct lt_symbolizer {
	const struct lt_snapshot *snap;
	FILE *diag;
	struct lt_image *images;      /* one per distinct module file mapping */
	size_t nimages;
	size_t *image_of;             /* snapshot module index -> image index */
	struct lt_arena arena;
	struct lt_addrmap by_frame;   /* (addr, epoch, return?) -> lt_resolved */
	struct lt_addrmap by_image;   /* (lookup address, image) -> lt_resolved */
	struct lt_frame nothing;      /* no module at all: "???" */
	struct lt_resolved unknown;
};

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	return h;
}

static bool same_file(const struct lt_module *x, const struct lt_module *y)
{
	return x->bias == y->bias && x->build_id_len == y->build_id_len &&
	       (!x->build_id_len || memcmp(x->build_id, y->build_id, x->build_id_len) == 0) &&
	       strcmp(x->path, y->path) == 0;
}

/* Modules of the same file at the same bias (a library dlopen'ed again)
 * share one image, hence one libdwfl session and one cache. */
static int build_images(struct lt_symbolizer *s)
{
	const struct lt_snapshot *snap = s->snap;
	struct lt_addrmap seen = { 0 };
	int rc = 0;
	s->images = calloc(snap->nmodules ? snap->nmodules : 1, sizeof(*s->images));
	s->image_of = calloc(snap->nmodules ? snap->nmodules : 1, sizeof(*s->image_of));
	if (!s->images || !s->image_of)
		return -1;
	for (size_t i = 0; i < snap->nmodules; i++) {
		const struct lt_module *m = &snap->modules[i];
		uint64_t h = fnv1a(0xcbf29ce484222325ull, m->path, strlen(m->path));
		h = fnv1a(h, m->build_id, m->build_id_len);
		size_t *prev = lt_addrmap_get(&seen, m->bias, h);
		if (prev && same_file(s->images[*prev - 1].mod, m)) {
			s->image_of[i] = *prev - 1;
			continue;
		}
		s->image_of[i] = s->nimages;
		s->images[s->nimages].snap = snap;
		s->images[s->nimages++].mod = m;
		/* The value must be non-NULL: store index + 1 in the arena. */
		size_t *slot = lt_arena_alloc(&s->arena, sizeof(*slot));
		if (!slot || (!prev && lt_addrmap_put(&seen, m->bias, h, slot))) {
			rc = -1;
			break;
		}
		*slot = s->nimages;
	}
	lt_addrmap_free(&seen);
	return rc;
}

struct lt_symbolizer *lt_symbolizer_new(const struct lt_snapshot *snap, FILE *diag)
{
	struct lt_symbolizer *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->snap = snap;
	s->diag = diag;
	s->unknown.count = 1;
	s->unknown.frames = &s->nothing;
	if (build_images(s)) {
		lt_symbolizer_free(s);
		return NULL;
	}
	return s;
}

void lt_symbolizer_free(struct lt_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nimages; i++)
		lt_image_close(&s->images[i]);
	free(s->images);
	free(s->image_of);
	lt_addrmap_free(&s->by_frame);
	lt_addrmap_free(&s->by_image);
	lt_arena_free(&s->arena);
	free(s);
}

/* The module that held addr when a stack of this epoch was captured: a
 * dlclose'd library still owns the addresses of its own epochs. */
static const struct lt_module *module_at(const struct lt_snapshot *snap,
					 uint64_t addr, uint32_t epoch, size_t *index)
{
	for (size_t i = 0; i < snap->nmodules; i++) {
		const struct lt_module *m = &snap->modules[i];
		if (addr >= m->lo && addr < m->hi && epoch >= m->load_epoch &&
		    epoch < m->unload_epoch) {
			*index = i;
			return m;
		}
	}
	return NULL;
}

static const struct lt_resolved *resolve_in_image(struct lt_symbolizer *s,
						  size_t image, uint64_t lookup)
{
	struct lt_resolved *r = lt_addrmap_get(&s->by_image, lookup, image);
	if (r)
		return r;
	struct lt_image *img = &s->images[image];
	lt_image_open(img, s->diag);
	r = lt_arena_alloc(&s->arena, sizeof(*r));
	if (!r)
		return &s->unknown;
	lt_resolve(&s->arena, img, lookup, r);
	lt_addrmap_put(&s->by_image, lookup, image, r);
	return r;
}

size_t lt_symbolize(struct lt_symbolizer *s, uint64_t addr, uint32_t epoch,
		    bool return_address, const struct lt_frame **frames)
{
	uint64_t key = (uint64_t)epoch << 1 | return_address;
	const struct lt_resolved *r = lt_addrmap_get(&s->by_frame, addr, key);
	if (!r) {
		size_t index;
		/* A return address points after the call; the call itself,
		 * and its line, is one byte before. */
		uint64_t lookup = return_address && addr ? addr - 1 : addr;
		if (module_at(s->snap, lookup, epoch, &index))
			r = resolve_in_image(s, s->image_of[index], lookup);
		else
			r = &s->unknown;
		lt_addrmap_put(&s->by_frame, addr, key, (void *)r);
	}
	*frames = r->frames;
	return r->count;
}

size_t lt_symbolize_frame(struct lt_symbolizer *s, const struct lt_stack *stack,
			  uint32_t index, const struct lt_frame **frames)
{
	return lt_symbolize(s, stack->frames[index], stack->epoch, index > 0, frames);
}

static size_t source_resolve(void *ctx, const struct lt_stack *stack, uint32_t index,
			     const struct lt_frame **frames)
{
	return lt_symbolize_frame(ctx, stack, index, frames);
}

struct lt_frame_source lt_symbolizer_source(struct lt_symbolizer *s)
{
	return (struct lt_frame_source){ source_resolve, s };
}
