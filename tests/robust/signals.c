/* Signals: handlers that allocate, the program's own handler on the
 * tracer's report signal, and what sigaction and signal show the program
 * of every signal's disposition (the tracer's handlers must not show). */
#include "robust.h"

#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static void *ring[8];

static void allocating_handler(int sig)
{
	int saved = errno;
	size_t i = (size_t)handled % 8;
	free(ring[i]);
	ring[i] = malloc(37 + i);
	handled++;
	errno = saved;
}

static int do_handler_allocates(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = allocating_handler, .sa_flags = SA_RESTART };
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	volatile unsigned long spin = 0;
	while (handled < 50)
		spin++;
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	for (int i = 0; i < 8; i++)
		free(ring[i]);
	printf("the handler allocated at least 50 times\n");
	leak(71);
	return 0;
}

static volatile sig_atomic_t usr2_seen;

static void on_usr2(int sig)
{
	usr2_seen++;
}

static int do_own_report_signal(int argc, char **argv)
{
	signal(SIGUSR2, on_usr2);
	for (int i = 0; i < 3; i++)
		raise(SIGUSR2);
	printf("SIGUSR2 handled by the program %d times\n", (int)usr2_seen);
	leak(72);
	return 0;
}

static void show_action(int sig, const char *when)
{
	struct sigaction old;
	errno = 0;
	int rc = sigaction(sig, NULL, &old);
	int masked = 0;
	for (int s = 1; s < NSIG; s++)
		masked += sigismember(&old.sa_mask, s) == 1;
	printf("%-8s %2d: rc=%d errno=%s %s flags=0x%x masked=%d\n", when, sig, rc, err_name(errno),
	       rc ? "-" : (old.sa_flags & SA_SIGINFO) ? "handler(siginfo)"
		       : old.sa_handler == SIG_DFL ? "SIG_DFL"
		       : old.sa_handler == SIG_IGN ? "SIG_IGN" : "handler",
	       rc ? 0u : (unsigned)old.sa_flags, rc ? 0 : masked);
}

static void nothing(int sig)
{
}

static int do_dispositions(int argc, char **argv)
{
	for (int sig = 1; sig < NSIG; sig++)
		show_action(sig, "start");
	int sigs[] = { SIGTERM, SIGSEGV, SIGUSR2, SIGINT, SIGPIPE };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int sig = sigs[i];
		printf("signal(%d, SIG_DFL) gave %s\n", sig,
		       signal(sig, SIG_DFL) == SIG_DFL ? "SIG_DFL" : "other");
		show_action(sig, "dfl");
		printf("signal(%d, handler) gave %s\n", sig,
		       signal(sig, nothing) == SIG_DFL ? "SIG_DFL" : "other");
		show_action(sig, "handler");
		struct sigaction sa = { .sa_handler = SIG_DFL, .sa_flags = SA_NODEFER };
		sigaddset(&sa.sa_mask, SIGHUP);
		struct sigaction old;
		sigaction(sig, &sa, &old);
		printf("sigaction(%d, SIG_DFL) gave %s\n", sig,
		       old.sa_handler == nothing ? "the handler" : "other");
		show_action(sig, "dfl+flag");
		printf("signal(%d, SIG_IGN) gave %s\n", sig,
		       signal(sig, SIG_IGN) == SIG_DFL ? "SIG_DFL" : "other");
		show_action(sig, "ignored");
		signal(sig, SIG_DFL);
		show_action(sig, "dfl");
	}
	/* SA_SIGINFO with a null handler is SIG_DFL too. */
	struct sigaction info_dfl = { .sa_flags = SA_SIGINFO };
	sigaction(SIGINT, &info_dfl, NULL);
	show_action(SIGINT, "siginfo0");
	signal(SIGINT, SIG_DFL);
	errno = 0;
	printf("signal(SIGKILL, handler): %s errno=%s\n",
	       signal(SIGKILL, nothing) == SIG_ERR ? "SIG_ERR" : "accepted", err_name(errno));
	errno = 0;
	printf("signal(0, handler): %s errno=%s\n",
	       signal(0, nothing) == SIG_ERR ? "SIG_ERR" : "accepted", err_name(errno));
	errno = 0;
	printf("signal(NSIG, handler): %s errno=%s\n",
	       signal(NSIG, nothing) == SIG_ERR ? "SIG_ERR" : "accepted", err_name(errno));
	errno = 0;
	printf("signal(SIGTERM, SIG_ERR): %s errno=%s\n",
	       signal(SIGTERM, SIG_ERR) == SIG_ERR ? "SIG_ERR" : "accepted", err_name(errno));
	leak(73);
	return 0;
}

static const struct scenario scenarios[] = {
	{ "handler-allocates", do_handler_allocates },
	{ "own-report-signal", do_own_report_signal },
	{ "dispositions", do_dispositions },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return run_scenario(scenarios, argc, argv);
}
