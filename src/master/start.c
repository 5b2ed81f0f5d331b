/*
 * Starting one child for a connection (or, for a wait service, for the
 * listening socket) and recording it: its stderr, its caps and per-source
 * count, its max_lifetime timer. Also how a child is signalled. Never
 * accepts and never reaps (reap.c does).
 */

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "errlog.h"
#include "jail.h"
#include "builtin.h"
#include "log.h"
#include "peercred.h"
#include "sockd.h"
#include "tlsrelay.h"
#include "tlszygote.h"

/* After max_lifetime a handler gets SIGTERM, and this long to go. */
#define KILL_GRACE_MS 5000

/* Where the child's fd 2 goes (-1: ours); -2 when the log cannot be had. */
static int
child_stderr(struct sockd *sd, struct service *svc)
{
	switch (svc->conf->stderr_to) {
	case STDERR_NULL:
		return sd->devnull;
	case STDERR_INHERIT:
		return -1;
	case STDERR_LOG:
		break;
	}
	if (svc->errlog == NULL &&
	    (svc->errlog = errlog_open(&sd->loop, svc, &sd->errlogs)) == NULL)
		return -2;
	return errlog_fd(svc->errlog);
}

/* The service's handlers will get a new log; the old goes with them. */
void
start_retire_errlog(struct service *svc)
{
	if (svc->errlog) {
		errlog_retire(svc->errlog);
		svc->errlog = NULL;
	}
}

/*
 * A service taking its settings opens its log at once, so the daemon's
 * descriptors stay level while it serves; should that fail, the first
 * child tries again.
 */
void
start_renew_errlog(struct sockd *sd, struct service *svc)
{
	start_retire_errlog(svc);
	if (svc->conf->stderr_to == STDERR_LOG)
		svc->errlog = errlog_open(&sd->loop, svc, &sd->errlogs);
}

/*
 * Handlers lead their own process groups (spawn.c: new_group()), so the
 * whole group is signalled: what a handler started goes with it. A child
 * that has no group of its own (not yet past its setpgid(), whose set-up
 * failed, or that left it) is signalled alone.
 */
void
start_kill(const struct child *ch, int sig)
{
	if (kill(-ch->pid, sig) == -1 && errno == ESRCH)
		(void)kill(ch->pid, sig);
}

/* SIGTERM when max_lifetime runs out, SIGKILL when the grace does too. */
static void
on_lifetime(struct timer *t)
{
	struct child *ch = t->arg;
	struct sockd *sd = ch->sd;

	if (!ch->term_sent) {
		log_info("service \"%s\": pid %ld outlived max_lifetime (%us), "
		    "terminating", ch->svc->conf->name, (long)ch->pid,
		    ch->svc->conf->max_lifetime);
		start_kill(ch, SIGTERM);
		ch->term_sent = true;
		if (loop_timer_set(&sd->loop, t, KILL_GRACE_MS) == -1)
			start_kill(ch, SIGKILL);
	} else {
		log_info("service \"%s\": pid %ld ignored SIGTERM, killing",
		    ch->svc->conf->name, (long)ch->pid);
		start_kill(ch, SIGKILL);
	}
}

/* sockctl end: SIGTERM to its process group, SIGKILL after the grace. */
void
start_end(struct sockd *sd, struct child *ch)
{
	if (ch->term_sent)
		return;
	start_kill(ch, SIGTERM);
	ch->term_sent = true;
	if (loop_timer_set(&sd->loop, &ch->lifetime, KILL_GRACE_MS) == -1)
		start_kill(ch, SIGKILL);
}

/* A record for the next child, taken before it exists so nothing can fail
 * once it does. */
static struct child *
child_new(struct sockd *sd, struct service *svc)
{
	struct child *ch;

	if (children_reserve(&sd->children) == -1 ||
	    (ch = children_new(&sd->children)) == NULL)
		return NULL;
	ch->svc = svc;
	ch->sd = sd;
	ch->exit = (struct watch){ .fd = -1, .fn = reap_on_exit, .arg = ch };
	ch->lifetime = (struct timer){ .fn = on_lifetime, .arg = ch };
	return ch;
}

