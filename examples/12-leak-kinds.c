/* leak-kinds: one block of each of valgrind's four kinds, so the kinds can
 * be compared record by record once leaktrace classifies.
 *
 * Expected loss records (the pointers that decide the kind are globals):
 *   still reachable:  64 bytes, malloc <- make_reachable <- main
 *                     (g_start points to its start)
 *   possibly lost:    96 bytes, malloc <- make_interior <- main
 *                     (g_interior points 16 bytes into it)
 *   definitely lost:  a 16-byte pair struct, malloc <- make_pair <- main,
 *                     "80 (16 direct, 64 indirect)": it heads two lost
 *   indirectly lost:  32 bytes, malloc <- make_child <- make_pair <- main,
 *                     twice: make_pair calls make_child from two lines,
 *                     so these are two records of 1 block each
 * No stdio. Heap: 5 allocs, 0 frees, 64 + 96 + 16 + 64 = 240 bytes. */
#include <stdlib.h>
#include <string.h>

#include "example.h"

struct pair {
	void *left;
	void *right;
};

void *g_start;
char *g_interior;

EX_FRAME static void *make_reachable(void)
{
	void *p = malloc(64);
	ex_use(p);
	return p;
}

EX_FRAME static char *make_interior(void)
{
	char *p = malloc(96);
	ex_use(p);
	return p ? p + 16 : NULL;
}

EX_FRAME static void *make_child(void)
{
	void *p = malloc(32);
	ex_use(p);
	if (p)
		memset(p, 0, 32);
	return p;
}

EX_FRAME static struct pair *make_pair(void)
{
	struct pair *s = malloc(sizeof(*s));
	ex_use(s);
	if (!s)
		return NULL;
	s->left = make_child();
	s->right = make_child();
	return s;
}

int main(void)
{
	g_start = make_reachable();
	g_interior = make_interior();
	ex_use(make_pair()); /* its address is dropped */
	return g_start && g_interior ? 0 : 1;
}
