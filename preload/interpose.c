/* The libc-named entry points: the malloc family, C++ operator new, mmap
 * family, dlopen/dlclose, sigaction/signal, pthread_create/join/detach.
 * Context: HOT. No locks, no stdio, no allocation
 * of our own below this line; rare work goes to noinline cold helpers.
 *
 * Every allocator interposer has the same shape: calls made while this
 * thread is inside our own code (depth > 0) or before the real functions
 * are known pass straight through; otherwise the real call is made and, if
 * it succeeded, recorded. errno is the real allocator's. */
#define _GNU_SOURCE
/* mmap and mmap64 are both defined here; with 64-bit file offsets the
 * headers would make them one symbol. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mappings.h"
#include "preload-private.h"

/* Hidden aliases give each entry point an address inside this library that
 * does not go through the PLT: it becomes frame 0 of the block's stack. */
#define ENTRY_ALIAS(fn)                                                       \
	extern __typeof__(fn) lt_entry_##fn                                   \
		__attribute__((alias(#fn), copy(fn), visibility("hidden")))
#define ENTRY_DECL(fn) extern __typeof__(fn) lt_entry_##fn LT_HIDDEN
#define ENTRY(fn) ((uintptr_t)&lt_entry_##fn)
/* Where the program called us: the allocation's first frame (the entry
 * point), the return address into the caller and the caller's stack
 * pointer (our frame's CFA). The walk starts there, so none of our own
 * frames is unwound; RBP is the caller's too, since this library never
 * uses RBP (-ffixed-rbp). Only valid in the exported function itself. */
#define SITE(fn) ENTRY(fn), (uintptr_t)__builtin_return_address(0), \
		 (uintptr_t)__builtin_dwarf_cfa()

/* C++ allocation functions, by their mangled names. */
void *_Znwm(size_t);
void *_Znam(size_t);
void *_ZnwmRKSt9nothrow_t(size_t, const void *);
void *_ZnamRKSt9nothrow_t(size_t, const void *);
void *_ZnwmSt11align_val_t(size_t, size_t);
void *_ZnamSt11align_val_t(size_t, size_t);
void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t, size_t, const void *);
void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t, size_t, const void *);

ENTRY_DECL(malloc);
ENTRY_DECL(calloc);
ENTRY_DECL(realloc);
ENTRY_DECL(reallocarray);
ENTRY_DECL(posix_memalign);
ENTRY_DECL(aligned_alloc);
ENTRY_DECL(memalign);
ENTRY_DECL(valloc);
ENTRY_DECL(pvalloc);
ENTRY_DECL(_Znwm);
ENTRY_DECL(_Znam);
ENTRY_DECL(_ZnwmRKSt9nothrow_t);
ENTRY_DECL(_ZnamRKSt9nothrow_t);
ENTRY_DECL(_ZnwmSt11align_val_t);
ENTRY_DECL(_ZnamSt11align_val_t);
ENTRY_DECL(_ZnwmSt11align_val_tRKSt9nothrow_t);
ENTRY_DECL(_ZnamSt11align_val_tRKSt9nothrow_t);

/* True when this call may be recorded. */
static inline bool tracing(const struct lt_thread *t)
{
	if (LT_UNLIKELY(t->depth))
		return false;
	if (LT_LIKELY(atomic_load_explicit(&lt_init_state, memory_order_acquire) == 2))
		return true;
	return lt_init_core();
}

/* ---- pass-through paths (inside our code, or before init) ---- */

static LT_NOINLINE void *plain_malloc(size_t size)
{
	if (lt_real.malloc)
		return lt_real.malloc(size);
	return lt_boot_alloc(size, 16);
}

static LT_NOINLINE void *plain_calloc(size_t n, size_t size)
{
	size_t total;
	if (lt_real.calloc)
		return lt_real.calloc(n, size);
	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return lt_boot_alloc(total, 16);
}

static LT_NOINLINE void *plain_realloc(void *old, size_t size)
{
	if (lt_real.realloc && !lt_boot_owns(old))
		return lt_real.realloc(old, size);
	void *p = plain_malloc(size);
	if (p && old) {
		size_t keep = lt_boot_owns(old) ? lt_boot_size(old) : 0;
		memcpy(p, old, keep < size ? keep : size);
	}
	return p;
}

/* ---- the malloc family ---- */

LT_EXPORT void *malloc(size_t size)
{
	struct lt_thread *t = &lt_self;
	if (LT_UNLIKELY(!tracing(t)))
		return plain_malloc(size);
	t->depth++;
	void *p = lt_real.malloc(size);
	if (LT_LIKELY(p))
		p = lt_record_alloc(t, p, size, SITE(malloc));
	t->depth--;
	return p;
}
ENTRY_ALIAS(malloc);

LT_EXPORT void free(void *p)
{
	if (LT_UNLIKELY(!p || lt_boot_owns(p)))
		return;
	struct lt_thread *t = &lt_self;
	/* The record goes before the real free: once the allocator has the
	 * address back, another thread may be handed it and record it. */
	if (LT_LIKELY(tracing(t)))
		lt_record_free(t, p);
	if (LT_LIKELY(lt_real.free))
		lt_real.free(p);
}

LT_EXPORT void *calloc(size_t n, size_t size)
{
	struct lt_thread *t = &lt_self;
	if (LT_UNLIKELY(!tracing(t)))
		return plain_calloc(n, size);
	t->depth++;
	void *p = lt_real.calloc(n, size);
	if (LT_LIKELY(p))
		p = lt_record_alloc(t, p, (uint64_t)n * size, SITE(calloc));
	t->depth--;
	return p;
}
ENTRY_ALIAS(calloc);

/* realloc of a block we know: its record is taken out first (the real call
 * may free it), and put back if the call fails. Counted as valgrind does:
 * one free, plus one allocation of the new size unless size is 0. */
static inline void *realloc_known(struct lt_thread *t, void *old, size_t size,
				  uintptr_t entry, uintptr_t ra, uintptr_t cfa)
{
	struct lt_table_entry was;
	bool had;
	void *p;

	t->depth++;
	had = lt_table_remove((uintptr_t)old, &was);
	p = lt_real.realloc(old, size);
	if (p) {
		lt_counted_free(t);
		p = lt_record_alloc(t, p, size, entry, ra, cfa);
	} else if (size == 0) {
		lt_counted_free(t);          /* glibc freed old and returned NULL */
	} else if (had) {
		int saved = errno;
		lt_table_insert((uintptr_t)old, was.size, was.stack_id);
		errno = saved;
	}
	t->depth--;
	return p;
}

LT_EXPORT void *realloc(void *old, size_t size)
{
	struct lt_thread *t = &lt_self;
	if (LT_UNLIKELY(!tracing(t) || lt_boot_owns(old)))
		return plain_realloc(old, size);
	if (!old) {
		t->depth++;
		void *p = lt_real.realloc(NULL, size);
		if (LT_LIKELY(p))
			p = lt_record_alloc(t, p, size, SITE(realloc));
		t->depth--;
		return p;
	}
	return realloc_known(t, old, size, SITE(realloc));
}
ENTRY_ALIAS(realloc);

LT_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	struct lt_thread *t = &lt_self;
	if (LT_UNLIKELY(!tracing(t) || lt_boot_owns(old)))
		return plain_realloc(old, total);
	if (!old) {
		t->depth++;
		void *p = lt_real.realloc(NULL, total);
		if (LT_LIKELY(p))
			p = lt_record_alloc(t, p, total, SITE(reallocarray));
		t->depth--;
		return p;
	}
	return realloc_known(t, old, total, SITE(reallocarray));
}
ENTRY_ALIAS(reallocarray);

