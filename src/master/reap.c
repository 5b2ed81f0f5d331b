/*
 * A child has ended: wait for it, release what it held (its record, its
 * per-source count, a wait service's socket), count how it ended and
 * apply failure back-off. Owns the choice between reaping by SIGCHLD and
 * by pidfd. Never starts anything.
 */

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
#include "log.h"
#include "sock.h"
#include "sockd.h"
#include "tlsrelay.h"

/* A handler ending badly this soon after its start is a fast failure. */
#define FAST_FAIL_MS 1000
#define FAIL_WINDOW_MS 10000
#define BACKOFF_MAX_MS 60000

/*
 * Reaping. With few children alive, SIGCHLD and waitpid(-1) cost least,
 * though the kernel walks every child on each call; a pidfd costs a file
 * and an epoll registration per child, but never a walk. From PIDFD_ABOVE
 * children alive on, new children get pidfds and those running get one
 * through pidfd_open(); below PIDFD_BELOW, new ones no longer do. The gap
 * keeps a count that hovers at one bound from switching to and fro; where
 * the bounds lie was measured (tests/bench/README.md).
 */
#define PIDFD_ABOVE 256
#define PIDFD_BELOW 64

/* SIGCHLD is read while any child may need it. */
void
reap_sync_sigchld(struct sockd *sd)
{
	bool on = !sd->by_pidfd || sd->children.nopidfd > 0;

	if (on == sd->sigchld_on)
		return;
	if (sig_children(sd->sigwatch.fd, on) == -1)
		log_warn("signalfd");
	else
		sd->sigchld_on = on;
}

/* Reaps ch through pidfd (-1: by SIGCHLD instead). */
void
reap_watch_exit(struct sockd *sd, struct child *ch, int pidfd)
{
	ch->exit.fd = pidfd;
	if (pidfd != -1 && loop_enable(&sd->loop, &ch->exit, true) == -1) {
		close(pidfd);
		ch->exit.fd = -1;
	}
	if (ch->exit.fd == -1)
		sd->children.nopidfd++;
}

/* Whether the next child gets a pidfd. */
bool
reap_by_pidfd(struct sockd *sd)
{
	struct children *c = &sd->children;

	if (!sd->by_pidfd && c->count >= PIDFD_ABOVE) {
		sd->by_pidfd = true;
		for (size_t i = 0; i < c->cap && c->nopidfd > 0; i++) {
			struct child *ch = c->slots[i];
			int fd;
			if (ch == NULL || ch->exit.fd != -1)
				continue;
			if ((fd = (int)syscall(SYS_pidfd_open, ch->pid, 0)) == -1) {
				if (errno == ENOSYS)	/* Linux before 5.3 */
					break;
				continue;
			}
			c->nopidfd--;
			reap_watch_exit(sd, ch, fd);
		}
		reap_sync_sigchld(sd);
	} else if (sd->by_pidfd && c->count < PIDFD_BELOW) {
		sd->by_pidfd = false;
		reap_sync_sigchld(sd);
	}
	return sd->by_pidfd;
}

/* Counts the ending and applies failure back-off. */
static void
child_ended(struct sockd *sd, struct service *svc, int status, uint64_t ms)
{
	bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;

	/* A client that never completed its handshake: a refusal, never a
	 * handler's failure, so it cannot pause the service. */
	if (svc->conf->tls && WIFEXITED(status) &&
	    WEXITSTATUS(status) == TLSRELAY_EXIT_HANDSHAKE) {
		svc->st.refused[REFUSE_TLS_HANDSHAKE]++;
		return;
	}
	if (WIFSIGNALED(status))
		svc->st.ended_signal++;
	else if (failed)
		svc->st.ended_failed++;
	else
		svc->st.ended_ok++;
	metrics_observe(&svc->st, ms);
	if (!failed || ms >= FAST_FAIL_MS) {
		svc->nfails = 0;
		svc->backoff_ms = 1000;
		return;
	}
	if (gate_closed(svc) || svc->paused ||
	    !service_fail(svc, loop_now_ms(), FAIL_WINDOW_MS))
		return;
	log_event(LOG_WARNING, "paused", &KV_S("service", svc->conf->name), 1,
	    "service \"%s\": more than %u fast failures within %d s; pausing for %u s",
	    svc->conf->name, svc->fails_cap - 1, FAIL_WINDOW_MS / 1000,
	    svc->backoff_ms / 1000);
	svc->st.backoff_pauses++;
	gate_pause(sd, svc, svc->backoff_ms);
	svc->backoff_ms = svc->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    svc->backoff_ms * 2;
}

/*
 * Room may have freed: connections whose PROXY header is read and that
 * wait for it are served in this wake-up of the loop, through the timer
 * proxywait.c set (a call from here would run back up to it).
 */
