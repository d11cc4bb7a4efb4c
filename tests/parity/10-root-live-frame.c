/* root-live-frame: pointers kept only in stack frames that are still live
 * when exit() is called from deeper down.
 *
 * main keeps a 200-byte block in a local (make_state), calls run(), which
 * keeps a 136-byte block in its own local and calls finish(), which calls
 * exit(0): main's and run's frames are live at exit, so both blocks are
 * still reachable. Before that, main drops a 24-byte block (lose_one) and
 * scrubs the dead stack below its frame.
 *
 * Expected:
 *   200 bytes in 1 blocks still reachable (malloc <- make_state <- main)
 *   136 bytes in 1 blocks still reachable (malloc <- make_state <- run
 *     <- main)
 *   24 bytes in 1 blocks definitely lost (malloc <- lose_one <- main)
 * Heap: 3 allocs, 0 frees, 360 bytes allocated. main never returns. */
#include "parity.h"

EX_FRAME static void *make_state(size_t n)
{
	void *p = malloc(n); /* still reachable: a live frame holds it */
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static int lose_one(void)
{
	char *p = malloc(24); /* LEAK */
	ex_use(p);
	return p ? 0 : 1;
}

EX_FRAME static void finish(int code)
{
	exit(code);
}

EX_FRAME static void run(void)
{
	void *volatile kept_by_run = make_state(136);
	finish(kept_by_run ? 0 : 1);
	ex_use(kept_by_run); /* no tail call: run's frame stays live */
}

int main(void)
{
	void *volatile kept_by_main = make_state(200);
	int r = lose_one();
	pt_scrub_stack();
	if (r || !kept_by_main)
		return 1;
	run();
	return 2; /* not reached */
}
