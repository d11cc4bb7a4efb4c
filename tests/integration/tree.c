/* tree: a process tree for the --error-exitcode tests (check_compat.py
 * tree). The parent never leaks and exits 0 whatever its child does.
 *
 *   tree fork-leak           a forked child leaks 64 bytes and exits 0
 *   tree exec PROG [ARGS]    a forked child executes PROG
 *   tree clean               no child, no leak */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

__attribute__((noinline)) static void child_leak(void)
{
	sink = malloc(64);
	sink = NULL;
}

int main(int argc, char **argv)
{
	pid_t pid;
	int status;
	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "clean") == 0)
		return 0;
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		if (strcmp(argv[1], "fork-leak") == 0) {
			child_leak();
			exit(0);
		}
		if (strcmp(argv[1], "exec") == 0 && argc > 2)
			execv(argv[2], argv + 2);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 2;
	printf("tree: child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