/* What a child holds from its start, before its pid is known: a slot of
 * max_children and of its service's, its source's count. */
static void
hold(struct sockd *sd, struct child *ch, struct source *src)
{
	children_hold(&sd->children);
	service_ref(ch->svc);
	ch->svc->nchildren++;
	if (src) {
		/* Released exactly when this child is reaped, however it ends. */
		src->count++;
		ch->has_source = true;
		ch->source = src->key;
	}
}

/* Records a held child under its pid: reaping, lifetime (lifetime_ms from
 * now; 0: none). */
static void
record(struct sockd *sd, struct child *ch, pid_t pid, int pidfd,
    uint64_t lifetime_ms)
{
	ch->pid = pid;
	children_place(&sd->children, ch);
	reap_watch_exit(sd, ch, pidfd);
	reap_sync_sigchld(sd);
	if (lifetime_ms && loop_timer_set(&sd->loop, &ch->lifetime, lifetime_ms) == -1)
		log_warn("service \"%s\": pid %ld: max_lifetime not enforced",
		    ch->svc->conf->name, (long)pid);
}

/*
 * The id a handler the old image started runs as, from the kernel (the
 * real uid in /proc), so that the pool never gives it to another.
 */
static uid_t
running_id(pid_t pid)
{
	char path[64], line[128];
	unsigned long uid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %lu", &uid) == 1)
			break;
	fclose(f);
	return (uid_t)uid;
}

/*
 * Ids of the range some process runs as already (handlers a sockd before
 * this one left running, or someone else's use of the range): never
 * given. Read once, when the range is set, from every /proc/PID/status.
 */
static void
taken_on_host(struct idpool *p)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		uid_t id;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		if ((id = running_id(atoi(e->d_name))) >= p->first && id <= p->last)
			(void)idpool_take(p, id);
	}
	if (d)
		closedir(d);
}

/* Whether a connection of sc takes an id of its own for its TLS relay:
 * with root, every TLS connection's does (tlsrelay.c). */
static bool
relay_takes_id(const struct svc_conf *sc)
{
	return sc->tls && geteuid() == 0;
}

/* Whether some service of cfg runs its handlers or relays as ids of their
 * own. */
static bool
takes_ids(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nsvcs; i++)
		if ((cfg->svcs[i].jail && cfg->svcs[i].jail->own_ids) ||
		    relay_takes_id(&cfg->svcs[i]))
			return true;
	return false;
}

/*
 * The pool of jail_ids as cfg gives it (none if no service takes ids):
 * kept if the range is the same, else made anew holding the ids live
 * children run as. -1 (errno set) keeps the pool as it was.
 */
int
start_ids(struct sockd *sd, const struct config *cfg)
{
	const struct global_conf *g = &cfg->global;
	struct idpool p;

	/* No pool, so no walk over every process on the host, which an
	 * upgrade beside many handlers would pay for nothing; a config that
	 * takes ids again makes it anew. */
	if (!takes_ids(cfg)) {
		idpool_free(&sd->ids);
		return 0;
	}
	if (sd->ids.bits && sd->ids.first == g->jail_ids_first &&
	    sd->ids.last == g->jail_ids_last)
		return 0;
	if (idpool_init(&p, g->jail_ids_first, g->jail_ids_last) == -1)
		return -1;
	for (size_t i = 0; i < sd->children.cap; i++)
		if (sd->children.slots[i]) {
			(void)idpool_take(&p, sd->children.slots[i]->own_id);
			(void)idpool_take(&p, sd->children.slots[i]->relay_id);
		}
	taken_on_host(&p);
	idpool_free(&sd->ids);
	sd->ids = p;
	return 0;
}

/* id, in use by an adopted child, if it is the pool's; else 0. */
static uid_t
adopt_id(struct sockd *sd, uid_t id)
{
	if (id == 0 || id < sd->ids.first || id > sd->ids.last)
		return 0;
	(void)idpool_take(&sd->ids, id);
	return id;
}

/*
 * A child the old image of an upgrade in place started: recorded as it
 * was, its start time and lifetime deadline (0: none) on the monotonic
 * clock, which the exec kept. Reaped by SIGCHLD.
 */
