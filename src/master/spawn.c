/*
 * Starting a handler: clone() sharing the master's memory until the
 * execve() (a jailed one as a copy of its own), the connection placed on
 * 0 and 1, limits, ids, process group or session, the jail; a built-in
 * as a real fork().
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "addr.h"
#include "builtin.h"
#include "connenv.h"
#include "config.h"
#include "jail.h"
#include "service.h"
#include "sig.h"
#include "forked.h"
#include "spawn.h"

/*
 * The whole environment of a handler: it inherits nothing from sockd but
 * what the configuration names (PATH, env, passenv, kept in svc->envv after
 * the connection slots). Returns the vector to pass to execve().
 */
static char **
env_build(struct connenv *e, const struct service *svc, const struct conn *c)
{
	struct connenv_in in = { .accepted = c->peer != NULL,
	    .peer = c->known ? &c->addr : NULL, .port = c->port, .local = c->local,
	    .cred = c->cred, .connnum = c->connnum, .proxy = c->proxyenv,
	    .tls = c->tlsenv };

	connenv_build(e, svc->conf, svc->env_service, &in);
	/* The master spawns one child at a time, so the slots can be reused. */
	memcpy(svc->envv + svc->nconnenv - e->n, e->v, e->n * sizeof(char *));
	return svc->envv + svc->nconnenv - e->n;
}

/*
 * The process set-up the configuration asks for. It runs in the child of
 * spawn_server(), which shares the master's memory until execve(), as well
 * as after the fork() of spawn_builtin(), so it only makes system calls on
 * values resolved at load time. Limits and
 * priority come first, while the child may still raise them; the ids are
 * dropped last but for chdir, which then happens with the handler's rights.
 * Returns the step that failed (errno set), or SPAWN_OK.
 */
static enum spawn_step
child_setup(const struct svc_conf *sc, uid_t own_id)
{
	for (size_t i = 0; i < sc->nrlimits; i++) {
		struct rlimit rl = { sc->rlimits[i].value, sc->rlimits[i].value };
		if (setrlimit(sc->rlimits[i].resource, &rl) == -1)
			return SPAWN_RLIMIT;
	}
	if (sc->set_nice && setpriority(PRIO_PROCESS, 0, sc->nice) == -1)
		return SPAWN_NICE;
	if (sc->umask >= 0)
		(void)umask(sc->umask);
	/* A jailed handler's id of its own: that uid and gid, nothing more. */
	if (own_id != 0) {
		if (setgroups(0, NULL) == -1)
			return SPAWN_GROUPS;
		if (setgid(own_id) == -1)
			return SPAWN_SETGID;
		if (setuid(own_id) == -1)
			return SPAWN_SETUID;
		if (setuid(0) != -1) {
			errno = EPERM;
			return SPAWN_KEEP_ROOT;
		}
	/* Without root the ids are already right: master_open() checked. */
	} else if (sc->set_ids && geteuid() == 0) {
		if (setgroups(sc->ngroups, sc->groups) == -1)
			return SPAWN_GROUPS;
		if (setgid(sc->gid) == -1)
			return SPAWN_SETGID;
		if (setuid(sc->uid) == -1)
			return SPAWN_SETUID;
		if (sc->uid != 0 && setuid(0) != -1) {
			errno = EPERM;
			return SPAWN_KEEP_ROOT;
		}
	}
	if (sc->chdir && chdir(sc->chdir) == -1)
		return SPAWN_CHDIR;
	return SPAWN_OK;
}

/*
 * Every handler leads a process group of its own: a "kill 0" in it, or a
 * signal from a terminal, reaches its own processes and never the master
 * or other handlers; and the master ends the whole group (start_kill()).
 * Not a session, as the BSD inetds make: where the kernel groups tasks by
 * session for the scheduler (CONFIG_SCHED_AUTOGROUP, Debian's default),
 * setsid() builds a scheduling group per handler, which cost hello-tcp a
 * sixth of its connections per second, for no isolation a daemon without
 * a terminal needs. It is done in the child, which the clone() of
 * spawn_server() makes a process of its own even where it shares the
 * master's memory, so the call changes the child alone.
 */
static enum spawn_step
new_group(void)
{
	return setpgid(0, 0) == -1 ? SPAWN_GROUP : SPAWN_OK;
}

