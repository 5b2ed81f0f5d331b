/*
 * Checking a configuration in a child process. Owns the child and its
 * answer; never logs and never touches the daemon's state, so the master
 * can run a check while it serves.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfgcheck.h"
#include "loop.h"
#include "sig.h"

#define CFGCHECK_OK	'Y'
#define CFGCHECK_FAILED	'N'
/* More than any error list: a file has at most a few thousand errors. */
#define CFGCHECK_OUT_MAX (1024 * 1024)

static void
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0 && (n = write(fd, p, len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += n;
		len -= n;
	}
}

static void __attribute__((noreturn))
child(int fd, const char *path, pid_t parent)
{
	struct cfgerr err = { 0 };
	struct config *cfg;
	char verdict;

	/*
	 * It must not outlive the master, and a crash here is not the
	 * master's: no fatal-signal note, default dispositions.
	 */
	sig_child_reset();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	cfg = config_load(path, &err);
	verdict = cfg ? CFGCHECK_OK : CFGCHECK_FAILED;
	if (err.text && err.len > CFGCHECK_OUT_MAX - 1)
		err.len = CFGCHECK_OUT_MAX - 1;
	write_all(fd, err.text ? err.text : "", err.len);
	write_all(fd, &verdict, 1);
	_exit(0);
}

int
cfgcheck_start(struct cfgcheck *c, const char *path)
{
	pid_t parent = getpid();
	int p[2];

	*c = (struct cfgcheck){ .pid = -1, .fd = -1 };
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((c->pid = fork()) == -1) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (c->pid == 0) {
		close(p[0]);
		child(p[1], path, parent);
	}
	close(p[1]);
	c->fd = p[0];
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1) {
		int e = errno;
		cfgcheck_finish(c, path, &(struct cfgerr){ 0 });
		errno = e;
		return -1;
	}
	return 0;
}

int
cfgcheck_read(struct cfgcheck *c)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(c->fd, buf, sizeof(buf))) > 0) {
		char *p;
		if (c->len + n > CFGCHECK_OUT_MAX)
			return 1;	/* not an answer the child gives */
		if ((p = realloc(c->out, c->len + n)) == NULL)
			return 1;
		memcpy(p + c->len, buf, n);
		c->out = p;
		c->len += n;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return 1;
}

/* Adds the child's error lines to err, each counted. */
static void
take_errors(struct cfgerr *err, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if (nl > p) {
			/* Already "FILE:LINE: message"; kept as the child wrote it. */
			char *t = realloc(err->text, err->len + (nl - p) + 2);
			if (t == NULL)
				return;
			memcpy(t + err->len, p, nl - p);
			err->len += nl - p;
			t[err->len++] = '\n';
			t[err->len] = '\0';
			err->text = t;
			err->count++;
		}
	}
}

int
cfgcheck_finish(struct cfgcheck *c, const char *path, struct cfgerr *err)
{
	char verdict = c->len > 0 ? c->out[c->len - 1] : 0;
	int status = 0, rc = -1;
	bool answered = verdict == CFGCHECK_OK || verdict == CFGCHECK_FAILED;
	pid_t w = 0;

	if (c->pid > 0) {
		if (!answered)
			kill(c->pid, SIGKILL);
		/* After its answer the child only exits; after SIGKILL too. */
		while ((w = waitpid(c->pid, &status, 0)) == -1 && errno == EINTR)
			;
	}
	if (verdict == CFGCHECK_OK)
		rc = 0;
	else if (verdict == CFGCHECK_FAILED)
		take_errors(err, c->out, c->len - 1);
	else if (w == c->pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		cfgerr_add(err, path, 0, "loading took longer than %d s: too "
		    "large, or a user or group lookup hangs",
		    CFGCHECK_TIMEOUT_MS / 1000);
	else if (w == c->pid && WIFSIGNALED(status))
		cfgerr_add(err, path, 0, "loading it killed the checking "
		    "process (%s)", strsignal(WTERMSIG(status)));
	else if (w == c->pid)
		cfgerr_add(err, path, 0, "loading it ended the checking process "
		    "(exit status %d)", WEXITSTATUS(status));
	else
		cfgerr_add(err, path, 0, "the checking process gave no answer");
	if (c->fd != -1)
		close(c->fd);
	free(c->out);
	*c = (struct cfgcheck){ .pid = -1, .fd = -1 };
	return rc;
}

int
cfgcheck_run(const char *path, int ms, struct cfgerr *err)
{
	struct cfgcheck c;
	long long deadline = (long long)loop_now_ms() + ms;

	if (cfgcheck_start(&c, path) == -1) {
		cfgerr_add(err, path, 0, "cannot start checking it: %s",
		    strerror(errno));
		return -1;
	}
	for (;;) {
		struct pollfd pfd = { .fd = c.fd, .events = POLLIN };
		long long left = deadline - (long long)loop_now_ms();
		if (cfgcheck_read(&c) == 1 || left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			break;
	}
	return cfgcheck_finish(&c, path, err);
}
