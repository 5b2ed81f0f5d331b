#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "builtin.h"
#include "service.h"
#include "sig.h"
#include "spawn.h"

#define ENV_PATH "PATH=/usr/local/bin:/usr/bin:/bin"

struct env {
	char *vec[8];
	char rip[16 + ADDR_STRLEN], rport[24], lip[16 + ADDR_STRLEN], lport[24];
};

static void
env_addr(const struct sockaddr *sa, char *ipbuf, size_t iplen, const char *ipname,
    char *portbuf, size_t portlen, const char *portname)
{
	struct addr a;
	uint16_t port = 0;
	char s[ADDR_STRLEN] = "?";

	if (sa && addr_from_sockaddr(sa, &a, &port) == 0)
		addr_format(&a, s);
	snprintf(ipbuf, iplen, "%s=%s", ipname, s);
	snprintf(portbuf, portlen, "%s=%u", portname, port);
}

/* The whole environment of a handler: it inherits nothing from sockd. */
static void
env_build(struct env *e, const struct service *svc, const struct conn *c)
{
	size_t n = 0;

	e->vec[n++] = ENV_PATH;
	e->vec[n++] = svc->conf->proto == PROTO_TCP ? "PROTO=TCP" : "PROTO=UDP";
	e->vec[n++] = svc->env_service;
	if (c->peer) {
		env_addr(c->peer, e->rip, sizeof(e->rip), "TCPREMOTEIP",
		    e->rport, sizeof(e->rport), "TCPREMOTEPORT");
		env_addr(c->local, e->lip, sizeof(e->lip), "TCPLOCALIP",
		    e->lport, sizeof(e->lport), "TCPLOCALPORT");
		e->vec[n++] = e->rip;
		e->vec[n++] = e->rport;
		e->vec[n++] = e->lip;
		e->vec[n++] = e->lport;
	}
	e->vec[n] = NULL;
}

/* In the child: the connection on fds 0 and 1, its stderr on 2, nothing else. */
static int
child_fds(int fd, int errfd)
{
	if (dup2(fd, 0) == -1 || dup2(fd, 1) == -1)
		return -1;
	if (errfd != -1 && dup2(errfd, 2) == -1)
		return -1;
	/* Everything is close-on-exec already; this is the belt for built-ins. */
	(void)close_range(3, ~0U, 0);
	return 0;
}

/*
 * vfork() lends the child our memory until it execs, so the master pays
 * for no page-table copy. The child therefore only makes system calls, and
 * hands an exec failure back through exec_errno, which it shares with us.
 */
pid_t
spawn_server(const struct service *svc, const struct conn *c, int *exec_err)
{
	struct env env;
	volatile int exec_errno = 0;
	pid_t pid;

	env_build(&env, svc, c);
	pid = vfork();
	if (pid == 0) {
		if (child_fds(c->fd, c->errfd) == -1)
			exec_errno = errno;
		else {
			sig_child_reset();
			execve(svc->conf->server, svc->conf->argv, env.vec);
			exec_errno = errno;
		}
		_exit(127);
	}
	*exec_err = exec_errno;
	return pid;
}

pid_t
spawn_builtin(const struct service *svc, const struct conn *c)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (child_fds(c->fd, c->errfd) == -1)
			_exit(1);
		sig_child_reset();
		svc->conf->builtin->stream();
		_exit(0);
	}
	return pid;
}
