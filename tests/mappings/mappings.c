/* Mapping scenarios for leaktrace's track_mmap: one per argument, each
 * leaving a known set of mappings at exit (see check_mappings.py for the
 * exact expected records). Built with -O0 -g; the helpers are noinline so
 * that each mapping's stack is helper <- scenario <- main. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define NOINLINE __attribute__((noinline))

/* A root that keeps mappings reachable. */
static void *volatile kept[4];

static NOINLINE void *map_anon(size_t len, int shared)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

/* A file of len bytes at path, mapped whole. */
static NOINLINE void *map_file(const char *path, size_t len, int shared)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)len) != 0) {
		perror(path);
		exit(1);
	}
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, shared ? MAP_SHARED : MAP_PRIVATE,
		       fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	close(fd);
	return p;
}

/* Private anonymous: one lost (2 pages), one reachable (1 page). */
static NOINLINE void private_anon(void)
{
	void *lost = map_anon(2 * PAGE, 0);
	memset(lost, 1, 2 * PAGE);
	lost = NULL;
	kept[0] = map_anon(PAGE, 0);
}

/* Shared anonymous: lost, 3 pages. */
static NOINLINE void shared_anon(void)
{
	void *lost = map_anon(3 * PAGE, 1);
	lost = NULL;
	(void)lost;
}

/* Private file-backed, 1 page, lost; the file ends mid-page and the
 * mapping covers two pages: the page beyond the end is never read. */
static NOINLINE void private_file(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/private.dat", dir);
	void *p = map_file(path, PAGE + 100, 0);
	p = NULL;
	(void)p;
}

/* Shared file-backed, 1 page, reachable from a global. */
static NOINLINE void shared_file(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/shared.dat", dir);
	kept[1] = map_file(path, PAGE, 1);
}

/* Partial munmap: 5 pages, the middle one unmapped, the last one too: two
 * pieces remain (2 pages at the start, kept; 1 page after the hole, lost). */
static NOINLINE void partial(void)
{
	char *p = map_anon(5 * PAGE, 0);
	/* Not page-aligned: fails with EINVAL and changes nothing. */
	if (munmap(p + 1, PAGE) == 0 || errno != EINVAL) {
		fprintf(stderr, "munmap of an unaligned address should fail with EINVAL\n");
		exit(1);
	}
	if (munmap(p + 2 * PAGE, PAGE) || munmap(p + 4 * PAGE, PAGE)) {
		perror("munmap");
		exit(1);
	}
	kept[0] = p;
}

/* mremap: a 1-page mapping grown to 4 pages and moved (MREMAP_MAYMOVE |
 * MREMAP_FIXED to a known free place), kept at its new place; a failed
 * mremap changes nothing, and nothing stays at the old place. */
