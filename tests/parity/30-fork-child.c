/* fork-child: a forked child (no exec) with leaks of its own. Each process
 * writes its own report: valgrind does so with its default
 * --child-silent-after-fork=no (--trace-children only concerns exec), and
 * so does leaktrace. The runner (--fork) compares the parent's report
 * with valgrind's parent, and the child's with valgrind's child.
 *
 * Before the fork the parent keeps 32 bytes in a global (both processes
 * have it: still reachable in each report).
 *   child: drops 40 bytes (definitely lost, malloc <- make_block <-
 *     child_work <- main), keeps 24 in a global (still reachable, second
 *     line of child_work), exits with exit(0)
 *   parent: waits for the child, drops 56 bytes (definitely lost, malloc
 *     <- make_block <- parent_work <- main), exits 0 when the child did
 * HEAP SUMMARY counts, in each, what the process allocated from its start
 * (the child inherits the parent's counts up to the fork). */
#include <sys/wait.h>
#include <unistd.h>

#include "parity.h"

void *g_before;
void *g_child;

EX_FRAME static void *make_block(size_t n)
{
	void *p = malloc(n);
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME static int child_work(void)
{
	void *dropped = make_block(40); /* LEAK in the child */
	ex_use(dropped);
	g_child = make_block(24);       /* reachable in the child */
	return g_child ? 0 : 1;
}

EX_FRAME static int parent_work(void)
{
	void *dropped = make_block(56); /* LEAK in the parent */
	ex_use(dropped);
	return dropped ? 0 : 1;
}

int main(void)
{
	g_before = make_block(32); /* reachable in both */
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		int r = child_work();
		pt_scrub_stack();
		exit(r);
	}
	int status = 0;
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	int r = parent_work();
	pt_scrub_stack();
	return r || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}
