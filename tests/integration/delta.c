/* A service for the delta tests: it leaks 100-byte blocks from one site
 * and grows a reachable list of 48-byte nodes from another, in phases.
 * After each phase it says so on standard output and waits for a line on
 * standard input, so a test can ask for a report (leaktrace signal PID)
 * while the program's heap is exactly known, then let it go on. A block
 * made once at start-up stays the same throughout.
 * With "fork": one report, then a fork; the child leaks one more block,
 * asks for a report of its own and exits. */
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct node {
	struct node *next;
	char payload[40];
};

static struct node *list;
void *config;
void *volatile sink;

__attribute__((noinline)) static void leak_blocks(int n)
{
	for (int i = 0; i < n; i++) {
		sink = malloc(100);
		memset(sink, 7, 100);
	}
	sink = NULL;
}

__attribute__((noinline)) static void grow_list(int n)
{
	for (int i = 0; i < n; i++) {
		struct node *nd = malloc(sizeof(*nd));
		memset(nd->payload, 1, sizeof(nd->payload));
		nd->next = list;
		list = nd;
	}
}

static void phase_done(int phase)
{
	char line[16];
	printf("phase %d\n", phase);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		exit(3);
}

/* A report, then a child that makes its own: its first report must have
 * no deltas (it starts afresh), its exit report deltas against that. */
static int fork_mode(void)
{
	leak_blocks(3);
	raise(SIGUSR2);
	usleep(300000);
	pid_t child = fork();
	if (child == 0) {
		leak_blocks(1);
		raise(SIGUSR2);
		usleep(300000);
		exit(0);
	}
	int status = 1;
	waitpid(child, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "fork") == 0)
		return fork_mode();
	/* One call site each, so each site is one loss record throughout. */
	static const int leaks[] = { 3, 2, 1 }, grows[] = { 4, 6, 0 };
	/* stdin's buffer first, so it is not counted as a change later. */
	setvbuf(stdin, NULL, _IONBF, 0);
	config = malloc(64);
	for (int phase = 1; phase <= 3; phase++) {
		leak_blocks(leaks[phase - 1]);
		grow_list(grows[phase - 1]);
		if (phase < 3)
			phase_done(phase);
	}
	printf("done\n");
	return 0;
}