/*
 * A jailed handler leads a session of its own instead: a terminal sockd
 * was started on (stderr = "inherit") is then not its controlling
 * terminal, so it cannot push input into it (TIOCSTI) even where its
 * filter would let the ioctl through. In a pid namespace of its own the
 * scheduling group this makes costs little beside the jail.
 */
static enum spawn_step
new_session(void)
{
	return setsid() == -1 ? SPAWN_GROUP : SPAWN_OK;
}

/*
 * fds 0-2 are always open in the master (daemon_stdio() saw to it), so
 * these dup3() calls cannot land on the descriptor they copy.
 */
int
spawn_init(struct spawner *sp)
{
	*sp = (struct spawner){ .own_in = fcntl(0, F_DUPFD_CLOEXEC, 3),
	    .own_err = fcntl(2, F_DUPFD_CLOEXEC, 3) };
	if (sp->own_in == -1 || sp->own_err == -1) {
		spawn_free(sp);
		return -1;
	}
	return 0;
}

void
spawn_free(struct spawner *sp)
{
	if (sp->own_in != -1)
		close(sp->own_in);
	if (sp->own_err != -1)
		close(sp->own_err);
	sp->own_in = sp->own_err = -1;
}

/*
 * Below this, the child places the connection itself (place_fds()). Its
 * private table is copied from the master's up to the connection, but the
 * kernel never copies fewer than 64 slots anyway, so below 64 that costs
 * what a table holding 0-2 alone costs, and it spares the master the four
 * dup3() calls of lending (tests/bench/README.md has the measurement).
 * With a few services the connection lands below 64.
 */
#define PLACE_BELOW 64

/*
 * Otherwise the master lends the connection on 0 and its stderr on 2
 * (unless it keeps ours) while the child starts; the child copies 0 to 1
 * itself, in its own table.
 */
static int
lend(const struct conn *c)
{
	if (dup3(c->fd, 0, 0) == -1)
		return -1;
	if (c->errfd != -1 && dup3(c->errfd, 2, 0) == -1)
		return -1;
	return 0;
}

/* Takes 0 and 2 back, so the master holds no reference to either. */
static void
take_back(const struct spawner *sp, const struct conn *c)
{
	(void)dup3(sp->own_in, 0, 0);
	if (c->errfd != -1)
		(void)dup3(sp->own_err, 2, 0);
}

/* What a server child reports back through the memory it shares with us. */
struct job {
	const struct svc_conf *sc;
	char **envp;
	char *listen_pid;	/* "LISTEN_PID=" to complete; NULL: none */
	int fd, errfd;		/* to place on 0-1 and 2; -1: lent, or keep ours */
	uid_t own_id;		/* a jailed handler's id of its own; 0: none */
	const struct jailns *jns;	/* the service's shared namespaces */
	bool in_group;		/* stays in its parent's group (spawn.h) */
	const int *pass;	/* kept open across execve() (spawn.h) */
	unsigned npass;
	int err;
	enum spawn_step step;
};

/*
 * Takes a private descriptor table with the connection on 0 and 1 and the
 * service's stderr on 2, and nothing above 2. CLOSE_RANGE_UNSHARE copies
 * only the descriptors below its first argument (at least 64 slots), so
 * the copy is bounded by PLACE_BELOW however many the master holds; what
 * it held in 3 and up is closed, close-on-exec or not (a module such as
 * NSS might open one without). Kernels before 5.9 lack close_range();
 * unshare() copies the whole table, and execve() closes the rest, all of
 * it close-on-exec in sockd's own code.
 */
static enum spawn_step
place_fds(const struct job *j)
{
	int keep = j->fd == -1 ? 3 : (j->errfd > j->fd ? j->errfd : j->fd) + 1;
	int lo = 3;

	if (j->npass && j->pass[j->npass - 1] >= keep)
		keep = j->pass[j->npass - 1] + 1;
	bool ranged = close_range(keep, ~0U, CLOSE_RANGE_UNSHARE) == 0;

	if (!ranged && unshare(CLONE_FILES) == -1)
		return SPAWN_UNSHARE;
	if (j->fd != -1 && (dup2(j->fd, 0) == -1 ||
	    (j->errfd != -1 && dup2(j->errfd, 2) == -1)))
		return SPAWN_DUP2;
	if (dup2(0, 1) == -1)
		return SPAWN_DUP2;
	/* The table is the child's own now: clearing close-on-exec here
	 * leaves the master's descriptors as they were. */
	for (unsigned i = 0; i < j->npass; i++) {
		if (fcntl(j->pass[i], F_SETFD, 0) == -1)
			return SPAWN_DUP2;
		if (ranged && j->pass[i] > lo)
			(void)close_range(lo, j->pass[i] - 1, 0);
		lo = j->pass[i] + 1;
	}
	if (ranged && keep > lo)
		(void)close_range(lo, keep - 1, 0);
	return SPAWN_OK;
}

