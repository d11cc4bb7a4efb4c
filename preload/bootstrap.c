/* Resolution of the real allocator with dlsym(RTLD_NEXT), and the static
 * arena that serves the allocations dlsym itself makes meanwhile.
 * Context: init, reached from the first interposed call (possibly made by
 * ld.so before any constructor ran). Never calls the program's allocator. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdalign.h>
#include <string.h>

#include "preload-private.h"

struct lt_real_functions lt_real;

/* 0: not started, 1: under way, 2: done. */
static _Atomic int resolve_state;

/* dlsym needs well under a kilobyte; the rest is margin for loaders that
 * allocate more (dlerror buffers). */
#define BOOT_ARENA_SIZE (256 * 1024)
static alignas(64) unsigned char boot_arena[BOOT_ARENA_SIZE];
static _Atomic size_t boot_used;

/* Each boot block is preceded by its size, so realloc and
 * malloc_usable_size can answer for it. */
void *lt_boot_alloc(size_t size, size_t align)
{
	if (align < 16)
		align = 16;
	if (size > BOOT_ARENA_SIZE)
		return NULL;
	size_t need = size + align + 16;
	size_t start = atomic_fetch_add(&boot_used, need);
	if (start + need > BOOT_ARENA_SIZE)
		return NULL;
	uintptr_t base = (uintptr_t)boot_arena + start + 16;
	uintptr_t p = (base + align - 1) & ~(uintptr_t)(align - 1);
	memcpy((void *)(p - sizeof(size_t)), &size, sizeof(size_t));
	return (void *)p;   /* static storage: already zero, as calloc wants */
}

bool lt_boot_owns(const void *p)
{
	return (const unsigned char *)p >= boot_arena &&
	       (const unsigned char *)p < boot_arena + BOOT_ARENA_SIZE;
}

size_t lt_boot_size(const void *p)
{
	size_t size;
	memcpy(&size, (const char *)p - sizeof(size_t), sizeof(size_t));
	return size;
}

#define RESOLVE(field, name) lt_real.field = (__typeof__(lt_real.field))dlsym(RTLD_NEXT, name)

static LT_NOINLINE LT_COLD void resolve_all(void)
{
	RESOLVE(malloc, "malloc");
	RESOLVE(free, "free");
	RESOLVE(calloc, "calloc");
	RESOLVE(realloc, "realloc");
	RESOLVE(reallocarray, "reallocarray");
	RESOLVE(posix_memalign, "posix_memalign");
	RESOLVE(aligned_alloc, "aligned_alloc");
	RESOLVE(memalign, "memalign");
	RESOLVE(valloc, "valloc");
	RESOLVE(pvalloc, "pvalloc");
	RESOLVE(malloc_usable_size, "malloc_usable_size");
	RESOLVE(mmap, "mmap");
	RESOLVE(mmap64, "mmap64");
	RESOLVE(munmap, "munmap");
	RESOLVE(mremap, "mremap");
	RESOLVE(dlopen, "dlopen");
	RESOLVE(dlclose, "dlclose");
	RESOLVE(sigaction, "sigaction");
	RESOLVE(signal, "signal");
	RESOLVE(pthread_create, "pthread_create");
	RESOLVE(pthread_join, "pthread_join");
	RESOLVE(pthread_tryjoin_np, "pthread_tryjoin_np");
	RESOLVE(pthread_timedjoin_np, "pthread_timedjoin_np");
	RESOLVE(pthread_clockjoin_np, "pthread_clockjoin_np");
	RESOLVE(pthread_detach, "pthread_detach");
}

static bool in_libc(void *fn)
{
	Dl_info info;
	if (!fn || !dladdr(fn, &info) || !info.dli_fname)
		return false;
	const char *base = strrchr(info.dli_fname, '/');
	return strcmp(base ? base + 1 : info.dli_fname, "libc.so.6") == 0;
}

/* glibc's malloc (ptmalloc) is the one whose chunk headers the live table
 * reads. Another allocator loaded after us, or glibc's malloc debugging
 * library (libc_malloc_debug.so, whose mcheck puts its own header before
 * each block), answers from elsewhere: every one of its functions must be
 * libc's own. */
bool lt_real_malloc_is_glibc(void)
{
	return in_libc((void *)lt_real.malloc) && in_libc((void *)lt_real.calloc) &&
	       in_libc((void *)lt_real.realloc) && in_libc((void *)lt_real.memalign) &&
	       in_libc((void *)lt_real.posix_memalign) &&
	       in_libc((void *)lt_real.aligned_alloc) && in_libc((void *)lt_real.valloc) &&
	       in_libc((void *)lt_real.pvalloc) && in_libc((void *)lt_real.free);
}

int lt_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!lt_real.sigaction && !lt_resolve_real())
		return -1;
	return lt_real.sigaction(sig, act, old);
}

bool lt_resolve_real(void)
{
	int expected = 0;
	if (atomic_load_explicit(&resolve_state, memory_order_acquire) == 2)
		return true;
	if (!atomic_compare_exchange_strong(&resolve_state, &expected, 1))
		return atomic_load(&resolve_state) == 2;
	lt_self.depth++;
	resolve_all();
	lt_self.depth--;
	atomic_store_explicit(&resolve_state, 2, memory_order_release);
	return true;
}

void *lt_resolve_cxx(const char *name)
{
	void *fn;
	lt_self.depth++;
	fn = dlsym(RTLD_NEXT, name);
	lt_self.depth--;
	return fn;
}
