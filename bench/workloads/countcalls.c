/* libcountcalls.so: counts the calls a program makes to the malloc family,
 * so the harness can turn tracing overhead into nanoseconds per call for
 * programs it did not write (python3, sqlite3, cc1).
 *
 *   BENCH_COUNT_FILE=/path LD_PRELOAD=build/bench/libcountcalls.so prog
 *
 * appends one line "calls N" per process at exit. Each wrapper forwards to
 * glibc's exported __libc_* entry points, so no dlsym (which allocates) is
 * needed. This is a measuring aid only, run once per workload untimed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

static _Atomic uint64_t calls;

#define COUNT() atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed)
#define EXPORT __attribute__((visibility("default")))

EXPORT void *malloc(size_t n) { COUNT(); return __libc_malloc(n); }
EXPORT void *calloc(size_t n, size_t s) { COUNT(); return __libc_calloc(n, s); }
EXPORT void *realloc(void *p, size_t n) { COUNT(); return __libc_realloc(p, n); }
EXPORT void free(void *p) { COUNT(); __libc_free(p); }
EXPORT void *memalign(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
EXPORT void *valloc(size_t n) { COUNT(); return __libc_valloc(n); }
EXPORT void *pvalloc(size_t n) { COUNT(); return __libc_pvalloc(n); }

EXPORT void *reallocarray(void *p, size_t n, size_t s)
{
	size_t total;
	if (__builtin_mul_overflow(n, s, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

EXPORT void *aligned_alloc(size_t a, size_t n)
{
	COUNT();
	if (a == 0 || (a & (a - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return __libc_memalign(a, n);
}

EXPORT int posix_memalign(void **out, size_t a, size_t n)
{
	COUNT();
	if (a < sizeof(void *) || (a & (a - 1)))
		return EINVAL;
	int saved = errno;
	void *p = __libc_memalign(a, n);
	if (!p)
		return ENOMEM;
	errno = saved;
	*out = p;
	return 0;
}

__attribute__((destructor)) static void report_count(void)
{
	const char *path = getenv("BENCH_COUNT_FILE");
	if (!path)
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	char line[64];
	int len = snprintf(line, sizeof(line), "calls %llu\n",
			   (unsigned long long)atomic_load(&calls));
	if (len > 0 && write(fd, line, (size_t)len) < 0)
		len = 0;
	close(fd);
}