static NOINLINE void remap_move(void)
{
	char *p = map_anon(PAGE, 0);
	char *target = map_anon(8 * PAGE, 0);
	munmap(target, 8 * PAGE);
	/* old_len beyond the mapping: fails (ENOMEM, or EFAULT on newer
	 * kernels) and changes nothing. */
	errno = 0;
	if (mremap(p, 3 * PAGE, 4 * PAGE, 0) != MAP_FAILED || (errno != ENOMEM && errno != EFAULT)) {
		fprintf(stderr, "mremap should have failed with ENOMEM or EFAULT\n");
		exit(1);
	}
	char *q = mremap(p, PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	if (q != target) {
		perror("mremap");
		exit(1);
	}
	kept[0] = q;
}

/* mremap grow in place: 2 pages reserved, 1 unmapped, the first grown back
 * to 2 in place; kept. */
static NOINLINE void remap_grow(void)
{
	char *p = map_anon(2 * PAGE, 0);
	munmap(p + PAGE, PAGE);
	char *q = mremap(p, PAGE, 2 * PAGE, 0);
	if (q != p) {
		perror("mremap");
		exit(1);
	}
	kept[0] = q;
}

/* MAP_FIXED over the middle of a tracked region: 4 pages, pages 1-2
 * replaced by a shared anonymous mapping (lost); the first page kept,
 * the last page lost. */
static NOINLINE void fixed_overlap(void)
{
	char *p = map_anon(4 * PAGE, 0);
	void *q = mmap(p + PAGE, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (q != p + PAGE) {
		perror("mmap");
		exit(1);
	}
	kept[0] = p;
}

/* A lost mapping holding the only pointer to another mapping and to a
 * heap block: the mapping is definitely lost and heads the other mapping,
 * indirectly lost; the heap block is indirectly lost too, in a loss
 * record of its own (heads are followed within their sort only). A kept
 * PROT_NONE mapping is never read. */
static NOINLINE void chain(void)
{
	void **outer = map_anon(PAGE, 0);
	outer[0] = map_anon(2 * PAGE, 0);
	outer[1] = malloc(24);
	outer = NULL;
	char *guard = map_anon(PAGE, 0);
	mprotect(guard, PAGE, PROT_NONE);
	kept[0] = guard;
}

/* Threads mapping and unmapping at once while a signal handler maps and
 * unmaps too: each of the 4 workers leaves one lost page; everything
 * else is unmapped. A deadlock or a lost update fails the test. */
#define WORKERS 4
#define ROUNDS 2000

static atomic_int running;

static void handler(int sig)
{
	(void)sig;
	int saved = errno;
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		munmap(p, PAGE);
	errno = saved;
}

/* Where nothing else was mapped before: an address the loader unmapped
 * (its ld.so.cache) can still be named by a stale pointer in its data,
 * which would keep a mapping given that address reachable. */
static NOINLINE void *map_anon_apart(size_t len)
{
	static atomic_uintptr_t next = 0x3f0000000000ul;
	void *hint = (void *)atomic_fetch_add(&next, 16 * PAGE);
	void *p = mmap(hint, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static NOINLINE void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		char *p = map_anon(3 * PAGE, i & 1);
		/* Split, then each part: not one munmap over the hole, which
		 * another thread's mmap may have been given meanwhile. */
		munmap(p + PAGE, PAGE);
		munmap(p, PAGE);
		munmap(p + 2 * PAGE, PAGE);
	}
	void *lost = map_anon_apart(PAGE);
	lost = NULL;
	(void)lost;
	atomic_fetch_sub(&running, 1);
	return NULL;
}

static NOINLINE void threads(void)
{
	pthread_t t[WORKERS];
	struct sigaction sa = { .sa_handler = handler };
	sigaction(SIGUSR1, &sa, NULL);
	atomic_store(&running, WORKERS);
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	while (atomic_load(&running) > 0) {
		for (int i = 0; i < WORKERS; i++)
			pthread_kill(t[i], SIGUSR1);
		usleep(200);
	}
	for (int i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
}

/* fork: the child inherits the parent's lost page and loses two of its
 * own; each process reports its own. */
static NOINLINE void forked(void)
{
	void *lost = map_anon(PAGE, 0);
	lost = NULL;
	(void)lost;
	pid_t pid = fork();
	if (pid == 0) {
		void *mine = map_anon(2 * PAGE, 0);
		mine = NULL;
		(void)mine;
		return;
	}
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		exit(1);
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	if (!strcmp(what, "private-anon"))
		private_anon();
	else if (!strcmp(what, "shared-anon"))
		shared_anon();
	else if (!strcmp(what, "private-file"))
		private_file(dir);
	else if (!strcmp(what, "shared-file"))
		shared_file(dir);
	else if (!strcmp(what, "partial"))
		partial();
	else if (!strcmp(what, "remap-move"))
		remap_move();
	else if (!strcmp(what, "remap-grow"))
		remap_grow();
	else if (!strcmp(what, "fixed-overlap"))
		fixed_overlap();
	else if (!strcmp(what, "chain"))
		chain();
	else if (!strcmp(what, "threads"))
		threads();
	else if (!strcmp(what, "fork"))
		forked();
	else {
		fprintf(stderr, "usage: %s SCENARIO [DIR]\n", argv[0]);
		return 2;
	}
	return 0;
}