LT_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	struct lt_thread *t = &lt_self;
	if (LT_UNLIKELY(!tracing(t))) {
		if (lt_real.posix_memalign)
			return lt_real.posix_memalign(out, align, size);
		void *p = lt_boot_alloc(size, align);
		if (!p)
			return ENOMEM;
		*out = p;
		return 0;
	}
	t->depth++;
	int rc = lt_real.posix_memalign(out, align, size);
	if (LT_LIKELY(rc == 0))
		lt_record_alloc(t, *out, size, SITE(posix_memalign));
	t->depth--;
	return rc;
}
ENTRY_ALIAS(posix_memalign);

/* aligned_alloc, memalign, valloc and pvalloc share one shape. */
#define ALIGNED_ENTRY(fn, params, args, boot, recorded_size)                  \
	LT_EXPORT void *fn params                                             \
	{                                                                     \
		struct lt_thread *t = &lt_self;                               \
		if (LT_UNLIKELY(!tracing(t)))                                 \
			return lt_real.fn ? lt_real.fn args : (boot);         \
		t->depth++;                                                   \
		void *p = lt_real.fn args;                                    \
		if (LT_LIKELY(p))                                             \
			p = lt_record_alloc(t, p, (recorded_size), SITE(fn));     \
		t->depth--;                                                   \
		return p;                                                     \
	}                                                                     \
	ENTRY_ALIAS(fn)

