/*
 * The checking child (checkchild.h): fork, pidfd, pipe, bounded output,
 * kill and wait through the pidfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkchild.h"
#include "forked.h"
#include "sig.h"

int
checkchild_start(struct checkchild *c, size_t max,
    void (*fn)(void *arg, int out), void *arg)
{
	pid_t parent = getpid();
	int p[2];

	*c = (struct checkchild){ .pid = -1, .pidfd = -1, .fd = -1, .max = max };
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((c->pid = fork()) == -1) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		checkchild_free(c);
		errno = e;
		return -1;
	}
	if (c->pid == 0) {
		/*
		 * It must not outlive the master, and its crash is not ours.
		 * It keeps its descriptors: fn may use what its caller opened
		 * for it (the upgrade's snapshot of the state), and the master's
		 * are close-on-exec for the program the upgrade's check runs.
		 */
		sig_child_reset();
		if (forked_tie(parent) == -1)
			_exit(1);
		close(p[0]);
		fn(arg, p[1]);
		_exit(127);
	}
	/* Before the loop can reap it: the pidfd is this child's for good. */
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	close(p[1]);
	c->fd = p[0];
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1) {
		int e = errno;
		(void)checkchild_end(c);
		checkchild_free(c);
		errno = e;
		return -1;
	}
	return 0;
}

int
checkchild_read(struct checkchild *c)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(c->fd, buf, sizeof(buf))) > 0) {
		size_t room = c->max - c->len;
		char *o;
		if ((size_t)n > room) {
			c->overflow = true;
			n = (ssize_t)room;
		}
		/* Grown as it comes: most answers are a line or two. */
		if ((o = realloc(c->out, c->len + (size_t)n + 1)) == NULL)
			return 1;
		c->out = o;
		memcpy(c->out + c->len, buf, (size_t)n);
		c->len += (size_t)n;
		c->out[c->len] = '\0';
		if (c->overflow)
			return 1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return 1;
}

int
checkchild_end(struct checkchild *c)
{
	siginfo_t si = { 0 };
	int status = -1, r;

	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->pid <= 0)
		return -1;
	if (c->pidfd != -1) {
		(void)syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
		while ((r = waitid(P_PIDFD, c->pidfd, &si, WEXITED)) == -1 &&
		    errno == EINTR)
			;
		if (r == 0)
			status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) :
			    W_EXITCODE(0, si.si_status);
		close(c->pidfd);
		c->pidfd = -1;
	} else {
		/* No pidfd: the pid is ours as long as nobody has waited. */
		(void)kill(c->pid, SIGKILL);
		while ((r = waitpid(c->pid, &status, 0)) == -1 && errno == EINTR)
			;
		if (r != c->pid)
			status = -1;
	}
	c->pid = -1;
	return status;
}

void
checkchild_free(struct checkchild *c)
{
	free(c->out);
	c->out = NULL;
	c->len = 0;
}