/*
 * sd_listen_fds(3): the socket on fd 3 as well (dup2() leaves it open
 * across execve()), and the child's own pid after "LISTEN_PID=", written
 * without libc into the master's memory that the child still shares. No
 * array on this stack: AddressSanitizer would poison its redzones in the
 * master's memory, and the child's frames never return to clear them.
 */
static enum spawn_step
listen_fds(char *listen_pid)
{
	size_t len = 1, at = sizeof("LISTEN_PID=") - 1;
	pid_t pid = getpid();

	if (dup2(0, 3) == -1)
		return SPAWN_DUP2;
	for (pid_t p = pid; p >= 10; p /= 10)
		len++;
	listen_pid[at + len] = '\0';
	do {
		listen_pid[at + --len] = '0' + pid % 10;
		pid /= 10;
	} while (pid > 0);
	return SPAWN_OK;
}

/*
 * Runs in the child, on its own small stack but in the master's memory and
 * descriptor table until the execve(), so it only makes system calls.
 */
static int
server_child(void *arg)
{
	struct job *j = arg;
	enum spawn_step failed;

	if ((failed = place_fds(j)) != SPAWN_OK ||
	    (j->listen_pid && (failed = listen_fds(j->listen_pid)) != SPAWN_OK) ||
	    (failed = child_setup(j->sc, 0)) != SPAWN_OK ||
	    (!j->in_group && (failed = new_group()) != SPAWN_OK)) {
		j->err = errno;
		j->step = failed;
	} else {
		sig_child_reset();
		execve(j->sc->server, j->sc->argv, j->envp);
		j->err = errno;
	}
	_exit(127);
}

/*
 * A forked child (a built-in, a jailed server) whose set-up failed says so
 * on its fd 2, which is the service's stderr in the log (stderr = "log"):
 * the master, which did not wait for it, cannot. It exits 126, as a shell
 * does for a command found but not run.
 */
static void __attribute__((noreturn))
setup_failed(const char *what, enum spawn_step step)
{
	char line[160];
	int e = errno, n;

	n = snprintf(line, sizeof(line), "sockd: cannot start the %s: %s: %s\n",
	    what, spawn_step_name(step), strerror(e));
	if (n > 0)
		(void)!write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	_exit(126);
}

/* A jail step's failure as the spawn step reported in the log. */
static enum spawn_step
jail_failed(enum jail_step step)
{
	return step == JAIL_OK ? SPAWN_OK : SPAWN_JAIL_USERNS + (step - JAIL_USERNS);
}

/*
 * The child of a jailed server, a copy of the master in its new pid (and
 * user) namespace: it makes or joins the other namespaces, enters the jail
 * while it still has its capabilities, drops the ids, then locks the jail
 * (capabilities, no_new_privs, the filter) just before execve().
 */
static int
jailed_child(void *arg)
{
	struct job *j = arg;
	const struct svc_conf *sc = j->sc;
	bool switching = (sc->set_ids || j->own_id) && geteuid() == 0;
	uid_t uid = j->own_id ? j->own_id : sc->set_ids ? sc->uid : geteuid();
	enum spawn_step failed;

	if ((failed = jail_failed(jail_join(sc->jail, j->jns))) != SPAWN_OK ||
	    (failed = place_fds(j)) != SPAWN_OK ||
	    (j->listen_pid && (failed = listen_fds(j->listen_pid)) != SPAWN_OK) ||
	    (failed = jail_failed(jail_enter(sc->jail, j->jns, switching))) !=
	    SPAWN_OK ||
	    (failed = child_setup(sc, j->own_id)) != SPAWN_OK ||
	    (!j->in_group && (failed = new_session()) != SPAWN_OK) ||
	    (failed = jail_failed(jail_lock(sc->jail, uid))) != SPAWN_OK)
		setup_failed("server in its jail", failed);
	sig_child_reset();
	execve(sc->server, sc->argv, j->envp);
	setup_failed("server in its jail", SPAWN_EXEC);
}

