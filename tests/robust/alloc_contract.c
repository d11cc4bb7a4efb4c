/* The malloc family's contract, as glibc keeps it: malloc(0), free(NULL),
 * sizes near SIZE_MAX, calloc and reallocarray overflow, posix_memalign's
 * EINVAL that leaves the out-pointer alone, memalign's rounding of an
 * alignment that is not a power of two, valloc and pvalloc page alignment,
 * malloc_usable_size up to the last byte, errno kept on success. Each
 * scenario leaks one block of a known size, for the report to show. */
#include "robust.h"

#include <malloc.h>
#include <stdint.h>
#include <unistd.h>

#define SHOW(expr_ptr, what)                                                         \
	do {                                                                         \
		errno = 0;                                                           \
		void *p_ = (expr_ptr);                                               \
		printf("%-44s %s errno=%s\n", what, p_ ? "ptr" : "NULL", err_name(errno)); \
		free(p_);                                                            \
	} while (0)

static int malloc_zero(int argc, char **argv)
{
	(void)argc, (void)argv;
	errno = EBADF;
	char *p = malloc(0);
	printf("malloc(0): %s, errno=%s, usable=%zu\n", p ? "ptr" : "NULL", err_name(errno),
	       malloc_usable_size(p));
	free(p);
	p = realloc(NULL, 0);
	printf("realloc(NULL, 0): %s\n", p ? "ptr" : "NULL");
	errno = EBADF;
	char *q = realloc(p, 0);
	printf("realloc(p, 0): %s, errno=%s\n", q ? "ptr" : "NULL", err_name(errno));
	free(q);
	leak(10);
	return 0;
}

static int free_null(int argc, char **argv)
{
	(void)argc, (void)argv;
	errno = EILSEQ;
	free(NULL);
	printf("free(NULL): errno=%s\n", err_name(errno));
	char *p = malloc(100);
	errno = EILSEQ;
	free(p);
	printf("free(p): errno=%s\n", err_name(errno));
	printf("malloc_usable_size(NULL)=%zu\n", malloc_usable_size(NULL));
	leak(11);
	return 0;
}

static int huge_sizes(int argc, char **argv)
{
	(void)argc, (void)argv;
	SHOW(malloc(SIZE_MAX), "malloc(SIZE_MAX)");
	SHOW(malloc(SIZE_MAX - 4096), "malloc(SIZE_MAX - 4096)");
	SHOW(malloc((size_t)PTRDIFF_MAX + 1), "malloc(PTRDIFF_MAX + 1)");
	SHOW(malloc((size_t)PTRDIFF_MAX - 64), "malloc(PTRDIFF_MAX - 64)");
	SHOW(valloc(SIZE_MAX - 100), "valloc(SIZE_MAX - 100)");
	SHOW(pvalloc(SIZE_MAX - 100), "pvalloc(SIZE_MAX - 100)");
	SHOW(aligned_alloc(64, SIZE_MAX - 10), "aligned_alloc(64, SIZE_MAX - 10)");
	char *p = malloc(32);
	strcpy(p, "kept");
	errno = 0;
	char *q = realloc(p, SIZE_MAX - 8);
	printf("realloc(p, SIZE_MAX - 8): %s errno=%s, old block: %s\n", q ? "ptr" : "NULL",
	       err_name(errno), p);
	free(q ? q : p);
	leak(12);
	return 0;
}

static int calloc_overflow(int argc, char **argv)
{
	(void)argc, (void)argv;
	SHOW(calloc(SIZE_MAX / 2 + 1, 2), "calloc(SIZE_MAX/2+1, 2)");
	SHOW(calloc((size_t)1 << 33, (size_t)1 << 33), "calloc(2^33, 2^33)");
	SHOW(calloc(SIZE_MAX, SIZE_MAX), "calloc(SIZE_MAX, SIZE_MAX)");
	SHOW(calloc(0, SIZE_MAX), "calloc(0, SIZE_MAX)");
	SHOW(calloc(SIZE_MAX, 0), "calloc(SIZE_MAX, 0)");
	unsigned char *z = calloc(1000, 3);
	size_t nonzero = 0;
	for (size_t i = 0; i < 3000; i++)
		nonzero += z[i] != 0;
	printf("calloc(1000, 3): %zu bytes not zero\n", nonzero);
	free(z);
	leak(13);
	return 0;
}

