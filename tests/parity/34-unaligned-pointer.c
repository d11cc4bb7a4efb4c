/* unaligned-pointer: pointers stored at addresses that are not multiples
 * of 8. Both tools scan aligned 8-byte words only, so such a copy keeps
 * nothing alive.
 *
 *   g_packed.p, at offset 1 of a packed struct: its 40-byte block is
 *     definitely lost (malloc <- make_block <- main, first line)
 *   a copy at offset 4 of g_bytes: its 56-byte block definitely lost
 *     (second line)
 *   a copy at offset 16 of g_bytes (aligned): its 72-byte block still
 *     reachable (third line)
 * Heap: 3 allocs, 0 frees, 168 bytes allocated. */
#include "parity.h"

struct __attribute__((packed)) packed {
	char tag;
	void *p;
};

struct packed g_packed;
_Alignas(8) unsigned char g_bytes[24];

EX_FRAME static void *make_block(size_t n)
{
	void *p = malloc(n);
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

int main(void)
{
	g_packed.p = make_block(40);    /* LEAK: unaligned copy only */
	void *q = make_block(56);       /* LEAK: unaligned copy only */
	memcpy(g_bytes + 4, &q, sizeof(q));
	q = make_block(72);             /* reachable: aligned copy */
	memcpy(g_bytes + 8 + 8, &q, sizeof(q));
	q = NULL;
	ex_use(q);
	pt_scrub_stack();
	return g_packed.p ? 0 : 1;
}