ALIGNED_ENTRY(aligned_alloc, (size_t align, size_t size), (align, size),
	      lt_boot_alloc(size, align), size);
ALIGNED_ENTRY(memalign, (size_t align, size_t size), (align, size),
	      lt_boot_alloc(size, align), size);
ALIGNED_ENTRY(valloc, (size_t size), (size),
	      lt_boot_alloc(size, 4096), size);
/* pvalloc allocates whole pages: the rounded size is what the block holds. */
ALIGNED_ENTRY(pvalloc, (size_t size), (size),
	      lt_boot_alloc(size, 4096), lt_page_round(size));

LT_EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (lt_boot_owns(p))
		return lt_boot_size(p);
	if (LT_UNLIKELY(!lt_real.malloc_usable_size && !lt_resolve_real()))
		return 0;
	return lt_real.malloc_usable_size(p);
}

/* ---- C++ operator new ----
 * The common case allocates here, so the block's first frame is operator
 * new, as valgrind shows it. When the allocator fails, libstdc++'s own
 * operator new takes over for its exact semantics: the new_handler loop
 * and std::bad_alloc. */

typedef void *(*cxx_new_fn)(size_t);
typedef void *(*cxx_new_nothrow_fn)(size_t, const void *);
typedef void *(*cxx_new_aligned_fn)(size_t, size_t);
typedef void *(*cxx_new_aligned_nothrow_fn)(size_t, size_t, const void *);

static LT_NOINLINE LT_COLD void *cxx_fallback(void *_Atomic *cache, const char *name)
{
	void *fn = atomic_load(cache);
	if (!fn) {
		fn = lt_resolve_cxx(name);
		atomic_store(cache, fn);
	}
	return fn;
}

static inline void *new_fast(size_t size, size_t align, uintptr_t entry, uintptr_t ra,
			     uintptr_t cfa)
{
	struct lt_thread *t = &lt_self;
	if (LT_UNLIKELY(!tracing(t)))
		return NULL;
	size_t real_size = size ? size : 1;
	t->depth++;
	void *p = align ? lt_real.memalign(align, real_size) : lt_real.malloc(real_size);
	if (LT_LIKELY(p))
		p = lt_record_alloc(t, p, size, entry, ra, cfa);   /* keeps errno */
	t->depth--;
	return p;
}

#define CXX_NEW(sym, fallback_name)                                           \
	LT_EXPORT void *sym(size_t size)                                      \
	{                                                                     \
		static void *_Atomic real;                                    \
		void *p = new_fast(size, 0, SITE(sym));                      \
		if (LT_LIKELY(p))                                             \
			return p;                                             \
		cxx_new_fn fn = (cxx_new_fn)cxx_fallback(&real, fallback_name); \
		return fn ? fn(size) : NULL;                                  \
	}                                                                     \
	ENTRY_ALIAS(sym)

#define CXX_NEW_NOTHROW(sym, fallback_name)                                   \
	LT_EXPORT void *sym(size_t size, const void *tag)                     \
	{                                                                     \
		static void *_Atomic real;                                    \
		void *p = new_fast(size, 0, SITE(sym));                      \
		if (LT_LIKELY(p))                                             \
			return p;                                             \
		cxx_new_nothrow_fn fn =                                       \
			(cxx_new_nothrow_fn)cxx_fallback(&real, fallback_name); \
		return fn ? fn(size, tag) : NULL;                             \
	}                                                                     \
	ENTRY_ALIAS(sym)