static int reallocarray_overflow(int argc, char **argv)
{
	(void)argc, (void)argv;
	SHOW(reallocarray(NULL, SIZE_MAX, 2), "reallocarray(NULL, SIZE_MAX, 2)");
	SHOW(reallocarray(NULL, (size_t)1 << 32, (size_t)1 << 32), "reallocarray(NULL, 2^32, 2^32)");
	int *a = reallocarray(NULL, 10, sizeof(int));
	for (int i = 0; i < 10; i++)
		a[i] = i;
	errno = 0;
	int *b = reallocarray(a, SIZE_MAX / 4 + 1, 8);
	printf("reallocarray(a, SIZE_MAX/4+1, 8): %s errno=%s, a[9]=%d\n", b ? "ptr" : "NULL",
	       err_name(errno), a[9]);
	b = reallocarray(a, 20, sizeof(int));
	printf("reallocarray(a, 20, 4): %s, b[9]=%d\n", b ? "ptr" : "NULL", b[9]);
	free(b);
	leak(14);
	return 0;
}

static void try_posix_memalign(size_t align, size_t size)
{
	void *out = (void *)0x1234;
	errno = EBADF;
	int rc = posix_memalign(&out, align, size);
	printf("posix_memalign(align=%zu, size=%zu): rc=%s errno=%s out=%s\n", align, size,
	       err_name(rc), err_name(errno),
	       out == (void *)0x1234 ? "untouched"
	       : ((uintptr_t)out % align == 0) ? "aligned" : "MISALIGNED");
	if (rc == 0)
		free(out);
}

static int posix_memalign_errors(int argc, char **argv)
{
	(void)argc, (void)argv;
	try_posix_memalign(0, 16);
	try_posix_memalign(3, 16);
	try_posix_memalign(4, 16);
	try_posix_memalign(24, 16);
	try_posix_memalign(8, 16);
	try_posix_memalign(64, 0);
	try_posix_memalign(4096, 100);
	try_posix_memalign((size_t)1 << 40, 16);
	try_posix_memalign(64, SIZE_MAX - 100);
	leak(15);
	return 0;
}

static void try_memalign(size_t align, size_t size)
{
	errno = 0;
	char *p = memalign(align, size);
	/* glibc rounds an alignment that is not a power of two up to the next
	 * one: the largest power of two that divides the address says. */
	size_t got = p ? ((uintptr_t)p & -(uintptr_t)p) : 0;
	printf("memalign(%zu, %zu): %s errno=%s aligned to %s %zu\n", align, size,
	       p ? "ptr" : "NULL", err_name(errno), p ? "at least" : "-",
	       p ? (got >= 4096 ? 4096 : got >= align ? align : got) : 0);
	if (p && align > 1 && (align & (align - 1))) {
		size_t pow2 = 1;
		while (pow2 < align)
			pow2 <<= 1;
		printf("  rounded up to %zu: %s\n", pow2, (uintptr_t)p % pow2 == 0 ? "yes" : "NO");
	}
	free(p);
}

static int memalign_rounding(int argc, char **argv)
{
	(void)argc, (void)argv;
	try_memalign(1, 10);
	try_memalign(24, 10);
	try_memalign(48, 100);
	try_memalign(100, 1);
	try_memalign(3000, 5);
	try_memalign(64, 0);
	try_memalign(SIZE_MAX / 2 + 2, 1);
	try_memalign(SIZE_MAX, 1);
	errno = 0;
	void *p = aligned_alloc(3, 16);
	printf("aligned_alloc(3, 16): %s errno=%s\n", p ? "ptr" : "NULL", err_name(errno));
	free(p);
	p = aligned_alloc(256, 1000);
	printf("aligned_alloc(256, 1000): %s\n", (uintptr_t)p % 256 == 0 ? "aligned" : "MISALIGNED");
	free(p);
	leak(16);
	return 0;
}