static void
wake_parked(struct sockd *sd)
{
	if (sd->proxywait.n > 0)
		(void)loop_timer_set(&sd->loop, &sd->proxywait.resume, 0);
}

void
reap_release(struct sockd *sd, struct child *ch)
{
	struct service *svc = ch->svc;

	svc->nchildren--;
	/* Its pid namespace ended with it: nothing runs as its id any more. */
	idpool_put(&sd->ids, ch->own_id);
	idpool_put(&sd->ids, ch->relay_id);
	if (ch->has_source)
		persource_release(&svc->sources, &ch->source, (int64_t)loop_now_ms());
}

/* Forgets a child that has been waited for; status as waitpid() gives it.
 * The caller updates the listeners once for all it reaped. */
static void
child_reaped(struct sockd *sd, struct child *ch, int status)
{
	struct service *svc = ch->svc;
	uint64_t ms = loop_now_ms() - ch->started_ms;
	struct deferred *ended = ch->ended;

	(void)children_take(&sd->children, ch->pid);
	if (ch->exit.fd != -1)
		loop_close(&sd->loop, &ch->exit);
	else
		sd->children.nopidfd--;
	reap_sync_sigchld(sd);
	loop_timer_stop(&sd->loop, &ch->lifetime);
	reap_release(sd, ch);
	if (svc->busy) {
		svc->busy = false;
		if (svc->busy_fd != -1)
			(void)sock_set_nonblock(svc->busy_fd, true);
	}
	if (svc->errlog)
		errlog_ended(svc->errlog, ch->pid);
	events_ended(ch, status, ms);
	child_ended(sd, svc, status, ms);
	service_unref(svc);
	children_release(&sd->children, ch);
	if (ended)
		loop_defer(&sd->loop, ended);
}

/* The child's pidfd is readable: it has ended, and is waited for alone. */
void
reap_on_exit(struct watch *w)
{
	struct child *ch = w->arg;
	struct sockd *sd = ch->sd;
	siginfo_t si = { 0 };

	if (waitid(P_PIDFD, w->fd, &si, WEXITED | WNOHANG) == -1) {
		/* Cannot be while the record lives; stop the pidfd spinning. */
		log_warn("service \"%s\": waitid for pid %ld", ch->svc->conf->name,
		    (long)ch->pid);
		loop_close(&sd->loop, w);
		sd->children.nopidfd++;
		reap_sync_sigchld(sd);
		return;
	}
	if (si.si_pid == 0)
		return;
	/* Back to the encoding of waitpid(), which the rest reads. */
	child_reaped(sd, ch, si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 :
	    (si.si_status & 0x7f) | (si.si_code == CLD_DUMPED ? 0x80 : 0));
	wake_parked(sd);	/* before the backlogs: they came first */
	gate_update_all(sd);
}

void
reap_finish(struct sockd *sd, struct child *ch, int status)
{
	child_reaped(sd, ch, status);
	wake_parked(sd);
	gate_update_all(sd);
}

bool
reap_is_child(pid_t pid)
{
	siginfo_t si;

	return pid > 0 &&
	    waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

/*
 * A child reaped with no record: it may be a TLS connection's whose pid
 * is still on its way (start.c), kept until it comes. At most one a
 * connection awaiting its pid, and the others (a zygote's) are dropped
 * whenever none awaits. Should the table not grow, the pid that comes
 * finds nothing and its connection is refused.
 */
static void
stash(struct sockd *sd, pid_t pid, int status)
{
	if (sd->nhanded == 0) {
		sd->nstash = 0;
		return;
	}
	if (sd->nstash == sd->capstash) {
		size_t cap = sd->capstash ? sd->capstash * 2 : 16;
		struct reap_stash *t = realloc(sd->stash, cap * sizeof(*t));
		if (t == NULL) {
			log_warn("pid %ld: its status cannot be kept", (long)pid);
			return;
		}
		sd->stash = t;
		sd->capstash = cap;
	}
	sd->stash[sd->nstash++] = (struct reap_stash){ pid, status };
}

bool
reap_stashed(struct sockd *sd, pid_t pid, int *status)
{
	/* The newest first: a pid reaped twice was reused in between. */
	for (size_t i = sd->nstash; i-- > 0;)
		if (sd->stash[i].pid == pid) {
			*status = sd->stash[i].status;
			sd->stash[i] = sd->stash[--sd->nstash];
			return true;
		}
	return false;
}

/* SIGCHLD, read while some child has no pidfd: waits for any. */
void
reap_sigchld(struct sockd *sd)
{
	struct child *ch;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if ((ch = children_find(&sd->children, pid)) != NULL)
			child_reaped(sd, ch, status);
		else
			stash(sd, pid, status);
	wake_parked(sd);
	gate_update_all(sd);
}
