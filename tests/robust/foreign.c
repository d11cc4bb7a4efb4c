/* Pointers the tracer never saw: blocks allocated before it started (in the
 * program's preinit functions, which run before any library constructor)
 * and blocks from glibc's allocator reached around the interposed names
 * (__libc_malloc and friends). Freeing, reallocating and measuring them
 * must work as untraced. */
#include "robust.h"

#include <malloc.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_memalign(size_t, size_t);

static char *early_kept, *early_freed, *early_grown;

static void allocate_early(int argc, char **argv, char **envp)
{
	early_kept = malloc(48);
	early_freed = malloc(64);
	early_grown = malloc(16);
	strcpy(early_grown, "early");
	if (argc > 1 && strcmp(argv[1], "early") == 0)
		leak(91);
}

__attribute__((section(".preinit_array"), used)) static void (*preinit)(int, char **, char **) =
	allocate_early;

static int do_early(int argc, char **argv)
{
	free(early_freed);
	early_grown = realloc(early_grown, 5000);
	printf("preinit block grown: %s, usable >= 5000: %s\n", early_grown,
	       malloc_usable_size(early_grown) >= 5000 ? "yes" : "no");
	free(early_grown);
	printf("preinit block kept: usable %zu\n", malloc_usable_size(early_kept));
	return 0;
}

static int do_other_allocator(int argc, char **argv)
{
	char *a = __libc_malloc(100);
	char *b = __libc_calloc(10, 10);
	char *c = __libc_memalign(256, 300);
	strcpy(a, "from __libc_malloc");
	printf("usable: %zu %zu %zu\n", malloc_usable_size(a), malloc_usable_size(b),
	       malloc_usable_size(c));
	a = realloc(a, 10000);
	printf("realloc kept: %s\n", a);
	free(a);
	free(b);
	free(c);
	char *d = __libc_malloc(30);
	d = realloc(d, 0);
	printf("realloc(p, 0) of an unseen block: %s\n", d ? "ptr" : "NULL");
	leak(92);
	return 0;
}

static const struct scenario scenarios[] = {
	{ "early", do_early },
	{ "other-allocator", do_other_allocator },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return run_scenario(scenarios, argc, argv);
}