static int valloc_pvalloc(int argc, char **argv)
{
	(void)argc, (void)argv;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t sizes[] = { 0, 1, 100, 4095, 4096, 4097, 10000 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *v = valloc(sizes[i]);
		char *pv = pvalloc(sizes[i]);
		size_t rounded = sizes[i] ? (sizes[i] + page - 1) / page * page : page;
		printf("size %5zu: valloc %s, pvalloc %s, pvalloc usable >= %zu: %s\n", sizes[i],
		       (uintptr_t)v % page ? "MISALIGNED" : "page-aligned",
		       (uintptr_t)pv % page ? "MISALIGNED" : "page-aligned", rounded,
		       malloc_usable_size(pv) >= rounded ? "yes" : "NO");
		memset(pv, 0x5a, rounded);   /* pvalloc gives whole pages */
		free(v);
		free(pv);
	}
	leak(17);
	return 0;
}

static int usable_size(int argc, char **argv)
{
	(void)argc, (void)argv;
	unsigned long sum = 0;
	for (size_t n = 0; n <= 1100; n += 37) {
		unsigned char *p = malloc(n);
		size_t u = malloc_usable_size(p);
		memset(p, 0xa5, u);   /* every usable byte is the program's */
		p[u - 1] = 0x11;
		unsigned char *q = realloc(p, u);   /* same usable size: may stay in place */
		sum += u;
		printf("malloc(%4zu): usable %4zu, last byte kept after realloc: %s\n", n, u,
		       q[u - 1] == 0x11 ? "yes" : "NO");
		free(q);
	}
	void *a = memalign(64, 200);
	printf("memalign(64, 200): usable %zu\n", malloc_usable_size(a));
	free(a);
	printf("sum of usable sizes: %lu\n", sum);
	leak(18);
	return 0;
}

/* An underflow that wrote over the malloc headers of leaked blocks: the
 * tracer reads block sizes back from those headers, and must neither
 * fault nor hang. One header is no live chunk's (a huge size), one is a
 * plausible chunk far larger than the block: the scan must not read past
 * the block's neighbour or its mapping. Nothing is freed afterwards (glibc
 * itself would stop at the neighbour's header). */
static int overwritten_header(int argc, char **argv)
{
	(void)argc, (void)argv;
	leak(20);
	volatile size_t *volatile huge = malloc(100);
	volatile size_t *volatile wide = malloc(60);
	huge[-1] = (size_t)0x7ffffffffff0;
	wide[-1] = ((size_t)1 << 30) | 1;
	huge = wide = NULL;
	printf("headers overwritten\n");
	return 0;
}

/* A successful call leaves errno as it was. */
static int errno_kept(int argc, char **argv)
{
	(void)argc, (void)argv;
	void *p, *q;
#define KEEP(stmt)                                                   \
	do {                                                         \
		errno = ENOTRECOVERABLE;                             \
		stmt;                                                \
		printf("%-40s errno=%s\n", #stmt, err_name(errno));  \
	} while (0)
	KEEP(p = malloc(10));
	KEEP(q = calloc(3, 7));
	KEEP(p = realloc(p, 1000));
	KEEP(p = realloc(p, 5));
	KEEP(q = reallocarray(q, 4, 4));
	KEEP(free(q));
	KEEP(free(p));
	KEEP((void)posix_memalign(&p, 32, 64));
	KEEP(free(p));
	KEEP(p = aligned_alloc(16, 64));
	KEEP(free(p));
	KEEP(p = memalign(128, 7));
	KEEP(free(p));
	KEEP(p = valloc(3));
	KEEP(free(p));
	KEEP(p = pvalloc(3));
	KEEP(free(p));
	KEEP((void)malloc_usable_size(NULL));
	KEEP(p = malloc(200000));   /* above the mmap threshold */
	KEEP(free(p));
#undef KEEP
	leak(19);
	return 0;
}

static const struct scenario scenarios[] = {
	{ "malloc-zero", malloc_zero },
	{ "free-null", free_null },
	{ "huge-sizes", huge_sizes },
	{ "calloc-overflow", calloc_overflow },
	{ "reallocarray-overflow", reallocarray_overflow },
	{ "posix-memalign-errors", posix_memalign_errors },
	{ "memalign-rounding", memalign_rounding },
	{ "valloc-pvalloc", valloc_pvalloc },
	{ "usable-size", usable_size },
	{ "errno-kept", errno_kept },
	{ "overwritten-header", overwritten_header },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return run_scenario(scenarios, argc, argv);
}