bool
start_adopt(struct sockd *sd, struct service *svc, pid_t pid,
    uint64_t started_ms, const struct addr *source, uint64_t lifetime_when,
    bool term_sent, const uid_t ids[2])
{
	uint64_t now = loop_now_ms();
	struct source *src = NULL;
	struct child *ch;

	if ((ch = child_new(sd, svc)) == NULL)
		return false;
	if (source && (src = persource_get(&svc->sources, source,
	    (int64_t)loop_now_ms())) == NULL) {
		children_release(&sd->children, ch);
		return false;
	}
	ch->started_ms = started_ms;
	ch->term_sent = term_sent;
	/* Its ids were taken when the pool was made (taken_on_host()); they
	 * are given back when this child ends. A release that did not hand
	 * them over leaves the kernel to say a jailed handler's. */
	ch->own_id = adopt_id(sd, ids[0] ? ids[0] : svc->conf->jail &&
	    svc->conf->jail->own_ids ? running_id(pid) : 0);
	ch->relay_id = adopt_id(sd, ids[1]);
	hold(sd, ch, src);
	record(sd, ch, pid, -1, !lifetime_when ? 0 :
	    lifetime_when > now ? lifetime_when - now : 1);
	return true;
}

/*
 * The ids of the pool a connection of sc runs as: its jailed handler's,
 * its TLS relay's, each its own. -1 (none taken) when the pool has too
 * few free.
 */
static int
take_ids(struct sockd *sd, const struct svc_conf *sc, struct conn *c,
    struct child *ch)
{
	if (sc->jail && sc->jail->own_ids &&
	    (c->own_id = ch->own_id = idpool_get(&sd->ids)) == 0)
		return -1;
	if (relay_takes_id(sc) &&
	    (c->relay_id = ch->relay_id = idpool_get(&sd->ids)) == 0) {
		idpool_put(&sd->ids, ch->own_id);
		ch->own_id = c->own_id = 0;
		return -1;
	}
	return 0;
}

/* A child that could not be started: its record and ids given back. */
static void
child_drop(struct sockd *sd, struct child *ch)
{
	idpool_put(&sd->ids, ch->own_id);
	idpool_put(&sd->ids, ch->relay_id);
	children_release(&sd->children, ch);
}

/* The child of a connection (c->pid): recorded, counted, logged. */
static void
started(struct sockd *sd, struct child *ch, struct conn *c, pid_t pid,
    int pidfd)
{
	struct service *svc = ch->svc;

	gate_cleared(svc, FAULT_START);
	if (c->cred)
		ch->peer = peercred_key(c->cred->uid);
	else if (c->peer && addr_from_sockaddr(c->peer, &ch->peer,
	    &ch->peer_port) == -1)
		ch->peer.family = AF_UNSPEC;
	record(sd, ch, pid, pidfd, svc->conf->max_lifetime * 1000ULL);
	svc->st.accepted++;
	c->pid = pid;
	events_accepted(svc, c, pid);
}

/* A child the master starts itself for c, with a pidfd when children are
 * reaped by pidfd; -1 with errno. */
static pid_t
spawn(struct sockd *sd, struct service *svc, struct conn *c, int *pidfd)
{
	const struct svc_conf *sc = svc->conf;
	enum spawn_step step = SPAWN_OK;
	int exec_err = 0, *want = reap_by_pidfd(sd) ? pidfd : NULL;
	pid_t pid;

	*pidfd = -1;
	pid = sc->builtin ? spawn_builtin(svc, c, want) :
	    sc->tls ? tlsrelay_spawn(&sd->spawner, svc, c, want) :
	    spawn_server(&sd->spawner, svc, c, want, &exec_err, &step);
	if (pid != -1 && exec_err) {
		errno = exec_err;
		if (step == SPAWN_EXEC)
			log_warn("service \"%s\": cannot execute %s", sc->name,
			    sc->server);
		else
			log_warn("service \"%s\": %s", sc->name,
			    spawn_step_name(step));
	}
	return pid;
}

/* A held child whose connection has none: let go, and the listeners told. */
static void
handed_refused(struct sockd *sd, struct child *ch, const char *why)
{
	struct service *svc = ch->svc;

	children_unhold(&sd->children);
	reap_release(sd, ch);
	gate_fault(sd, svc, FAULT_START, why);
	service_unref(svc);
	children_release(&sd->children, ch);
	gate_update_all(sd);
}

