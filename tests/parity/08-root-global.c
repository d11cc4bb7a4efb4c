/* root-global: blocks kept by the program's global variables, in .data
 * and .bss, directly and through other blocks.
 *
 *   g_data (.data, initialised) -> 88-byte block (make_config):
 *     still reachable
 *   g_table (.bss) -> 64-byte table of 8 pointers (make_table):
 *     still reachable; 8 entries of 16 bytes each (make_entry), then
 *     entries 1, 3, 5, 7 are cleared from the table without being freed:
 *     make_entry's stack holds 64 bytes in 4 blocks still reachable and
 *     64 bytes in 4 blocks definitely lost: one record per kind.
 * Heap: 10 allocs, 0 frees, 88 + 64 + 128 = 280 bytes allocated. */
#include "parity.h"

static char g_anchor;
void *g_data = &g_anchor; /* .data: initialised to a non-null value */
void **g_table;           /* .bss */

EX_FRAME static void *make_config(void)
{
	void *p = malloc(88); /* still reachable (g_data) */
	ex_use(p);
	if (p)
		memset(p, 0, 88);
	return p;
}

EX_FRAME static void *make_entry(int i)
{
	char *e = malloc(16); /* 4 reachable, 4 lost */
	ex_use(e);
	if (e)
		memset(e, 'a' + i, 16);
	return e;
}

EX_FRAME static void **make_table(void)
{
	void **t = malloc(8 * sizeof(void *)); /* still reachable (g_table) */
	ex_use(t);
	if (t)
		for (int i = 0; i < 8; i++)
			t[i] = make_entry(i);
	return t;
}

int main(void)
{
	g_data = make_config();
	g_table = make_table();
	ex_use(g_table);
	if (!g_table)
		return 1;
	for (int i = 1; i < 8; i += 2)
		g_table[i] = NULL; /* LEAK: 4 entries */
	pt_scrub_stack();
	return g_data ? 0 : 1;
}
