/* A program written for LeakSanitizer's interface, built without
 * -fsanitize: the __lsan_* functions are declared weak, as code that runs
 * with or without LSan declares them, and come from whichever runtime is
 * preloaded (libleaktrace.so, or liblsan.so.0). It prints what each
 * recoverable check returned; the same output is expected from both.
 *
 *   api-lsan              the checks, then __lsan_do_leak_check with one
 *                         leak of 72 bytes; prints "survived" if it returns
 *   api-lsan unregister   also unregisters a region never registered
 *
 * It defines __lsan_is_turned_off (exported, -rdynamic): with
 * API_LSAN_OFF=1 in the environment every check is off. */
#include <stdio.h>
#include <sys/mman.h>

#include "api_hide.h"

#if defined(__has_include)
#if __has_include(<sanitizer/lsan_interface.h>)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN_HEADER 1
#endif
#endif
#ifndef HAVE_LSAN_HEADER
void __lsan_do_leak_check(void);
int __lsan_do_recoverable_leak_check(void);
void __lsan_ignore_object(const void *p);
void __lsan_disable(void);
void __lsan_enable(void);
void __lsan_register_root_region(const void *p, size_t size);
void __lsan_unregister_root_region(const void *p, size_t size);
#endif
#pragma weak __lsan_do_leak_check
#pragma weak __lsan_do_recoverable_leak_check
#pragma weak __lsan_ignore_object
#pragma weak __lsan_disable
#pragma weak __lsan_enable
#pragma weak __lsan_register_root_region
#pragma weak __lsan_unregister_root_region

int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	const char *off = getenv("API_LSAN_OFF");
	return off && off[0] == '1';
}

static uintptr_t hidden;

API_NOINLINE static int check(void)
{
	api_scrub();
	return __lsan_do_recoverable_leak_check();
}

/* A block pointed to only from a read-only page: neither tool reads such
 * a page unless it is registered as a root region. */
API_NOINLINE static void **page_pointing_to_block(void)
{
	void **page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		exit(2);
	page[0] = api_unhide(api_alloc_hidden(56));
	mprotect(page, 4096, PROT_READ);
	return page;
}

int main(int argc, char **argv)
{
	if (!__lsan_do_recoverable_leak_check) {
		puts("no leak checker");
		return 2;
	}
	printf("start: %d\n", check());

	hidden = api_alloc_hidden(40);
	printf("one block lost: %d\n", check());
	free(api_unhide(hidden));
	printf("lost block freed: %d\n", check());

	hidden = api_alloc_hidden(24);
	__lsan_ignore_object(api_unhide(hidden));
	hidden = 0;
	printf("lost block ignored: %d\n", check());

	__lsan_disable();
	__lsan_disable();
	hidden = api_alloc_hidden(32);
	__lsan_enable();
	hidden = api_alloc_hidden(48);    /* still disabled: nested */
	__lsan_enable();
	hidden = 0;
	printf("lost blocks allocated while disabled: %d\n", check());

	void **page = page_pointing_to_block();
	__lsan_register_root_region(page, 4096);
	printf("block held by a root region: %d\n", check());
	__lsan_unregister_root_region(page, 4096);
	printf("root region unregistered: %d\n", check());
	free(page[0]);
	munmap(page, 4096);
	printf("block freed: %d\n", check());

	if (argc > 1 && !strcmp(argv[1], "unregister")) {
		__lsan_unregister_root_region(&hidden, sizeof(hidden));
		printf("never registered, unregistered: %d\n", check());
	}

	fflush(stdout);
	hidden = api_alloc_hidden(72);
	api_scrub();
	__lsan_do_leak_check();
	__lsan_do_leak_check();
	puts("survived");
	return 0;
}
