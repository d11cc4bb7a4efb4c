/* Processes: fork (a leak on each side, each process reporting its own),
 * fork from a signal handler, fork while other threads allocate, vfork,
 * posix_spawn, system and popen, and a chain of execs. */
#include "robust.h"

#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void print_status(const char *who, int status)
{
	if (WIFEXITED(status))
		printf("%s: exit %d\n", who, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("%s: signal %d\n", who, WTERMSIG(status));
	fflush(stdout);
}

static int do_fork(int argc, char **argv)
{
	leak(41);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		leak(42);
		printf("child leaks 42 and exits 3\n");
		exit(3);
	}
	int status;
	waitpid(pid, &status, 0);
	print_status("child", status);
	return 0;
}

static volatile sig_atomic_t child_from_handler;

static void fork_in_handler(int sig)
{
	pid_t pid = fork();
	if (pid == 0) {
		static const char msg[] = "child forked in a signal handler: _exit(5)\n";
		write(1, msg, sizeof(msg) - 1);
		_exit(5);
	}
	child_from_handler = pid;
}

static int do_fork_in_handler(int argc, char **argv)
{
	leak(43);
	signal(SIGALRM, fork_in_handler);
	fflush(stdout);
	raise(SIGALRM);
	int status;
	waitpid(child_from_handler, &status, 0);
	print_status("child", status);
	return 0;
}

static atomic_bool stop;

static void *churn(void *arg)
{
	while (!atomic_load(&stop)) {
		void *p = malloc(16 + (uintptr_t)arg * 8);
		void *q = realloc(p, 200);
		free(q);
	}
	return NULL;
}

static int do_fork_threads(int argc, char **argv)
{
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)i);
	leak(44);
	fflush(stdout);
	for (int i = 0; i < 10; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			/* The allocator must work in the child, whatever the
			 * other threads were doing when it forked. */
			void *p = malloc(100);
			free(p);
			exit(i);
		}
		int status;
		waitpid(pid, &status, 0);
		printf("child %d: exit %d\n", i, WEXITSTATUS(status));
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static int do_vfork(int argc, char **argv)
{
	leak(45);
	fflush(stdout);
	pid_t pid = vfork();
	if (pid == 0)
		_exit(6);   /* shares our memory: must not report */
	int status;
	waitpid(pid, &status, 0);
	print_status("vfork child", status);
	pid = vfork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "echo vfork and exec; exit 4", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	print_status("vfork+exec child", status);
	/* The children's _exit ran in our memory: ours must still report. */
	_exit(0);
}

static int do_spawn(int argc, char **argv)
{
	leak(46);
	fflush(stdout);
	char *args[] = { "sh", "-c", "echo spawned; exit 2", NULL };
	pid_t pid;
	int rc = posix_spawn(&pid, "/bin/sh", NULL, NULL, args, environ);
	int status;
	waitpid(pid, &status, 0);
	printf("posix_spawn rc=%d\n", rc);
	print_status("spawned", status);
	rc = posix_spawnp(&pid, "no-such-program-here", NULL, NULL, args, environ);
	printf("posix_spawnp of a missing program: %s\n", err_name(rc));
	return 0;
}

static int do_system_popen(int argc, char **argv)
{
	leak(47);
	fflush(stdout);
	int status = system("echo from system; exit 3");
	print_status("system", status);
	FILE *f = popen("echo from popen; echo line 2", "r");
	char line[100];
	while (fgets(line, sizeof(line), f))
		printf("popen read: %s", line);
	print_status("pclose", pclose(f));
	f = popen("cat > popen-out.txt", "w");
	fputs("written through popen\n", f);
	print_status("pclose (w)", pclose(f));
	return 0;
}

/* exec keeps the process: each image leaks, only the last one's leaks
 * are left at the end. */
static int do_exec_chain(int argc, char **argv)
{
	int depth = argc > 2 ? atoi(argv[2]) : 3;
	leak((size_t)(50 + depth));
	printf("image %d\n", depth);
	fflush(stdout);
	if (depth == 0)
		return 0;
	char next[16];
	snprintf(next, sizeof(next), "%d", depth - 1);
	execl("/proc/self/exe", argv[0], "exec-chain", next, (char *)NULL);
	perror("exec");
	return 1;
}

static const struct scenario scenarios[] = {
	{ "fork", do_fork },
	{ "fork-in-handler", do_fork_in_handler },
	{ "fork-threads", do_fork_threads },
	{ "vfork", do_vfork },
	{ "posix-spawn", do_spawn },
	{ "system-popen", do_system_popen },
	{ "exec-chain", do_exec_chain },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return run_scenario(scenarios, argc, argv);
}
