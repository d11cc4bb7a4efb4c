/* self-pointer: blocks whose only pointer is stored in themselves.
 *
 *   make_loop: a 32-byte block whose first word holds its own address.
 *     valgrind: a block reached only from itself is definitely lost
 *     (32 bytes in 1 blocks), not indirectly lost.
 *   make_loop_with_child: a 24-byte block pointing to itself (at offset
 *     8) and to a 56-byte child (make_child): the self-pointing block
 *     heads the child: "80 (24 direct, 56 indirect) bytes in 1 blocks"
 *     definitely lost; the child 56 bytes in 1 blocks indirectly lost.
 * Heap: 3 allocs, 0 frees, 112 bytes allocated. */
#include "parity.h"

EX_FRAME static void *make_child(void)
{
	void *c = malloc(56); /* LEAK: indirectly lost */
	ex_use(c);
	if (c)
		memset(c, 0, 56);
	return c;
}

EX_FRAME static int make_loop(void)
{
	void **p = malloc(32); /* LEAK: points at itself */
	ex_use(p);
	if (!p)
		return 1;
	memset(p, 0, 32);
	p[0] = p;
	return 0;
}

EX_FRAME static int make_loop_with_child(void)
{
	void **p = malloc(24); /* LEAK: points at itself and at a child */
	ex_use(p);
	if (!p)
		return 1;
	p[0] = make_child();
	p[1] = p;
	p[2] = NULL;
	return p[0] ? 0 : 1;
}

int main(void)
{
	int r = make_loop() + make_loop_with_child();
	pt_scrub_stack();
	return r;
}
