/* The in-program API: leaktrace's own (include/leaktrace.h) and the
 * functions of LeakSanitizer's interface (<sanitizer/lsan_interface.h>),
 * with LSan's meanings, so that code written for LSan works unchanged.
 * Context: cold, on the program's threads, never from a signal handler.
 * Nothing here takes a path or a name from the program: a check runs the
 * same report, to the same destination, as the one at exit. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "leaktrace.h"
#include "preload-private.h"
#include "strbuf.h"
#include "view.h"

/* LeakSanitizer's interface, as <sanitizer/lsan_interface.h> declares it. */
void __lsan_do_leak_check(void);
int __lsan_do_recoverable_leak_check(void);
void __lsan_ignore_object(const void *p);
void __lsan_disable(void);
void __lsan_enable(void);
void __lsan_register_root_region(const void *p, size_t size);
void __lsan_unregister_root_region(const void *p, size_t size);

/* The callee-saved registers may hold the caller's only copy of a pointer.
 * They are copied into the exported function's frame, and the caller's
 * live stack is taken to start at that frame's bottom: what the check's
 * own deeper frames hold is ours, not the program's. (RBP is reserved in
 * this library, -ffixed-rbp, so it still holds the caller's value.) */
#define CALLEE_SAVED 6
#define CAPTURE_CALLER(regs, sp)                                                       \
	do {                                                                           \
		__asm__ volatile("mov %%rbx, 0(%1)\n\tmov %%rbp, 8(%1)\n\t"            \
				 "mov %%r12, 16(%1)\n\tmov %%r13, 24(%1)\n\t"          \
				 "mov %%r14, 32(%1)\n\tmov %%r15, 40(%1)\n\t"          \
				 "mov %%rsp, %0"                                       \
				 : "=r"(sp) : "r"(regs) : "memory");                  \
	} while (0)
/* The copies must stay in the frame until the check is over. */
#define KEEP(regs) __asm__ volatile("" : : "r"(regs) : "memory")

/* ---- the checks ---- */

static bool ready(void)
{
	return atomic_load_explicit(&lt_init_state, memory_order_acquire) == 2 &&
	       lt_tool_path[0];
}

/* LSan calls the program's __lsan_is_turned_off, when it defines one,
 * before each check. A preloaded library sees the program's definition
 * only when the executable exports it (-rdynamic), as the shared liblsan
 * does. It is looked up once, before main: a lookup later could allocate
 * in the middle of the program's heap and would replace the program's
 * pending dlerror() message with ours. */
static int (*program_turned_off)(void);

__attribute__((constructor)) static void find_program_callbacks(void)
{
	lt_self.depth++;
	program_turned_off = (int (*)(void))dlsym(RTLD_DEFAULT, "__lsan_is_turned_off");
	if (!program_turned_off)
		dlerror();   /* a missing callback is no error of the program's */
	lt_self.depth--;
}

bool lt_api_checks_turned_off(void)
{
	return program_turned_off && program_turned_off() != 0;
}

/* Reports now, as at exit, and waits for the reporter. Returns 0: no
 * leak of a kind in errors_for_leak_kinds (after suppressions),
 * LT_REPORT_STATUS_ERRORS: some, other: the report failed. */
static LT_NOINLINE int report_from(uintptr_t caller_sp)
{
	return lt_report_now(LT_REASON_API, caller_sp);
}

/* A failed report counts as one that found leaks, as at exit: a leak gate
 * fails closed. */
static LT_NOINLINE int recoverable_check(uintptr_t caller_sp)
{
	if (!ready() || lt_api_checks_turned_off())
		return 0;
	return report_from(caller_sp) != 0;
}

/* LSan's final check: once per process (later calls and the check at exit
 * do nothing), then, with leaks, the process ends with LSan's exitcode,
 * here error_exitcode; with error_exitcode=0, as LSan with exitcode=0,
 * the program goes on. */
static LT_NOINLINE void final_check(uintptr_t caller_sp)
{
	static atomic_flag done = ATOMIC_FLAG_INIT;
	if (!ready() || atomic_flag_test_and_set(&done))
		return;
	lt_exit_report_cancel();
	if (lt_api_checks_turned_off())
		return;
	int status = report_from(caller_sp);
	if (status == 0 || !lt_opts.error_exitcode)
		return;
	if (status != LT_REPORT_STATUS_ERRORS)
		lt_log("the report failed: exiting with error_exitcode");
	fflush(NULL);
	_exit((int)lt_opts.error_exitcode);
}

/* ---- ignored blocks ---- */

