#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "builtin.h"
#include "service.h"
#include "sig.h"
#include "spawn.h"

/* The per-connection variables; the service's template follows them. */
struct env {
	char rip[16 + ADDR_STRLEN], rport[24], lip[16 + ADDR_STRLEN], lport[24];
	char connnum[32];
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

/*
 * The whole environment of a handler: it inherits nothing from sockd but
 * what the configuration names (PATH, env, passenv, kept in svc->envv after
 * the connection slots). Returns the vector to pass to execve().
 */
static char **
env_build(struct env *e, const struct service *svc, const struct conn *c)
{
	char *vars[8];
	size_t n = 0;

	vars[n++] = svc->conf->proto == PROTO_TCP ? "PROTO=TCP" : "PROTO=UDP";
	vars[n++] = svc->env_service;
	snprintf(e->connnum, sizeof(e->connnum), "TCPCONNNUM=%u", svc->nchildren + 1);
	vars[n++] = e->connnum;
	if (c->peer) {
		env_addr(c->peer, e->rip, sizeof(e->rip), "TCPREMOTEIP",
		    e->rport, sizeof(e->rport), "TCPREMOTEPORT");
		env_addr(c->local, e->lip, sizeof(e->lip), "TCPLOCALIP",
		    e->lport, sizeof(e->lport), "TCPLOCALPORT");
		vars[n++] = e->rip;
		vars[n++] = e->rport;
		vars[n++] = e->lip;
		vars[n++] = e->lport;
	}
	/* The master spawns one child at a time, so the slots can be reused. */
	memcpy(svc->envv + svc->nconnenv - n, vars, n * sizeof(char *));
	return svc->envv + svc->nconnenv - n;
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
 * The process set-up the configuration asks for. It runs after vfork(), so
 * it only makes system calls on values resolved at load time. Limits and
 * priority come first, while the child may still raise them; the ids are
 * dropped last but for chdir, which then happens with the handler's rights.
 * Returns what failed (errno set), or NULL.
 */
static const char *
child_setup(const struct svc_conf *sc)
{
	for (size_t i = 0; i < sc->nrlimits; i++) {
		struct rlimit rl = { sc->rlimits[i].value, sc->rlimits[i].value };
		if (setrlimit(sc->rlimits[i].resource, &rl) == -1)
			return "setrlimit";
	}
	if (sc->set_nice && setpriority(PRIO_PROCESS, 0, sc->nice) == -1)
		return "setpriority";
	if (sc->umask >= 0)
		(void)umask(sc->umask);
	/* Without root the ids are already right: master_open() checked. */
	if (sc->set_ids && geteuid() == 0) {
		if (setgroups(sc->ngroups, sc->groups) == -1)
			return "setgroups";
		if (setgid(sc->gid) == -1)
			return "setgid";
		if (setuid(sc->uid) == -1)
			return "setuid";
		if (sc->uid != 0 && setuid(0) != -1) {
			errno = EPERM;
			return "dropping root for good";
		}
	}
	if (sc->chdir && chdir(sc->chdir) == -1)
		return "chdir";
	return NULL;
}

/*
 * vfork() lends the child our memory until it execs, so the master pays
 * for no page-table copy. The child therefore only makes system calls, and
 * hands a failure back through exec_errno and step, which it shares with us.
 */
pid_t
spawn_server(const struct service *svc, const struct conn *c, int *exec_err,
    const char **what)
{
	struct env env;
	char **envp = env_build(&env, svc, c);
	volatile int exec_errno = 0;
	const char *volatile step = "execve";
	pid_t pid;

	pid = vfork();
	if (pid == 0) {
		const char *failed;
		if (child_fds(c->fd, c->errfd) == -1) {
			exec_errno = errno;
			step = "dup2";
		} else if ((failed = child_setup(svc->conf)) != NULL) {
			exec_errno = errno;
			step = failed;
		} else {
			sig_child_reset();
			execve(svc->conf->server, svc->conf->argv, envp);
			exec_errno = errno;
		}
		_exit(127);
	}
	*exec_err = exec_errno;
	*what = step;
	return pid;
}

pid_t
spawn_builtin(const struct service *svc, const struct conn *c)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (child_fds(c->fd, c->errfd) == -1 || child_setup(svc->conf) != NULL)
			_exit(1);
		sig_child_reset();
		svc->conf->builtin->stream();
		_exit(0);
	}
	return pid;
}
