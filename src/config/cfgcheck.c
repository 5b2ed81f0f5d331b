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
#include "checkchild.h"
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

/* The child: loads path, writes its error lines and the verdict to out. */
static void __attribute__((noreturn))
child(void *arg, int out)
{
	const char *path = arg;
	struct cfgerr err = { 0 };
	struct config *cfg;
	char verdict;

	cfg = config_load(path, &err);
	verdict = cfg ? CFGCHECK_OK : CFGCHECK_FAILED;
	if (err.text && err.len > CFGCHECK_OUT_MAX - 1)
		err.len = CFGCHECK_OUT_MAX - 1;
	write_all(out, err.text ? err.text : "", err.len);
	write_all(out, &verdict, 1);
	_exit(0);
}

int
cfgcheck_start(struct cfgcheck *c, const char *path)
{
	return checkchild_start(&c->child, CFGCHECK_OUT_MAX, child, (void *)path);
}

bool
cfgcheck_running(const struct cfgcheck *c)
{
	return c->child.pid > 0;
}

int
cfgcheck_fd(const struct cfgcheck *c)
{
	return c->child.fd;
}

int
cfgcheck_read(struct cfgcheck *c)
{
	return checkchild_read(&c->child);
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
	const struct checkchild *cc = &c->child;
	char verdict = cc->len > 0 && !cc->overflow ? cc->out[cc->len - 1] : 0;
	bool answered = verdict == CFGCHECK_OK || verdict == CFGCHECK_FAILED;
	bool ran = cc->pid > 0;
	int status = checkchild_end(&c->child), rc = -1;

	if (verdict == CFGCHECK_OK)
		rc = 0;
	else if (verdict == CFGCHECK_FAILED)
		take_errors(err, cc->out, cc->len - 1);
	else if (ran && !answered && status != -1 && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGKILL)
		cfgerr_add(err, path, 0, "loading took longer than %d s: too "
		    "large, or a user or group lookup hangs",
		    CFGCHECK_TIMEOUT_MS / 1000);
	else if (status != -1 && WIFSIGNALED(status))
		cfgerr_add(err, path, 0, "loading it killed the checking "
		    "process (%s)", strsignal(WTERMSIG(status)));
	else if (status != -1)
		cfgerr_add(err, path, 0, "loading it ended the checking process "
		    "(exit status %d)", WEXITSTATUS(status));
	else
		cfgerr_add(err, path, 0, "the checking process gave no answer");
	checkchild_free(&c->child);
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
		struct pollfd pfd = { .fd = c.child.fd, .events = POLLIN };
		long long left = deadline - (long long)loop_now_ms();
		if (cfgcheck_read(&c) == 1 || left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			break;
	}
	return cfgcheck_finish(&c, path, err);
}
