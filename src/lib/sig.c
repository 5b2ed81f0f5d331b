/*
 * Signals as events: the daemon's signals blocked and read from a
 * signalfd by the loop; fatal faults noted on stderr; children given back
 * default dispositions and an empty mask before they exec.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sig.h"

/* The kernel's signals: 1 to 64, the real-time ones from 32. */
#define KSIG_MAX (SIG_NUM - 1)
#define KSIG_RTMIN 32

/* The signals the daemon acts on (master.c). */
static const int handled[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1,
    SIGUSR2 };

/*
 * Signals sockd has no use for, whose default action would end it without
 * a word and leave its pidfile: read like the others, and logged as
 * ignored. So are the real-time signals, 32 to 64.
 */
static const int unused[] = { SIGALRM, SIGVTALRM, SIGPROF, SIGIO,
    SIGPWR, SIGXCPU,
#ifdef SIGSTKFLT
    SIGSTKFLT,
#endif
};

/*
 * Raised by our own writes (to a client gone, past RLIMIT_FSIZE), which
 * report the trouble themselves: ignored.
 */
static const int ignored[] = { SIGPIPE, SIGXFSZ };

/* Synchronous faults: they cannot wait for the loop. */
static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGSYS, SIGABRT };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* What on_fatal() needs, made beforehand: it can call nothing but the
 * kernel. */
static char fatal_msg[NELEM(fatal)][80];
static char fatal_pidfile[PATH_MAX];
static pid_t fatal_pid;

/*
 * Adds sig to set, even 32 and 33, which glibc's sigaddset() refuses as it
 * reserves them for threads; sockd has none.
 */
static void
set_add(sigset_t *set, int sig)
{
	const unsigned bits = sizeof(unsigned long) * CHAR_BIT;

	set->__val[(sig - 1) / bits] |= 1UL << ((sig - 1) % bits);
}

static void
read_set(sigset_t *set, bool children)
{
	sigemptyset(set);
	for (size_t i = 0; i < NELEM(handled); i++)
		set_add(set, handled[i]);
	for (size_t i = 0; i < NELEM(unused); i++)
		set_add(set, unused[i]);
	for (int s = KSIG_RTMIN; s <= KSIG_MAX; s++)
		set_add(set, s);
	if (children)
		set_add(set, SIGCHLD);
}

/* sigaction() by the kernel call, which glibc refuses for 32 and 33. */
static int
raw_sigaction(int sig, void (*handler)(int))
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} ksa = { .handler = (void *)handler };

	return (int)syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
}

/*
 * Notes the signal on stderr and removes the pidfile, then lets the
 * default action end the process (SA_RESETHAND restored it), so the exit
 * status and any core dump tell what happened. Only async-signal-safe
 * calls; a forked child that has not yet reset its handlers leaves the
 * pidfile alone.
 */
static void
on_fatal(int sig)
{
	for (size_t i = 0; i < NELEM(fatal); i++)
		if (fatal[i] == sig)
			(void)write(2, fatal_msg[i], strlen(fatal_msg[i]));
	if (fatal_pidfile[0] != '\0' && getpid() == fatal_pid)
		(void)unlink(fatal_pidfile);
	(void)raise(sig);
}

/* Returns a signalfd for the daemon's signals, or -1 with errno. */
int
sig_init(void)
{
	sigset_t set;
	struct sigaction sa = { .sa_handler = SIG_DFL };

	/*
	 * Dispositions ignored by whoever started us would pass to every
	 * handler through exec; start from the defaults instead.
	 */
	for (int s = 1; s <= KSIG_MAX; s++)
		if (s != SIGKILL && s != SIGSTOP && sigaction(s, &sa, NULL) == -1 &&
		    errno == EINVAL)
			(void)raw_sigaction(s, SIG_DFL);
	sa.sa_handler = SIG_IGN;
	for (size_t i = 0; i < NELEM(ignored); i++)
		if (sigaction(ignored[i], &sa, NULL) == -1)
			return -1;
	sa = (struct sigaction){ .sa_handler = on_fatal,
	    .sa_flags = SA_RESETHAND | SA_NODEFER };
	for (size_t i = 0; i < NELEM(fatal); i++) {
		snprintf(fatal_msg[i], sizeof(fatal_msg[i]),
		    "sockd: fatal signal %d (%s)\n", fatal[i], strsignal(fatal[i]));
		if (sigaction(fatal[i], &sa, NULL) == -1)
			return -1;
	}
	/*
	 * SIGCHLD stays blocked, but is read only while sig_children() says.
	 * The kernel call, as glibc would leave 32 and 33 out.
	 */
	read_set(&set, true);
	if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, KSIG_MAX / 8) == -1)
		return -1;
	read_set(&set, false);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

void
sig_fatal_pidfile(const char *path)
{
	fatal_pidfile[0] = '\0';
	if (path && strlen(path) < sizeof(fatal_pidfile))
		memcpy(fatal_pidfile, path, strlen(path) + 1);
	fatal_pid = getpid();
}

int
sig_children(int fd, bool on)
{
	sigset_t set;

	read_set(&set, on);
	return signalfd(fd, &set, 0) == -1 ? -1 : 0;
}

/*
 * The pending signals, up to max, into sigs; returns how many (0: none) or
 * -1 on error. Real-time signals queue, so a caller whose call filled max
 * reads again.
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
 * dispositions (sig_init changed only the ignored and the fatal ones; a
 * built-in child is not exec'd, so its fatal handlers would stay) and
 * nothing blocked. Only system calls, since in a server's child it runs in
 * the master's memory, between clone() and execve().
 */
void
sig_child_reset(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t empty;

	for (size_t i = 0; i < NELEM(ignored); i++)
		(void)sigaction(ignored[i], &sa, NULL);
	for (size_t i = 0; i < NELEM(fatal); i++)
		(void)sigaction(fatal[i], &sa, NULL);
	sigemptyset(&empty);
	(void)sigprocmask(SIG_SETMASK, &empty, NULL);
}
