/*
 * Starting one child for a connection (or, for a wait service, for the
 * listening socket) and recording it: its stderr, its caps and per-source
 * count, its max_lifetime timer. Also how a child is signalled. Never
 * accepts and never reaps (reap.c does).
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include "errlog.h"
#include "builtin.h"
#include "log.h"
#include "sockd.h"

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

/*
 * Records a started child: caps, per-source count, lifetime (lifetime_ms
 * from now; 0: none), reaping.
 */
static void
record(struct sockd *sd, struct child *ch, pid_t pid, int pidfd,
    struct source *src, uint64_t lifetime_ms)
{
	struct service *svc = ch->svc;

	ch->pid = pid;
	children_add(&sd->children, ch);
	service_ref(svc);
	svc->nchildren++;
	if (src) {
		/* Released exactly when this child is reaped, however it ends. */
		src->count++;
		ch->has_source = true;
		ch->source = src->key;
	}
	reap_watch_exit(sd, ch, pidfd);
	reap_sync_sigchld(sd);
	if (lifetime_ms && loop_timer_set(&sd->loop, &ch->lifetime, lifetime_ms) == -1)
		log_warn("service \"%s\": pid %ld: max_lifetime not enforced",
		    svc->conf->name, (long)pid);
}

static void
record_child(struct sockd *sd, struct child *ch, pid_t pid, int pidfd,
    struct source *src)
{
	ch->started_ms = loop_now_ms();
	record(sd, ch, pid, pidfd, src, ch->svc->conf->max_lifetime * 1000ULL);
}

/*
 * A child the old image of an upgrade in place started: recorded as it
 * was, its start time and lifetime deadline (0: none) on the monotonic
 * clock, which the exec kept. Reaped by SIGCHLD.
 */
bool
start_adopt(struct sockd *sd, struct service *svc, pid_t pid,
    uint64_t started_ms, const struct addr *source, uint64_t lifetime_when,
    bool term_sent)
{
	uint64_t now = loop_now_ms();
	struct source *src = NULL;
	struct child *ch;

	if ((ch = child_new(sd, svc)) == NULL)
		return false;
	if (source && (src = persource_get(&svc->sources, source,
	    ratelimit_now())) == NULL) {
		children_release(&sd->children, ch);
		return false;
	}
	ch->started_ms = started_ms;
	ch->term_sent = term_sent;
	record(sd, ch, pid, -1, src, !lifetime_when ? 0 :
	    lifetime_when > now ? lifetime_when - now : 1);
	return true;
}

/* Returns false when no child could be started (the caller may pause). */
bool
start_child(struct sockd *sd, struct service *svc, struct conn *c,
    struct source *src)
{
	const struct svc_conf *sc = svc->conf;
	enum spawn_step step = SPAWN_OK;
	struct child *ch;
	int exec_err = 0, pidfd;
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
	int *want = reap_by_pidfd(sd) ? &pidfd : NULL;
	pidfd = -1;
	/* As s6-tcpserver counts: this client's connections, this one too. */
	c->connnum = src ? src->count + 1 : 0;
	pid = sc->builtin ? spawn_builtin(svc, c, want) :
	    spawn_server(&sd->spawner, svc, c, want, &exec_err, &step);
	if (pid == -1) {
		children_release(&sd->children, ch);
		gate_fault(sd, svc, FAULT_START, "cannot start a child");
		return false;
	}
	if (exec_err) {
		errno = exec_err;
		if (step == SPAWN_EXEC)
			log_warn("service \"%s\": cannot execute %s", sc->name,
			    sc->server);
		else
			log_warn("service \"%s\": %s", sc->name,
			    spawn_step_name(step));
	}
	gate_cleared(svc, FAULT_START);
	record_child(sd, ch, pid, pidfd, src);
	svc->st.accepted++;
	c->pid = pid;
	events_accepted(svc, c, pid);
	return true;
}
