/* A hostile process environment: an address-space limit so small that
 * allocations fail, every descriptor closed, the descriptor table full,
 * fd 2 closed and reused for a file of the program's, the working
 * directory removed, the environment cleared. */
#include "robust.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t address_space_now(void)
{
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* Allocates blocks of size until one fails; frees them all. Returns
 * whether a NULL came, and its errno. */
static int exhaust(size_t size, int *err)
{
	void **list = NULL;
	size_t n = 0;
	int got_null = 0;
	*err = 0;
	for (size_t i = 0; i < (1u << 22); i++) {
		errno = 0;
		void **p = malloc(size < sizeof(void *) ? sizeof(void *) : size);
		if (!p) {
			got_null = 1;
			*err = errno;
			break;
		}
		p[0] = list;
		list = p;
		n++;
	}
	while (list) {
		void **next = list[0];
		free(list);
		list = next;
	}
	return got_null;
}

static int do_rlimit_as(int argc, char **argv)
{
	leak(81);
	fflush(stdout);
	size_t now = address_space_now();
	struct rlimit rl = { now + (48 << 20), now + (48 << 20) };
	if (setrlimit(RLIMIT_AS, &rl) != 0) {
		perror("setrlimit");
		return 1;
	}
	int err;
	int null = exhaust(1 << 20, &err);
	printf("1 MiB blocks: NULL %s, errno=%s\n", null ? "seen" : "never", err_name(err));
	null = exhaust(100, &err);
	printf("100-byte blocks: NULL %s, errno=%s\n", null ? "seen" : "never", err_name(err));
	errno = 0;
	void *p = calloc(1, 1 << 30);
	printf("calloc 1 GiB: %s errno=%s\n", p ? "ptr" : "NULL", err_name(errno));
	p = malloc(1000);
	printf("after freeing: malloc(1000) %s\n", p ? "works" : "fails");
	free(p);
	fflush(stdout);
	return 0;
}

static int do_fds_closed(int argc, char **argv)
{
	for (int fd = 0; fd < 1024; fd++)
		close(fd);
	leak(82);
	char *p = malloc(5000);
	free(p);
	return 0;
}

static int do_fd_table_full(int argc, char **argv)
{
	/* The soft limit only, as shells' ulimit -Sn does. */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 64;
	setrlimit(RLIMIT_NOFILE, &rl);
	int n = 0, last = -1;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0) {
			printf("open failed after %d more: %s (last fd %d)\n", n, err_name(errno), last);
			break;
		}
		last = fd;
		n++;
	}
	leak(83);
	fflush(stdout);
	return 0;
}

static int do_fd2_reused(int argc, char **argv)
{
	close(2);
	int fd = open("own-file.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	printf("the program's file got fd %d\n", fd);
	fflush(stdout);
	dprintf(fd, "the program's own line\n");
	leak(84);
	return 0;
}

static int do_cwd_removed(int argc, char **argv)
{
	mkdir("gone", 0755);
	if (chdir("gone") != 0 || rmdir("../gone") != 0) {
		perror("chdir/rmdir");
		return 1;
	}
	char buf[256];
	printf("getcwd: %s (%s)\n", getcwd(buf, sizeof(buf)) ? "ok" : "fails", err_name(errno));
	leak(85);
	return 0;
}

static int do_env_cleared(int argc, char **argv)
{
	clearenv();
	setenv("ONLY", "this", 1);
	leak(86);
	printf("environment cleared, ONLY=%s\n", getenv("ONLY"));
	return 0;
}

static const struct scenario scenarios[] = {
	{ "rlimit-as", do_rlimit_as },
	{ "fds-closed", do_fds_closed },
	{ "fd-table-full", do_fd_table_full },
	{ "fd2-reused", do_fd2_reused },
	{ "cwd-removed", do_cwd_removed },
	{ "env-cleared", do_env_cleared },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return run_scenario(scenarios, argc, argv);
}
