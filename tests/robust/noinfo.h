/* Functions built without unwind information (noinfo.c). */
#ifndef NOINFO_H
#define NOINFO_H
#include <stddef.h>
/* malloc(n) called with RBP pointing at an unmapped address. */
void *noinfo_malloc_garbage_fp(size_t n);
/* malloc(n) called with RBP pointing at a frame that points at itself. */
void *noinfo_malloc_looping_fp(size_t n);
#endif
