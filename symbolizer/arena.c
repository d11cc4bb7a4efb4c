/* Bump allocator for symbolizer results: frames and names live until the
 * symbolizer is freed, and pointers handed out must never move.
 * Context: offline side only. */
#include <stdlib.h>
#include <string.h>

#include "symbolizer-private.h"

#define CHUNK_SIZE (256 * 1024)

struct lt_arena_chunk {
	struct lt_arena_chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

static struct lt_arena_chunk *new_chunk(size_t cap)
{
	struct lt_arena_chunk *c = malloc(sizeof(*c) + cap);
	if (c) {
		c->next = NULL;
		c->used = 0;
		c->cap = cap;
	}
	return c;
}

void *lt_arena_alloc(struct lt_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	struct lt_arena_chunk *c = a->head;
	if (!c || c->cap - c->used < size) {
		/* A request larger than a chunk gets a chunk of its own. */
		c = new_chunk(size > CHUNK_SIZE ? size : CHUNK_SIZE);
		if (!c)
			return NULL;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += size;
	return p;
}

char *lt_arena_strndup(struct lt_arena *a, const char *s, size_t n)
{
	char *d = lt_arena_alloc(a, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

char *lt_arena_strdup(struct lt_arena *a, const char *s)
{
	return s ? lt_arena_strndup(a, s, strlen(s)) : NULL;
}

void lt_arena_free(struct lt_arena *a)
{
	struct lt_arena_chunk *c = a->head;
	while (c) {
		struct lt_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}
