/* A program that uses leaktrace.h: it runs the same with or without
 * libleaktrace.so. Under leaktrace, its first report on request holds
 * exactly: 100 bytes definitely lost; 200 bytes ignored by
 * leaktrace_ignore() and the 300 bytes only they point to, and 400 bytes
 * allocated between leaktrace_disable() and leaktrace_enable(), all still
 * reachable. The second report, after the lost block was freed, finds no
 * leak; so does the one at exit, everything freed.
 * Prints what each call returned. */
#include <stdio.h>

#include "api_hide.h"
#include "leaktrace.h"

static uintptr_t lost, ignored, disabled;
static int not_a_block;

API_NOINLINE static int make_blocks(void)
{
	lost = api_alloc_hidden(100);
	ignored = api_alloc_hidden(200);
	void **holder = api_unhide(ignored);
	holder[0] = api_unhide(api_alloc_hidden(300));
	int rc = leaktrace_ignore(holder);
	leaktrace_disable();
	disabled = api_alloc_hidden(400);
	leaktrace_enable();
	return rc;
}

API_NOINLINE static int free_lost_and_report(void)
{
	free(api_unhide(lost));
	api_scrub();
	return leaktrace_report_now();
}

API_NOINLINE static void free_the_rest(void)
{
	void **holder = api_unhide(ignored);
	free(holder[0]);
	free(holder);
	free(api_unhide(disabled));
}

int main(void)
{
	int running = leaktrace_running();
	int ignore_rc = make_blocks();
	int ignore_bad = leaktrace_ignore(&not_a_block);
	api_scrub();
	int first = leaktrace_report_now();
	int second = free_lost_and_report();
	free_the_rest();
	printf("running=%d ignore=%d ignore_bad=%d first=%d second=%d\n", running, ignore_rc,
	       ignore_bad, first, second);
	return 0;
}