#define CXX_NEW_ALIGNED(sym, fallback_name)                                   \
	LT_EXPORT void *sym(size_t size, size_t align)                        \
	{                                                                     \
		static void *_Atomic real;                                    \
		void *p = new_fast(size, align, SITE(sym));                  \
		if (LT_LIKELY(p))                                             \
			return p;                                             \
		cxx_new_aligned_fn fn =                                       \
			(cxx_new_aligned_fn)cxx_fallback(&real, fallback_name); \
		return fn ? fn(size, align) : NULL;                           \
	}                                                                     \
	ENTRY_ALIAS(sym)

#define CXX_NEW_ALIGNED_NOTHROW(sym, fallback_name)                           \
	LT_EXPORT void *sym(size_t size, size_t align, const void *tag)       \
	{                                                                     \
		static void *_Atomic real;                                    \
		void *p = new_fast(size, align, SITE(sym));                  \
		if (LT_LIKELY(p))                                             \
			return p;                                             \
		cxx_new_aligned_nothrow_fn fn = (cxx_new_aligned_nothrow_fn)  \
			cxx_fallback(&real, fallback_name);                   \
		return fn ? fn(size, align, tag) : NULL;                      \
	}                                                                     \
	ENTRY_ALIAS(sym)

CXX_NEW(_Znwm, "_Znwm");
CXX_NEW(_Znam, "_Znam");
CXX_NEW_NOTHROW(_ZnwmRKSt9nothrow_t, "_ZnwmRKSt9nothrow_t");
CXX_NEW_NOTHROW(_ZnamRKSt9nothrow_t, "_ZnamRKSt9nothrow_t");
CXX_NEW_ALIGNED(_ZnwmSt11align_val_t, "_ZnwmSt11align_val_t");
CXX_NEW_ALIGNED(_ZnamSt11align_val_t, "_ZnamSt11align_val_t");
CXX_NEW_ALIGNED_NOTHROW(_ZnwmSt11align_val_tRKSt9nothrow_t,
			"_ZnwmSt11align_val_tRKSt9nothrow_t");
CXX_NEW_ALIGNED_NOTHROW(_ZnamSt11align_val_tRKSt9nothrow_t,
			"_ZnamSt11align_val_tRKSt9nothrow_t");

/* ---- mappings ----
 * Tracked as regions by mappings.c when track_mmap is on: the real call is
 * made there, under its rules; errno is the kernel's. */

static LT_NOINLINE LT_COLD bool have_real_mmap(void)
{
	return lt_resolve_real() && lt_real.mmap;
}

ENTRY_DECL(mmap);
ENTRY_DECL(mmap64);
ENTRY_DECL(mremap);

static inline void *mmap_site(void *addr, size_t len, int prot, int flags, int fd, off_t off,
			      uintptr_t entry, uintptr_t ra, uintptr_t cfa)
{
	if (LT_UNLIKELY(!lt_real.mmap) && !have_real_mmap()) {
		errno = ENOSYS;
		return MAP_FAILED;
	}
	return lt_mappings_mmap(&lt_self, addr, len, prot, flags, fd, off, entry, ra, cfa);
}

LT_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap_site(addr, len, prot, flags, fd, off, SITE(mmap));
}
ENTRY_ALIAS(mmap);

LT_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap_site(addr, len, prot, flags, fd, off, SITE(mmap64));
}
ENTRY_ALIAS(mmap64);

LT_EXPORT int munmap(void *addr, size_t len)
{
	if (LT_UNLIKELY(!lt_real.munmap) && !have_real_mmap()) {
		errno = ENOSYS;
		return -1;
	}
	return lt_mappings_munmap(&lt_self, addr, len);
}

LT_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL;
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (LT_UNLIKELY(!lt_real.mremap) && !have_real_mmap()) {
		errno = ENOSYS;
		return MAP_FAILED;
	}
	return lt_mappings_mremap(&lt_self, old, old_len, new_len, flags, new_addr, SITE(mremap));
}
ENTRY_ALIAS(mremap);

