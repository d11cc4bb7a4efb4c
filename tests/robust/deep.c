/* Stacks the unwinder must survive: recursion 20,000 frames deep that
 * allocates at every level, and calls to malloc from code with no unwind
 * information whose frame pointer holds garbage (noinfo.c). */
#include "robust.h"

#include <stdint.h>

#include "noinfo.h"

static void *kept[20001];

__attribute__((noinline)) static unsigned long recurse(int depth)
{
	kept[depth] = malloc(16);
	unsigned long below = depth ? recurse(depth - 1) : 0;
	__asm__ volatile("" ::: "memory");   /* no tail call */
	return below + 1;
}

static int do_recursion(int argc, char **argv)
{
	printf("frames: %lu\n", recurse(20000));
	for (int i = 1; i <= 20000; i++)
		free(kept[i]);
	/* The block of the deepest frame is lost. */
	kept[0] = NULL;
	printf("recursion done\n");
	return 0;
}

static int do_garbage_frames(int argc, char **argv)
{
	unsigned long ok = 0;
	for (int i = 0; i < 1000; i++) {
		void *p = noinfo_malloc_garbage_fp(24);
		void *q = noinfo_malloc_looping_fp(40);
		ok += p && q;
		free(p);
		free(q);
	}
	printf("%lu allocations through garbage frames\n", ok);
	noinfo_malloc_garbage_fp(93);   /* lost */
	return 0;
}

static const struct scenario scenarios[] = {
	{ "recursion", do_recursion },
	{ "garbage-frames", do_garbage_frames },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return run_scenario(scenarios, argc, argv);
}
