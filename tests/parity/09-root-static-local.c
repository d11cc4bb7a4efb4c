/* root-static-local: a cache kept in a function's static local variable.
 *
 * lookup() allocates its 120-byte cache on the first call and keeps it in
 * `static char *cache` (in .bss, but not visible outside the function);
 * later calls reuse it. A second static, `static struct slot *slots`, heads
 * a chain of two 32-byte blocks (slot -> slot).
 *
 * Expected:
 *   120 bytes in 1 blocks still reachable (malloc <- lookup <- main)
 *   64 bytes in 2 blocks still reachable (malloc <- new_slot <- remember
 *     <- main), 2 records: remember is called from two lines of main
 * Heap: 3 allocs, 0 frees, 184 bytes allocated. */
#include "parity.h"

struct slot {
	struct slot *next;
	long key[3];
};

EX_FRAME static char *lookup(int key)
{
	static char *cache;
	if (!cache) {
		cache = malloc(120); /* still reachable (static local) */
		ex_use(cache);
		if (cache)
			memset(cache, 0, 120);
	}
	if (cache)
		cache[key % 120]++;
	return cache;
}

EX_FRAME static struct slot *new_slot(long key)
{
	struct slot *s = malloc(sizeof(*s)); /* still reachable (chain) */
	ex_use(s);
	if (s) {
		s->next = NULL;
		s->key[0] = key;
	}
	return s;
}

EX_FRAME static int remember(long key)
{
	static struct slot *slots;
	struct slot *s = new_slot(key);
	ex_use(s);
	if (!s)
		return 1;
	s->next = slots;
	slots = s;
	return 0;
}

int main(void)
{
	int r = lookup(1) && lookup(2) ? 0 : 1;
	r += remember(7);
	r += remember(8);
	pt_scrub_stack();
	return r;
}
