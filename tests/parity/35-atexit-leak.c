/* atexit-leak: allocations and frees made while the process exits, in an
 * atexit handler and in an ELF destructor. The report must describe the
 * heap after them, as valgrind's does.
 *
 *   g_config: 64 bytes allocated in main, freed by the destructor
 *     (fini_free): not in the report
 *   on_exit_leak (atexit handler): drops a 40-byte block (definitely
 *     lost: malloc <- make_block <- on_exit_leak <- ... exit) and keeps a
 *     16-byte one in g_late (still reachable)
 *   fini_free (destructor, run by ld.so's _dl_fini) also keeps 24 bytes
 *     in g_fini (still reachable: malloc <- make_block <- fini_free)
 *   main drops 8 bytes (definitely lost: malloc <- make_block <- main)
 * Frames below the handlers (exit, __run_exit_handlers, _dl_fini) are
 * libc's and ld.so's; the compared frames are the program's own.
 * Heap: 5 allocs, 1 free. */
#include "parity.h"

void *g_config;
void *g_late;
void *g_fini;

EX_FRAME static void *make_block(size_t n)
{
	void *p = malloc(n);
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static void on_exit_leak(void)
{
	void *dropped = make_block(40); /* LEAK, at exit */
	ex_use(dropped);
	g_late = make_block(16);        /* reachable */
	pt_scrub_stack();
}

__attribute__((destructor)) EX_FRAME static void fini_free(void)
{
	free(g_config);
	g_config = NULL;
	g_fini = make_block(24); /* reachable */
	ex_use(g_fini);
}

int main(void)
{
	g_config = make_block(64); /* freed by the destructor */
	void *dropped = make_block(8); /* LEAK */
	ex_use(dropped);
	if (atexit(on_exit_leak) != 0)
		return 1;
	pt_scrub_stack();
	return g_config ? 0 : 1;
}