/* ---- modules: keep the list of loaded objects current, so frames of a
 * library that is later unloaded still resolve. ---- */

LT_EXPORT void *dlopen(const char *file, int mode)
{
	if (LT_UNLIKELY(!lt_real.dlopen) && !lt_resolve_real())
		return NULL;
	void *h = lt_real.dlopen(file, mode);
	if (h) {
		int saved = errno;
		lt_modules_refresh();
		errno = saved;
	}
	return h;
}

LT_EXPORT int dlclose(void *handle)
{
	if (LT_UNLIKELY(!lt_real.dlclose) && !lt_resolve_real())
		return -1;
	int saved = errno;
	lt_modules_refresh();
	errno = saved;
	int rc = lt_real.dlclose(handle);
	saved = errno;
	lt_modules_refresh();
	errno = saved;
	return rc;
}

/* ---- signals: the report signal stays the program's if it wants it ---- */

static inline bool installs_handler(const struct sigaction *act)
{
	if (!act)
		return false;
	if (act->sa_flags & SA_SIGINFO)
		return act->sa_sigaction != NULL;
	return act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN;
}

LT_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	int rc;
	if (lt_death_sigaction(sig, act, old, &rc))
		return rc;
	if (installs_handler(act))
		lt_ondemand_yield_signal(sig);
	return lt_sigaction(sig, act, old);
}

/* glibc's signal() is sigaction with BSD semantics; on a signal the final
 * report holds it is made so here, for the program to see SIG_DFL. */
static __sighandler_t signal_as_sigaction(int sig, __sighandler_t handler)
{
	struct sigaction act, old;
	memset(&act, 0, sizeof(act));
	act.sa_handler = handler;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	act.sa_flags = SA_RESTART;
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

LT_EXPORT __sighandler_t signal(int sig, __sighandler_t handler)
{
	if (handler != SIG_ERR && lt_death_handles(sig))
		return signal_as_sigaction(sig, handler);
	if (handler != SIG_DFL && handler != SIG_IGN && handler != SIG_ERR)
		lt_ondemand_yield_signal(sig);
	if (LT_UNLIKELY(!lt_real.signal) && !lt_resolve_real())
		return SIG_ERR;
	return lt_real.signal(sig, handler);
}

/* ---- threads: which exited ones glibc keeps in its cache ---- */

LT_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			     void *(*start)(void *), void *arg)
{
	if (LT_UNLIKELY(!lt_real.pthread_create) && !lt_resolve_real())
		return EAGAIN;
	int rc = lt_real.pthread_create(thread, attr, start, arg);
	int detached = PTHREAD_CREATE_JOINABLE;
	if (rc == 0) {
		lt_threadreg_born((uintptr_t)*thread);
		if (attr && pthread_attr_getdetachstate(attr, &detached) == 0 &&
		    detached == PTHREAD_CREATE_DETACHED)
			lt_threadreg_reaped((uintptr_t)*thread);
	}
	return rc;
}

#define JOIN_ENTRY(fn, params, args)                                          \
	LT_EXPORT int fn params                                               \
	{                                                                     \
		if (LT_UNLIKELY(!lt_real.fn) && !lt_resolve_real())           \
			return ENOSYS;                                        \
		if (!lt_real.fn)                                              \
			return ENOSYS;                                        \
		int rc = lt_real.fn args;                                     \
		if (rc == 0)                                                  \
			lt_threadreg_reaped((uintptr_t)thread);               \
		return rc;                                                    \
	}

JOIN_ENTRY(pthread_join, (pthread_t thread, void **ret), (thread, ret))
JOIN_ENTRY(pthread_tryjoin_np, (pthread_t thread, void **ret), (thread, ret))
JOIN_ENTRY(pthread_timedjoin_np, (pthread_t thread, void **ret, const struct timespec *t),
	   (thread, ret, t))
JOIN_ENTRY(pthread_clockjoin_np,
	   (pthread_t thread, void **ret, clockid_t c, const struct timespec *t),
	   (thread, ret, c, t))
JOIN_ENTRY(pthread_detach, (pthread_t thread), (thread))