/*
 * The pid a TLS connection's child sent (tlszygote.h), checked: the
 * master's unreaped child with no record, or one reaped already with no
 * record (then finished at once, as if it had just ended); anything else
 * is refused, so a confused message adopts or kills no other process.
 */
static void
handed_pid(struct sockd *sd, struct child *ch, struct conn *c, pid_t pid)
{
	int status, pidfd = -1;
	bool ours = children_find(&sd->children, pid) == NULL &&
	    reap_is_child(pid);

	/* An unreaped child is this one, never one reaped before that had
	 * the same pid: what was kept of that one is dropped. */
	if (reap_stashed(sd, pid, &status) && !ours &&
	    children_find(&sd->children, pid) == NULL) {
		started(sd, ch, c, pid, -1);
		reap_finish(sd, ch, status);
		return;
	}
	if (!ours) {
		log_warnx("service \"%s\": its TLS zygote named pid %ld, which is "
		    "no connection's child of sockd's", ch->svc->conf->name,
		    (long)pid);
		handed_refused(sd, ch, "TLS zygote: a pid not its child's");
		return;
	}
	/* Unreaped, so even ended it is a zombie a pidfd can name. */
	if (reap_by_pidfd(sd))
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool was_read = sd->sigchld_on;
	started(sd, ch, c, pid, pidfd);
	/* Without a pidfd, it is reaped by SIGCHLD: one sent while SIGCHLD
	 * was not read is lost. */
	if (pidfd == -1 && !was_read && waitpid(pid, &status, WNOHANG) == pid)
		reap_finish(sd, ch, status);
}

/* What became of a connection handed to its zygote (tlszygote.h). */
static void
handed(void *arg, pid_t pid, const struct conn *hc)
{
	struct child *ch = arg;
	struct sockd *sd = ch->sd;
	struct conn c = *hc;
	int pidfd;

	sd->nhanded--;
	if (pid > 0)
		handed_pid(sd, ch, &c, pid);
	else if (pid == 0 && (c.errfd = child_stderr(sd, ch->svc)) != -2 &&
	    (pid = spawn(sd, ch->svc, &c, &pidfd)) != -1) {
		started(sd, ch, &c, pid, pidfd);
		gate_update_all(sd);
	} else
		handed_refused(sd, ch, "cannot start a child");
}

/* Returns false when no child could be started (the caller may pause). */
bool
start_child(struct sockd *sd, struct service *svc, struct conn *c,
    struct source *src)
{
	const struct svc_conf *sc = svc->conf;
	struct child *ch;
	int pidfd;
	pid_t pid;

	if ((ch = child_new(sd, svc)) == NULL) {
		gate_fault(sd, svc, FAULT_START, "child record");
		return false;
	}
	if ((c->errfd = child_stderr(sd, svc)) == -2) {
		/* Out of descriptors, most likely: the same fault as accept's. */
		children_release(&sd->children, ch);
		gate_fault(sd, svc, FAULT_START, "stderr log");
		return false;
	}
	if (take_ids(sd, sc, c, ch) == -1) {
		children_release(&sd->children, ch);
		gate_fault(sd, svc, FAULT_START, "jail_ids: every id in use");
		return false;
	}
	/* As s6-tcpserver counts: this client's connections, this one too. */
	c->connnum = src ? src->count + 1 : 0;
	ch->started_ms = loop_now_ms();
	/* Held from now, as a started child: the limits count it while its
	 * zygote forks it. */
	if (sc->tls && tlszygote_hand(&sd->loop, &sd->spawner, svc, c, handed,
	    ch)) {
		hold(sd, ch, src);
		sd->nhanded++;
		c->pid = 0;
		return true;
	}
	if ((pid = spawn(sd, svc, c, &pidfd)) == -1) {
		child_drop(sd, ch);
		gate_fault(sd, svc, FAULT_START, "cannot start a child");
		return false;
	}
	hold(sd, ch, src);
	started(sd, ch, c, pid, pidfd);
	return true;
}