/* The record is put back with the ignored bit, under the report lock so
 * that no report sees the block missing in between. Only the start of a
 * live block is accepted. */
static int ignore_block(const void *p)
{
	struct lt_table_entry e;
	if (!p || !ready())
		return -1;
	lt_self.depth++;
	lt_report_lock();
	bool had = lt_table_remove((uintptr_t)p, &e);
	if (had)
		lt_table_insert((uintptr_t)p, e.size, e.stack_id | LT_STACK_IGNORED);
	lt_report_unlock();
	lt_self.depth--;
	return had ? 0 : -1;
}

static void disable_here(void)
{
	lt_self.ignore_depth++;
}

/* LSan aborts on an enable with no disable to match; the program's
 * safety comes first here: it is said once and ignored. */
static void enable_here(void)
{
	static atomic_bool said;
	if (lt_self.ignore_depth) {
		lt_self.ignore_depth--;
		return;
	}
	if (!atomic_exchange(&said, true))
		lt_log("__lsan_enable() or leaktrace_enable() without a matching disable: ignored");
}

/* ---- root regions ---- */

/* "leaktrace: <what> <address> of size <size>: <verdict>" */
static void log_region(const char *what, const void *p, size_t size, const char *verdict)
{
	char line[300];
	struct lt_strbuf sb;
	lt_strbuf_init(&sb, line, sizeof(line));
	lt_strbuf_puts(&sb, what);
	lt_strbuf_puthex(&sb, (uintptr_t)p);
	lt_strbuf_puts(&sb, " of size ");
	lt_strbuf_putu(&sb, size);
	lt_strbuf_puts(&sb, verdict);
	lt_log(line);
}

static int add_root(const void *p, size_t size)
{
	int rc = lt_roots_register((uintptr_t)p, size);
	if (rc == -ENOSPC)
		log_region("root region at ", p, size, ": ignored, 256 regions are registered already");
	else if (rc == -EINVAL)
		log_region("root region at ", p, size, ": ignored, not a range of memory");
	return rc ? -1 : 0;
}

/* LSan aborts when the region was never registered; here it is said and
 * ignored. */
static int remove_root(const void *p, size_t size)
{
	if (lt_roots_unregister((uintptr_t)p, size) == 0)
		return 0;
	log_region("unregistering the root region at ", p, size,
		   ": ignored, no such region is registered");
	return -1;
}

/* ---- leaktrace.h (the names in parentheses: the header's macros wrap them) ---- */

LT_EXPORT int (leaktrace_running)(void)
{
	return ready();
}

LT_EXPORT int (leaktrace_report_now)(void)
{
	uintptr_t regs[CALLEE_SAVED], sp;
	CAPTURE_CALLER(regs, sp);
	int rc = -1;
	if (ready()) {
		int status = report_from(sp);
		rc = status == 0 ? 0 : status == LT_REPORT_STATUS_ERRORS ? 1 : -1;
	}
	KEEP(regs);
	return rc;
}

LT_EXPORT int (leaktrace_ignore)(const void *p)
{
	return ignore_block(p);
}

LT_EXPORT void (leaktrace_disable)(void)
{
	disable_here();
}

LT_EXPORT void (leaktrace_enable)(void)
{
	enable_here();
}

LT_EXPORT int (leaktrace_root_add)(const void *p, size_t size)
{
	return add_root(p, size);
}

LT_EXPORT int (leaktrace_root_remove)(const void *p, size_t size)
{
	return remove_root(p, size);
}

/* ---- LeakSanitizer's interface ---- */

LT_EXPORT void __lsan_do_leak_check(void)
{
	uintptr_t regs[CALLEE_SAVED], sp;
	CAPTURE_CALLER(regs, sp);
	final_check(sp);
	KEEP(regs);
}

LT_EXPORT int __lsan_do_recoverable_leak_check(void)
{
	uintptr_t regs[CALLEE_SAVED], sp;
	CAPTURE_CALLER(regs, sp);
	int rc = recoverable_check(sp);
	KEEP(regs);
	return rc;
}

LT_EXPORT void __lsan_ignore_object(const void *p)
{
	ignore_block(p);
}

LT_EXPORT void __lsan_disable(void)
{
	disable_here();
}

LT_EXPORT void __lsan_enable(void)
{
	enable_here();
}

LT_EXPORT void __lsan_register_root_region(const void *p, size_t size)
{
	add_root(p, size);
}

LT_EXPORT void __lsan_unregister_root_region(const void *p, size_t size)
{
	remove_root(p, size);
}