/*
 * clone() with CLONE_VM | CLONE_VFORK is vfork() with a stack of the
 * child's own: the master is suspended until the child execs or exits, so
 * this array on our stack is free for it meanwhile. CLONE_FILES spares the
 * descriptor-table copy, and CLONE_PIDFD, when the caller wants it, hands
 * back a pidfd, so reaping needs no walk over every child.
 */
#define CHILD_STACK 32768

pid_t
spawn_server(struct spawner *sp, const struct service *svc, const struct conn *c,
    int *pidfd, int *exec_err, enum spawn_step *step)
{
	struct connenv env;
	bool place = c->fd < PLACE_BELOW && c->errfd < PLACE_BELOW;
	struct job j = { .sc = svc->conf, .envp = env_build(&env, svc, c),
	    .fd = place ? c->fd : -1, .errfd = place ? c->errfd : -1,
	    .own_id = c->own_id, .jns = &svc->jns, .in_group = c->in_group,
	    .pass = c->pass, .npass = c->npass, .step = SPAWN_EXEC };

	if (svc->conf->listen_fds)
		j.listen_pid = env.listen_pid;
	_Alignas(16) char stack[CHILD_STACK];
	int flags = CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, unused;
	int (*child)(void *) = server_child;
	pid_t pid;

	if (pidfd == NULL)
		pidfd = &unused;
	*pidfd = -1;
	/*
	 * A jailed child is a copy, not a borrower of our memory: its set-up
	 * is long (namespaces, mounts, the filter), and the master goes on
	 * accepting meanwhile instead of waiting for its execve().
	 */
	if (svc->conf->jail) {
		flags = SIGCHLD | jail_clone_flags(svc->conf->jail);
		child = jailed_child;
	}
	if (!place && lend(c) == -1) {
		take_back(sp, c);
		return -1;
	}
	for (;;) {
		pid = clone(child, stack + sizeof(stack), flags |
		    (pidfd == &unused || sp->no_clone_pidfd ? 0 : CLONE_PIDFD), &j, pidfd);
		/* Linux before 5.2 knows no CLONE_PIDFD; the caller reaps by SIGCHLD. */
		if (pid != -1 || errno != EINVAL || sp->no_clone_pidfd)
			break;
		sp->no_clone_pidfd = true;
	}
	if (!place)
		take_back(sp, c);
	*exec_err = j.err;
	*step = j.step;
	return pid;
}

const char *
spawn_step_name(enum spawn_step step)
{
	static const char *const names[] = { "", "unshare", "dup2",
	    "setrlimit", "setpriority", "setgroups", "setgid", "setuid",
	    "dropping root for good", "chdir", "setpgid", "execve",
	    "jail: user namespace maps", "jail: mount", "jail: pivot_root",
	    "jail: capabilities", "jail: no_new_privs", "jail: seccomp filter",
	    "jail: network namespace", "jail: clone" };

	return step < sizeof(names) / sizeof(names[0]) ? names[step] : "?";
}

/*
 * Built-ins run our own code after a real fork(), so it may do anything.
 * The child has a copy of our table and places the connection itself:
 * nothing is lent, and the master makes no call for it.
 */
pid_t
spawn_builtin(const struct service *svc, const struct conn *c, int *pidfd)
{
	enum spawn_step step;
	pid_t pid;

	if (pidfd)
		*pidfd = -1;
	pid = fork();
	if (pid == 0) {
		/* c->fd and c->errfd are above 2: fds 0-2 are always open here. */
		if (dup2(c->fd, 0) == -1 || dup2(c->fd, 1) == -1 ||
		    (c->errfd != -1 && dup2(c->errfd, 2) == -1))
			_exit(1);
		forked_keep(NULL, 0);
		if ((step = child_setup(svc->conf, 0)) != SPAWN_OK ||
		    (step = new_group()) != SPAWN_OK)
			setup_failed("built-in", step);
		sig_child_reset();
		svc->conf->builtin->stream(svc->conf->idle_timeout ?
		    svc->conf->idle_timeout : BUILTIN_IDLE_SECONDS);
		_exit(0);
	}
	if (pid > 0 && pidfd)
		*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return pid;
}
