#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sig.h"

static const int handled[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };

static void
handled_set(sigset_t *set, bool children)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaddset(set, handled[i]);
	if (children)
		sigaddset(set, SIGCHLD);
}

/*
 * glibc refuses to touch the signals it reserves for threads (32, 33), yet
 * an ignored disposition there, inherited from our parent, would pass on to
 * every handler. sockd has no threads, so the kernel call is safe.
 */
static void
default_reserved(int sig)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} ksa = { .handler = SIG_DFL };

	(void)syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
}

/* Returns a signalfd for the daemon's signals, or -1 with errno. */
int
sig_init(void)
{
	sigset_t set;
	struct sigaction sa = { .sa_handler = SIG_DFL };

	/*
	 * Dispositions ignored by whoever started us would pass to every
	 * handler through exec; start from the defaults instead, so a child
	 * only has SIGPIPE to restore.
	 */
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP && sigaction(s, &sa, NULL) == -1 &&
		    errno == EINVAL)
			default_reserved(s);
	/* A client that goes away must cost an EPIPE, not the master. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return -1;
	/* SIGCHLD stays blocked, but is read only while sig_children() says. */
	handled_set(&set, true);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	handled_set(&set, false);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int
sig_children(int fd, bool on)
{
	sigset_t set;

	handled_set(&set, on);
	return signalfd(fd, &set, 0) == -1 ? -1 : 0;
}

/*
 * The pending signals, up to max, into sigs; returns how many (0: none) or
 * -1 on error. Standard signals are pending once each, so one call with
 * room for them all leaves none behind.
 */
int
sig_read(int fd, int *sigs, size_t max)
{
	struct signalfd_siginfo si[SIG_READ_MAX];
	ssize_t n;

	if (max > SIG_READ_MAX)
		max = SIG_READ_MAX;
	do
		n = read(fd, si, max * sizeof(si[0]));
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	n /= sizeof(si[0]);
	for (ssize_t i = 0; i < n; i++)
		sigs[i] = (int)si[i].ssi_signo;
	return (int)n;
}

/*
 * Gives a child the signal state a fresh program expects: default
 * dispositions (sig_init left only SIGPIPE changed) and nothing blocked.
 * Only system calls, since it runs between vfork() and execve().
 */
void
sig_child_reset(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t empty;

	(void)sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&empty);
	(void)sigprocmask(SIG_SETMASK, &empty, NULL);
}
