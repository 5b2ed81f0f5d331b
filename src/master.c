#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin.h"
#include "errlog.h"
#include "log.h"
#include "master.h"
#include "sig.h"
#include "sock.h"
#include "spawn.h"
#include "unforked.h"

/* Connections taken per wake-up: enough to drain a burst, small enough
 * that one busy service cannot starve the others. */
#define ACCEPT_BATCH 32
/* Datagrams per recvmmsg(), and such batches per wake-up. */
#define DGRAM_BATCH 32
#define DGRAM_ROUNDS 2
#define DGRAM_MAX 65536
#define DGRAM_BUFSIZE ((size_t)DGRAM_BATCH * DGRAM_MAX)
/* A TCP built-in answered in the master sends a few bytes. */
#define REPLY_MAX 64
/* A handler ending badly this soon after its start is a fast failure. */
#define FAST_FAIL_MS 1000
#define FAIL_WINDOW_MS 10000
#define BACKOFF_MAX_MS 60000
#define FAULT_FIRST_MS 100
#define FAULT_MAX_MS 2000
/* After max_lifetime a handler gets SIGTERM, and this long to go. */
#define KILL_GRACE_MS 5000

/* Buffers for answering UDP built-ins a batch at a time. */
struct dgram_batch {
	struct mmsghdr in[DGRAM_BATCH], out[DGRAM_BATCH];
	struct iovec iin[DGRAM_BATCH], iout[DGRAM_BATCH];
	struct sockaddr_storage peer[DGRAM_BATCH];
	char *bufin, *bufout;	/* DGRAM_BATCH * DGRAM_MAX each */
};

/*
 * Made when a UDP built-in first needs them. Pages are touched only as far
 * as datagrams fill them, and children are not given them: a fork would
 * copy their page tables, and our next recvmmsg() would copy the pages.
 */
static struct dgram_batch *
dgram_buffers(struct sockd *sd)
{
	struct dgram_batch *db;
	char *p;

	if (sd->dgram)
		return sd->dgram;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return NULL;
	if ((p = unforked_alloc(2 * DGRAM_BUFSIZE)) == NULL) {
		free(db);
		return NULL;
	}
	db->bufin = p;
	db->bufout = p + DGRAM_BUFSIZE;
	return sd->dgram = db;
}

static bool
udp_builtin(const struct svc_conf *sc)
{
	return sc->proto == PROTO_UDP && sc->builtin != NULL;
}

/* UDP built-ins and TCP ones that only send: no child is ever started. */
static bool
answers_in_master(const struct svc_conf *sc)
{
	return udp_builtin(sc) || (sc->builtin != NULL && sc->builtin->in_master);
}

static bool
svc_closed(const struct service *svc)
{
	return svc->nls == 0 || svc->ls[0].fd == -1;
}

/*
 * Paused by failure back-off, a service that accepts its own connections
 * keeps taking them, to refuse them at once: a client learns that the
 * service is unavailable rather than wait out the pause in the backlog.
 * Services that pass their socket to a child just stop.
 */
static bool
refuses_while_paused(const struct svc_conf *sc)
{
	return sc->proto == PROTO_TCP && !sc->wait;
}

/* Whether the master should be listening on svc right now. */
static bool
svc_wanted(const struct sockd *sd, const struct service *svc)
{
	if (sd->quit || svc->faulted || svc_closed(svc))
		return false;
	if (svc->paused)
		return refuses_while_paused(svc->conf);
	if (answers_in_master(svc->conf))
		return !svc->rate_wait;
	return !svc->busy && !service_at_cap(svc) && !svc->rate_wait &&
	    sd->children.count < sd->cfg->global.max_children;
}

static void
svc_update(struct sockd *sd, struct service *svc)
{
	bool on = svc_wanted(sd, svc);

	for (size_t i = 0; i < svc->nls; i++)
		if (svc->ls[i].fd != -1 &&
		    loop_enable(&sd->loop, &svc->ls[i].watch, on) == -1)
			log_warn("service \"%s\": epoll", svc->conf->name);
}

static void
update_all(struct sockd *sd)
{
	for (size_t i = 0; i < sd->nsvcs; i++)
		svc_update(sd, sd->svcs[i]);
}

static void
on_resume(struct timer *t)
{
	struct service *svc = t->arg;

	svc->paused = false;
	log_event(LOG_INFO, "resumed", &KV_S("service", svc->conf->name), 1,
	    "service \"%s\": pause over", svc->conf->name);
	svc_update(svc->owner, svc);
}

/* The service has tokens again (rate). */
static void
on_rate_resume(struct timer *t)
{
	struct service *svc = t->arg;

	svc->rate_wait = false;
	svc_update(svc->owner, svc);
}

static void
pause_service(struct sockd *sd, struct service *svc, unsigned ms)
{
	svc->paused = true;
	svc_update(sd, svc);
	if (loop_timer_set(&sd->loop, &svc->resume, ms) == -1) {
		/* Without a timer the pause could last forever; do not pause. */
		svc->paused = false;
		svc_update(sd, svc);
	}
}

/*
 * The steps a connection takes that can fail for lack of a resource, in
 * their order: one working proves those before it work too.
 */
enum fault_step {
	FAULT_NONE,
	FAULT_TAKE,	/* accept(), or buffers for datagrams */
	FAULT_START	/* the child's record, its stderr log, the fork */
};

static void
on_fault_timer(struct timer *t)
{
	struct service *svc = t->arg;

	svc->faulted = false;
	svc_update(svc->owner, svc);
}

/*
 * Out of descriptors, memory or processes: stop listening a while, then
 * retry, waiting longer each time. An episode is logged when it begins and
 * when it ends (fault_cleared), never in between: each retry that fails
 * would otherwise add a line.
 */
static void
resource_fault(struct sockd *sd, struct service *svc, enum fault_step step,
    const char *what)
{
	if (svc->fault_step == FAULT_NONE) {
		log_warn("service \"%s\": %s; pausing it briefly", svc->conf->name, what);
		svc->fault_ms = FAULT_FIRST_MS;
		svc->nfaults = 0;
	} else if ((svc->fault_ms *= 2) > FAULT_MAX_MS)
		svc->fault_ms = FAULT_MAX_MS;
	svc->nfaults++;
	if ((int)step > svc->fault_step)
		svc->fault_step = step;
	svc->faulted = true;
	svc_update(sd, svc);
	if (loop_timer_set(&sd->loop, &svc->fault_timer, svc->fault_ms) == -1) {
		/* Without a timer the pause could last forever; do not pause. */
		svc->faulted = false;
		svc_update(sd, svc);
	}
}

/* step worked: the episode is over once the furthest failed step works. */
static void
fault_cleared(struct service *svc, enum fault_step step)
{
	if (svc->fault_step == FAULT_NONE || (int)step < svc->fault_step)
		return;
	struct log_kv kv[] = { KV_S("service", svc->conf->name),
	    KV_I("failures", svc->nfaults) };
	log_event(LOG_INFO, "recovered", kv, 2,
	    "service \"%s\": serving again after %u failures for lack of resources",
	    svc->conf->name, svc->nfaults);
	svc->fault_step = FAULT_NONE;
	svc->fault_ms = 0;
	svc->nfaults = 0;
}

static void
log_accepted(const struct service *svc, const struct sockaddr *peer, pid_t pid)
{
	struct addr a;
	uint16_t port = 0;
	char ip[ADDR_STRLEN] = "-";

	if (!log_enabled(LOG_INFO))
		return;
	if (peer && addr_from_sockaddr(peer, &a, &port) == 0)
		addr_format(&a, ip);
	struct log_kv kv[] = { KV_S("service", svc->conf->name), KV_S("client", ip),
	    KV_I("port", port), KV_I("pid", pid) };
	if (peer)
		log_event(LOG_INFO, "accepted", kv, 4,
		    "service \"%s\": accepted %s port %u, pid %ld", svc->conf->name,
		    ip, port, (long)pid);
	else
		log_event(LOG_INFO, "accepted", kv, 4,
		    "service \"%s\": pid %ld took the socket", svc->conf->name,
		    (long)pid);
}

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
static void
retire_errlog(struct service *svc)
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
static void
renew_errlog(struct sockd *sd, struct service *svc)
{
	retire_errlog(svc);
	if (svc->conf->stderr_to == STDERR_LOG)
		svc->errlog = errlog_open(&sd->loop, svc, &sd->errlogs);
}

/*
 * Handlers lead their own process groups (spawn.c: new_session()), so the
 * whole group is signalled: what a handler started goes with it. As a
 * session leader a handler cannot leave its group; a child that has no
 * group yet (a built-in not yet past its setsid(), or one whose set-up
 * failed) is signalled alone.
 */
static void
kill_child(const struct child *ch, int sig)
{
	if (kill(-ch->pid, sig) == -1 && errno == ESRCH)
		(void)kill(ch->pid, sig);
}

/* SIGTERM when max_lifetime runs out, SIGKILL when the grace does too. */
static void
on_lifetime(struct timer *t)
{
	struct child *ch = t->arg;
	struct sockd *sd = ch->owner;

	if (!ch->term_sent) {
		log_info("service \"%s\": pid %ld outlived max_lifetime (%us), "
		    "terminating", ch->svc->conf->name, (long)ch->pid,
		    ch->svc->conf->max_lifetime);
		kill_child(ch, SIGTERM);
		ch->term_sent = true;
		if (loop_timer_set(&sd->loop, t, KILL_GRACE_MS) == -1)
			kill_child(ch, SIGKILL);
	} else {
		log_info("service \"%s\": pid %ld ignored SIGTERM, killing",
		    ch->svc->conf->name, (long)ch->pid);
		kill_child(ch, SIGKILL);
	}
}

static void on_child_exit(struct watch *);

/*
 * Reaping. With few children alive, SIGCHLD and waitpid(-1) cost least,
 * though the kernel walks every child on each call; a pidfd costs a file
 * and an epoll registration per child, but never a walk. From PIDFD_ABOVE
 * children alive on, new children get pidfds and those running get one
 * through pidfd_open(); below PIDFD_BELOW, new ones no longer do. The gap
 * keeps a count that hovers at one bound from switching to and fro.
 * Measured with hello exec'd at 128 and 512 in flight: the walk is the
 * cheaper at 128 (8 µs less master CPU per connection than pidfds), the
 * pidfd at 512.
 */
#define PIDFD_ABOVE 256
#define PIDFD_BELOW 64

/* SIGCHLD is read while any child may need it. */
static void
sync_sigchld(struct sockd *sd)
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
static void
watch_exit(struct sockd *sd, struct child *ch, int pidfd)
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
static bool
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
			watch_exit(sd, ch, fd);
		}
		sync_sigchld(sd);
	} else if (sd->by_pidfd && c->count < PIDFD_BELOW) {
		sd->by_pidfd = false;
		sync_sigchld(sd);
	}
	return sd->by_pidfd;
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
	ch->owner = sd;
	ch->exit = (struct watch){ .fd = -1, .fn = on_child_exit, .arg = ch };
	ch->lifetime = (struct timer){ .fn = on_lifetime, .arg = ch };
	return ch;
}

/* Records a started child: caps, per-source count, lifetime, reaping. */
static void
record_child(struct sockd *sd, struct child *ch, pid_t pid, int pidfd,
    struct source *src)
{
	struct service *svc = ch->svc;
	unsigned lifetime = svc->conf->max_lifetime;

	ch->pid = pid;
	ch->started_ms = loop_now_ms();
	children_add(&sd->children, ch);
	service_ref(svc);
	svc->nchildren++;
	if (src) {
		/* Released exactly when this child is reaped, however it ends. */
		src->count++;
		ch->has_source = true;
		ch->source = src->key;
	}
	watch_exit(sd, ch, pidfd);
	sync_sigchld(sd);
	if (lifetime && loop_timer_set(&sd->loop, &ch->lifetime, lifetime * 1000ULL) == -1)
		log_warn("service \"%s\": pid %ld: max_lifetime not enforced",
		    svc->conf->name, (long)pid);
}

/* Returns false when no child could be started (the caller may pause). */
static bool
start_child(struct sockd *sd, struct service *svc, struct conn *c,
    struct source *src)
{
	const struct svc_conf *sc = svc->conf;
	const char *what = NULL;
	struct child *ch;
	int exec_err = 0, pidfd;
	pid_t pid;

	if ((ch = child_new(sd, svc)) == NULL) {
		resource_fault(sd, svc, FAULT_START, "child record");
		return false;
	}
	if ((c->errfd = child_stderr(sd, svc)) == -2) {
		/* Out of descriptors, most likely: the same fault as accept's. */
		children_release(&sd->children, ch);
		resource_fault(sd, svc, FAULT_START, "stderr log");
		return false;
	}
	int *want = reap_by_pidfd(sd) ? &pidfd : NULL;
	pidfd = -1;
	/* As s6-tcpserver counts: this client's connections, this one too. */
	c->connnum = src ? src->count + 1 : 0;
	pid = sc->builtin ? spawn_builtin(svc, c, want) :
	    spawn_server(&sd->spawner, svc, c, want, &exec_err, &what);
	if (pid == -1) {
		children_release(&sd->children, ch);
		resource_fault(sd, svc, FAULT_START, "cannot start a child");
		return false;
	}
	if (exec_err) {
		errno = exec_err;
		if (strcmp(what, "execve") == 0)
			log_warn("service \"%s\": cannot execute %s", sc->name,
			    sc->server);
		else
			log_warn("service \"%s\": %s", sc->name, what);
	}
	fault_cleared(svc, FAULT_START);
	record_child(sd, ch, pid, pidfd, src);
	svc->st.accepted++;
	log_accepted(svc, c->peer, pid);
	return true;
}

/* Sends refuse_message, closes fd, counts and logs the refusal. */
static void
refuse_client(struct service *svc, int fd, const struct addr *a, uint16_t port,
    enum refuse_reason why, int64_t now)
{
	const struct svc_conf *sc = svc->conf;

	svc->st.refused[why]++;
	refuse(&svc->refusals, sc->name, fd, sc->refuse_message, a, port, why, now);
	if (svc->refusals.suppressed[why] && !loop_timer_armed(&svc->refuse_flush))
		(void)loop_timer_set(&((struct sockd *)svc->owner)->loop,
		    &svc->refuse_flush, 1000);
}

/*
 * Decides on a fresh connection before anything is forked. Returns false
 * when it was refused (and closed); *srcp is the client's per-source entry
 * when the service counts them: for per_source, and for the TCPCONNNUM of
 * every server (built-ins have no environment).
 */
static bool
admit(struct service *svc, int fd, const struct sockaddr *peer, int64_t now,
    struct source **srcp)
{
	const struct svc_conf *sc = svc->conf;
	enum refuse_reason why;
	struct source *src;
	struct addr a, key;
	uint16_t port;

	*srcp = NULL;
	if (addr_from_sockaddr(peer, &a, &port) == -1) {
		if (!svc->paused)
			return true;
		a = (struct addr){ .family = AF_UNSPEC };
		port = 0;
	}
	if (svc->paused)
		why = REFUSE_PAUSED;
	else if (!acl_allows(&sc->only_from, &sc->no_access, &a))
		why = REFUSE_ACCESS;
	else if (!sc->per_source && !sc->source_rate && !sc->server)
		return true;
	else {
		key = persource_key(&svc->sources, &a);
		/* Out of memory: serve rather than refuse for our own trouble. */
		if ((src = persource_get(&svc->sources, &key, now)) == NULL)
			return true;
		if (sc->per_source && src->count >= sc->per_source)
			why = REFUSE_PER_SOURCE;
		else if (!ratelimit_take(&src->bucket, now))
			why = REFUSE_SOURCE_RATE;
		else {
			*srcp = sc->per_source || sc->server ? src : NULL;
			return true;
		}
	}
	refuse_client(svc, fd, &a, port, why, now);
	return false;
}

static void
on_refuse_flush(struct timer *t)
{
	struct service *svc = t->arg;

	refuse_flush(&svc->refusals, svc->conf->name);
}

/* Out of rate tokens: stop accepting (clients wait in the backlog). */
static bool
rate_exhausted(struct sockd *sd, struct service *svc, int64_t now)
{
	int64_t wait = ratelimit_wait(&svc->rate, now);

	if (wait <= 0)
		return false;
	svc->rate_wait = true;
	if (loop_timer_set(&sd->loop, &svc->rate_timer, wait) == -1)
		svc->rate_wait = false;		/* retry on the next wake-up */
	return true;
}

/*
 * TCP built-ins such as daytime: the reply fits any fresh socket buffer, so
 * one non-blocking send, and a close, and the connection is done. *len is
 * -1 until the reply is formatted, once per wake-up.
 */
static void
reply_in_master(struct service *svc, int fd, char *reply, ssize_t *len)
{
	if (*len == -1)
		*len = svc->conf->builtin->dgram(NULL, 0, reply, REPLY_MAX);
	if (*len > 0)
		(void)send(fd, reply, *len, MSG_DONTWAIT | MSG_NOSIGNAL);
	svc->st.accepted++;
}

static void
accept_connections(struct sockd *sd, struct listener *l)
{
	struct service *svc = l->svc;
	struct sockaddr_storage peer, local;
	socklen_t plen, llen;
	struct conn c = { .peer = (struct sockaddr *)&peer };
	bool wildcard = addr_is_any(l->addr);
	bool in_master = answers_in_master(svc->conf);
	char reply[REPLY_MAX];
	ssize_t reply_len = -1;
	struct source *src;

	/* A socket bound to one address already knows its local end. */
	if (!wildcard) {
		addr_sockaddr(l->addr, svc->conf->port, &local);
		c.local = (struct sockaddr *)&local;
	}
	for (int i = 0; i < ACCEPT_BATCH && svc_wanted(sd, svc); i++) {
		int64_t now = ratelimit_now();
		/* A refusal takes no token. */
		if (!svc->paused && rate_exhausted(sd, svc, now))
			return;
		if ((c.fd = sock_accept(l->fd, &peer, &plen)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				resource_fault(sd, svc, FAULT_TAKE, "accept");
			else if (errno != EAGAIN)
				log_warn("service \"%s\": accept", svc->conf->name);
			return;
		}
		fault_cleared(svc, FAULT_TAKE);
		if (!svc->paused)
			(void)ratelimit_take(&svc->rate, now);
		if (!admit(svc, c.fd, c.peer, now, &src))
			continue;
		if (in_master) {
			reply_in_master(svc, c.fd, reply, &reply_len);
			close(c.fd);
			continue;
		}
		if (wildcard)
			c.local = sock_local(c.fd, &local, &llen) == 0 ?
			    (struct sockaddr *)&local : NULL;
		bool started = start_child(sd, svc, &c, src);
		close(c.fd);
		if (!started)
			return;
	}
}

static void
start_wait_child(struct sockd *sd, struct listener *l)
{
	struct service *svc = l->svc;
	struct conn c = { .fd = l->fd };

	/* The handler owns the socket now and expects ordinary blocking I/O. */
	if (sock_set_nonblock(l->fd, false) == -1) {
		log_warn("service \"%s\": fcntl", svc->conf->name);
		return;
	}
	if (start_child(sd, svc, &c, NULL)) {
		svc->busy = true;
		svc->busy_fd = l->fd;
	} else
		(void)sock_set_nonblock(l->fd, true);
}

/*
 * Reflection and loop protection for UDP built-ins: no answer to a
 * privileged port, to a broadcast or multicast source, or to the port of
 * any UDP service of ours, built-in or exec'd, on whatever address: a
 * datagram forged from one to an echo service would bounce between them
 * for ever, and an exec'd handler answers its sender as blindly as a
 * built-in. The port alone decides, as the source address is as easily
 * forged as the port.
 */
static bool
dgram_suspect(const struct sockd *sd, const struct addr *a, uint16_t port)
{
	if (port < 1024 || addr_is_group(a))
		return true;
	for (size_t i = 0; i < sd->nsvcs; i++) {
		const struct svc_conf *sc = sd->svcs[i]->conf;
		if (sc->proto == PROTO_UDP && sc->port == port)
			return true;
	}
	return false;
}

/* Sends the m replies queued in db->out, dropping what the socket refuses. */
static void
send_replies(int fd, struct dgram_batch *db, int m)
{
	int sent = 0, r;

	while (sent < m) {
		r = sendmmsg(fd, db->out + sent, m - sent, MSG_DONTWAIT);
		if (r > 0)
			sent += r;
		else if (r == -1 && errno == EINTR)
			continue;
		else if (r == -1 && (errno == EAGAIN || errno == ENOBUFS))
			return;		/* full: the clients will retry */
		else
			sent++;		/* this peer's problem; skip its reply */
	}
}

/* Whether a datagram from peer gets an answer (loop guard, access lists). */
static bool
dgram_answerable(struct sockd *sd, struct service *svc,
    const struct sockaddr *peer)
{
	const struct svc_conf *sc = svc->conf;
	struct addr a;
	uint16_t port;

	if (addr_from_sockaddr(peer, &a, &port) == -1)
		return false;
	if (sc->udp_loop_guard && dgram_suspect(sd, &a, port)) {
		/* Debug only: whoever forges the datagrams would choose the
		 * log's volume otherwise. */
		if (log_debugging()) {
			char ip[ADDR_STRLEN];
			addr_format(&a, ip);
			log_debug("service \"%s\": udp_loop_guard dropped a datagram "
			    "from %s port %u", sc->name, ip, port);
		}
		return false;
	}
	/* Datagrams are dropped unlogged: their source may be forged. */
	if (!acl_allows(&sc->only_from, &sc->no_access, &a)) {
		svc->st.refused[REFUSE_ACCESS]++;
		return false;
	}
	return true;
}

/* UDP built-ins: datagrams received, answered and sent in batches. */
static void
answer_datagrams(struct sockd *sd, struct listener *l)
{
	struct service *svc = l->svc;
	const struct builtin *b = svc->conf->builtin;
	struct dgram_batch *db = dgram_buffers(sd);

	if (db == NULL) {
		resource_fault(sd, svc, FAULT_TAKE, "datagram buffers");
		return;
	}
	fault_cleared(svc, FAULT_TAKE);
	for (int round = 0, errors = 0; round < DGRAM_ROUNDS; round++) {
		int n, m = 0;

		for (int i = 0; i < DGRAM_BATCH; i++) {
			db->iin[i] = (struct iovec){ db->bufin + (size_t)i * DGRAM_MAX,
			    DGRAM_MAX };
			db->in[i].msg_hdr = (struct msghdr){ .msg_name = &db->peer[i],
			    .msg_namelen = sizeof(db->peer[i]), .msg_iov = &db->iin[i],
			    .msg_iovlen = 1 };
		}
		n = recvmmsg(l->fd, db->in, DGRAM_BATCH, MSG_DONTWAIT, NULL);
		if (n == -1) {
			if (errno == EAGAIN || ++errors > DGRAM_BATCH)
				return;
			round--;	/* an ICMP error from an earlier reply */
			continue;
		}
		for (int i = 0; i < n; i++) {
			char *out = db->bufout + (size_t)i * DGRAM_MAX;
			ssize_t len;
			if (!dgram_answerable(sd, svc, (struct sockaddr *)&db->peer[i]))
				continue;
			len = b->dgram(db->iin[i].iov_base, db->in[i].msg_len, out,
			    DGRAM_MAX);
			if (len < 0)
				continue;
			db->iout[m] = (struct iovec){ out, len };
			db->out[m].msg_hdr = (struct msghdr){ .msg_name = &db->peer[i],
			    .msg_namelen = db->in[i].msg_hdr.msg_namelen,
			    .msg_iov = &db->iout[m], .msg_iovlen = 1 };
			m++;
		}
		send_replies(l->fd, db, m);
		if (n < DGRAM_BATCH)
			return;
	}
}

static void
on_service(struct watch *w)
{
	struct listener *l = w->arg;
	struct service *svc = l->svc;
	struct sockd *sd = svc->owner;

	if (udp_builtin(svc->conf))
		answer_datagrams(sd, l);
	else if (svc->conf->wait)
		start_wait_child(sd, l);
	else
		accept_connections(sd, l);
	svc_update(sd, svc);
	if (sd->children.count >= sd->cfg->global.max_children)
		update_all(sd);
}

static void
log_ended(const struct child *ch, int status, uint64_t ms)
{
	const char *name = ch->svc->conf->name;
	char how[64];
	struct log_kv kv[4] = { KV_S("service", name), KV_I("pid", ch->pid),
	    KV_I("duration_ms", (long long)ms) };

	if (!log_enabled(LOG_INFO))
		return;
	if (WIFSIGNALED(status)) {
		kv[3] = KV_I("signal", WTERMSIG(status));
		snprintf(how, sizeof(how), "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	} else {
		kv[3] = KV_I("status", WEXITSTATUS(status));
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	}
	log_event(LOG_INFO, "ended", kv, 4, "service \"%s\": pid %ld %s after %llu ms",
	    name, (long)ch->pid, how, (unsigned long long)ms);
}

/* Counts the ending and applies failure back-off. */
static void
child_ended(struct sockd *sd, struct service *svc, int status, uint64_t ms)
{
	bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;

	if (WIFSIGNALED(status))
		svc->st.ended_signal++;
	else if (failed)
		svc->st.ended_failed++;
	else
		svc->st.ended_ok++;
	if (!failed || ms >= FAST_FAIL_MS) {
		svc->nfails = 0;
		svc->backoff_ms = 1000;
		return;
	}
	if (svc_closed(svc) || svc->paused ||
	    !service_fail(svc, loop_now_ms(), FAIL_WINDOW_MS))
		return;
	log_event(LOG_WARNING, "paused", &KV_S("service", svc->conf->name), 1,
	    "service \"%s\": more than %u fast failures within %d s; pausing for %u s",
	    svc->conf->name, svc->fails_cap - 1, FAIL_WINDOW_MS / 1000,
	    svc->backoff_ms / 1000);
	pause_service(sd, svc, svc->backoff_ms);
	svc->backoff_ms = svc->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    svc->backoff_ms * 2;
}

/* Forgets a child that has been waited for; status as waitpid() gives it.
 * The caller updates the listeners once for all it reaped. */
static void
child_reaped(struct sockd *sd, struct child *ch, int status)
{
	struct service *svc = ch->svc;
	uint64_t ms = loop_now_ms() - ch->started_ms;

	(void)children_take(&sd->children, ch->pid);
	if (ch->exit.fd != -1)
		loop_close(&sd->loop, &ch->exit);
	else
		sd->children.nopidfd--;
	sync_sigchld(sd);
	loop_timer_stop(&sd->loop, &ch->lifetime);
	svc->nchildren--;
	if (ch->has_source)
		persource_release(&svc->sources, &ch->source, ratelimit_now());
	if (svc->busy) {
		svc->busy = false;
		if (svc->busy_fd != -1)
			(void)sock_set_nonblock(svc->busy_fd, true);
	}
	if (svc->errlog)
		errlog_ended(svc->errlog, ch->pid);
	log_ended(ch, status, ms);
	child_ended(sd, svc, status, ms);
	service_unref(svc);
	children_release(&sd->children, ch);
}

/* The child's pidfd is readable: it has ended, and is waited for alone. */
static void
on_child_exit(struct watch *w)
{
	struct child *ch = w->arg;
	struct sockd *sd = ch->owner;
	siginfo_t si = { 0 };

	if (waitid(P_PIDFD, w->fd, &si, WEXITED | WNOHANG) == -1) {
		/* Cannot be while the record lives; stop the pidfd spinning. */
		log_warn("service \"%s\": waitid for pid %ld", ch->svc->conf->name,
		    (long)ch->pid);
		loop_close(&sd->loop, w);
		sd->children.nopidfd++;
		sync_sigchld(sd);
		return;
	}
	if (si.si_pid == 0)
		return;
	/* Back to the encoding of waitpid(), which the rest reads. */
	child_reaped(sd, ch, si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 :
	    (si.si_status & 0x7f) | (si.si_code == CLD_DUMPED ? 0x80 : 0));
	update_all(sd);
}

/* SIGCHLD, read while some child has no pidfd: waits for any. */
static void
reap_children(struct sockd *sd)
{
	struct child *ch;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if ((ch = children_find(&sd->children, pid)) != NULL)
			child_reaped(sd, ch, status);
	update_all(sd);
}

static void
log_stats(const struct sockd *sd)
{
	for (size_t i = 0; i < sd->nsvcs; i++) {
		const struct service *svc = sd->svcs[i];
		const struct service_stats *st = &svc->st;
		unsigned long long refused = 0;
		char by[192] = "";

		for (int r = 0; r < REFUSE_NREASONS; r++) {
			refused += st->refused[r];
			snprintf(by + strlen(by), sizeof(by) - strlen(by), "%s%s %llu",
			    r ? ", " : "", refuse_reason_name(r), st->refused[r]);
		}
		struct log_kv kv[] = { KV_S("service", svc->conf->name),
		    KV_I("accepted", st->accepted), KV_I("refused", refused),
		    KV_I("refused_access", st->refused[REFUSE_ACCESS]),
		    KV_I("refused_per_source", st->refused[REFUSE_PER_SOURCE]),
		    KV_I("refused_source_rate", st->refused[REFUSE_SOURCE_RATE]),
		    KV_I("refused_instances", st->refused[REFUSE_INSTANCES]),
		    KV_I("refused_paused", st->refused[REFUSE_PAUSED]),
		    KV_I("active", svc->nchildren), KV_I("ended_ok", st->ended_ok),
		    KV_I("ended_failed", st->ended_failed),
		    KV_I("ended_signal", st->ended_signal),
		    KV_S("paused", svc->paused || svc->faulted ? "yes" : "no") };
		log_event(LOG_INFO, "stats", kv, sizeof(kv) / sizeof(kv[0]),
		    "service \"%s\": accepted %llu, refused %llu (%s), active %u, "
		    "ended ok %llu, failed %llu, signaled %llu, paused %s",
		    svc->conf->name, st->accepted, refused, by, svc->nchildren,
		    st->ended_ok, st->ended_failed, st->ended_signal,
		    svc->paused || svc->faulted ? "yes" : "no");
	}
}

/*
 * A signal sockd has no use for (sig.c). At most one line a second for
 * each: a flood of queued real-time signals must not flood the log.
 */
static void
ignore_signal(struct sockd *sd, int sig)
{
	uint64_t now = loop_now_ms();

	if (sig <= 0 || sig >= SIG_NUM)
		return;
	if (sd->sig_logged_ms[sig] != 0 && now - sd->sig_logged_ms[sig] < 1000) {
		sd->sig_unlogged[sig]++;
		return;
	}
	if (sd->sig_unlogged[sig])
		log_warnx("ignoring signal %d (%s), and %u more since the last line",
		    sig, strsignal(sig), sd->sig_unlogged[sig]);
	else
		log_warnx("ignoring signal %d (%s)", sig, strsignal(sig));
	sd->sig_logged_ms[sig] = now;
	sd->sig_unlogged[sig] = 0;
}

static void
on_one_signal(struct sockd *sd, int sig)
{
	switch (sig) {
	case SIGCHLD:
		reap_children(sd);
		break;
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		if (!sd->quit)
			log_info("%s: shutting down", strsignal(sig));
		sd->quit = true;
		break;
	case SIGHUP:
		sd->reload = true;
		break;
	case SIGUSR1:
		log_stats(sd);
		break;
	default:
		ignore_signal(sd, sig);
		break;
	}
}

static void
on_signal(struct watch *w)
{
	struct sockd *sd = w->arg;
	int sigs[SIG_READ_MAX], n;

	do {
		n = sig_read(w->fd, sigs, SIG_READ_MAX);
		for (int i = 0; i < n; i++)
			on_one_signal(sd, sigs[i]);
	} while (n == SIG_READ_MAX);
}

/* Drops a service from the daemon; it lives on while children use it. */
static void
retire(struct sockd *sd, struct service *svc)
{
	for (size_t i = 0; i < svc->nls; i++)
		loop_remove(&sd->loop, &svc->ls[i].watch);
	loop_timer_stop(&sd->loop, &svc->resume);
	loop_timer_stop(&sd->loop, &svc->fault_timer);
	loop_timer_stop(&sd->loop, &svc->rate_timer);
	if (loop_timer_armed(&svc->refuse_flush)) {
		loop_timer_stop(&sd->loop, &svc->refuse_flush);
		refuse_flush(&svc->refusals, svc->conf->name);
	}
	svc->paused = svc->faulted = svc->rate_wait = false;
	retire_errlog(svc);
	service_close(svc);
	service_unref(svc);
}

/* Whether every address of a is one of b's. */
static bool
addrs_within(const struct svc_conf *a, const struct svc_conf *b)
{
	for (size_t i = 0; i < a->naddrs; i++) {
		size_t j = 0;
		while (j < b->naddrs && !addr_equal(&a->addrs[i], &b->addrs[j]))
			j++;
		if (j == b->naddrs)
			return false;
	}
	return true;
}

/*
 * The running service sc can keep: same protocol, port and v6only, and the
 * same set of addresses (in any order). Anything else is bound anew.
 */
static struct service *
take_match(struct sockd *sd, const struct svc_conf *sc)
{
	for (size_t i = 0; i < sd->nsvcs; i++) {
		struct service *svc = sd->svcs[i];
		const struct svc_conf *old;
		if (svc == NULL)
			continue;
		old = svc->conf;
		if (old->proto == sc->proto && old->port == sc->port &&
		    old->v6only == sc->v6only && old->naddrs == sc->naddrs &&
		    addrs_within(old, sc) && addrs_within(sc, old)) {
			sd->svcs[i] = NULL;
			return svc;
		}
	}
	return NULL;
}

static int
bind_new(struct sockd *sd, const struct svc_conf *sc, struct config *cfg,
    struct service **out)
{
	struct service *svc = service_new(sc, cfg);
	char what[300];

	if (svc == NULL) {
		log_warn("service \"%s\"", sc->name);
		return -1;
	}
	if (service_open(svc) == -1) {
		int saved = errno;
		service_describe(svc, what, sizeof(what));
		errno = saved;
		log_warn("%s: cannot bind", what);
		service_unref(svc);
		return -1;
	}
	svc->owner = sd;
	for (size_t i = 0; i < svc->nls; i++)
		svc->ls[i].watch.fn = on_service;
	svc->resume.fn = on_resume;
	svc->fault_timer.fn = on_fault_timer;
	svc->refuse_flush.fn = on_refuse_flush;
	svc->rate_timer.fn = on_rate_resume;
	*out = svc;
	return 0;
}

/* Whether sc names the same user as the enabled service of its name in
 * prev, the running configuration (NULL at start). */
static bool
same_user(const struct config *prev, const struct svc_conf *sc)
{
	for (size_t i = 0; prev && i < prev->nsvcs; i++) {
		const struct svc_conf *o = &prev->svcs[i];
		if (!o->disabled && strcmp(o->name, sc->name) == 0)
			return o->set_ids == sc->set_ids &&
			    (!sc->set_ids || o->uid == sc->uid);
	}
	return false;
}

/*
 * Without root, sockd can only run handlers as itself: a service naming
 * anyone else is an error (sockd -t still checks the file). With root,
 * say which servers keep it: at start, and on a reload for the services
 * that are new or run as another user than before.
 */
static int
check_ids(const struct config *prev, const struct svc_conf *sc)
{
	if (geteuid() == 0) {
		if (sc->server && (!sc->set_ids || sc->uid == 0) &&
		    !same_user(prev, sc))
			log_warnx("service \"%s\": %s will run as root", sc->name,
			    sc->server);
		return 0;
	}
	if (sc->set_ids && (sc->uid != geteuid() || sc->gid != getegid())) {
		log_warnx("service \"%s\" (%s:%d): cannot switch to user %s: "
		    "sockd is not running as root", sc->name, sc->file, sc->line,
		    sc->user ? sc->user : "(group only)");
		return -1;
	}
	return 0;
}

/*
 * Builds the services of cfg: kept ones (same protocol, addresses and port)
 * move over with their sockets and children, the rest are bound anew. All
 * or nothing: on failure the old list is left as it was and -1 returned.
 */
static int
switch_services(struct sockd *sd, struct config *cfg)
{
	struct service **nv = calloc(cfg->nenabled + 1, sizeof(*nv));
	const struct svc_conf **nc = calloc(cfg->nenabled + 1, sizeof(*nc));
	size_t n = 0;

	if (nv == NULL || nc == NULL) {
		log_warn("reload");
		goto fail;
	}
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		const struct svc_conf *sc = &cfg->svcs[i];
		if (sc->disabled)
			continue;
		if (check_ids(sd->cfg == cfg ? NULL : sd->cfg, sc) == -1)
			goto undo;
		nc[n] = sc;
		if ((nv[n] = take_match(sd, sc)) == NULL &&
		    bind_new(sd, sc, cfg, &nv[n]) == -1)
			goto undo;
		n++;
	}
	/* Committed: kept services take their new settings, the rest go. */
	for (size_t i = 0; i < n; i++) {
		if (nv[i]->conf != nc[i] && service_adopt(nv[i], nc[i], cfg) == -1)
			log_warn("service \"%s\": keeps its old settings", nc[i]->name);
		/* Its stderr setting may have changed. */
		renew_errlog(sd, nv[i]);
	}
	for (size_t i = 0; i < sd->nsvcs; i++)
		if (sd->svcs[i])
			retire(sd, sd->svcs[i]);
	free(sd->svcs);
	free(nc);
	sd->svcs = nv;
	sd->nsvcs = n;
	return 0;
undo:
	for (size_t i = 0; i < n; i++) {
		if (nv[i]->cfg == cfg) {	/* bound for this reload */
			service_unref(nv[i]);
			continue;
		}
		for (size_t j = 0; j < sd->nsvcs; j++)
			if (sd->svcs[j] == NULL) {
				sd->svcs[j] = nv[i];
				break;
			}
	}
fail:
	free(nv);
	free(nc);
	return -1;
}

static void
apply_log_config(const struct sockd *sd, const struct config *cfg)
{
	const struct global_conf *g = &cfg->global;
	bool to_syslog = g->log == LOG_DEST_DEFAULT ? !sd->foreground :
	    g->log == LOG_DEST_SYSLOG;

	log_configure(to_syslog, g->log_format == LOG_FORMAT_JSON,
	    sd->cli_log_level >= 0 ? sd->cli_log_level :
	    g->log_level >= 0 ? g->log_level : LOG_INFO);
}

void
master_log_config(const struct sockd *sd)
{
	apply_log_config(sd, sd->cfg);
	for (char **p = sd->cfg->skipped; p && *p; p++)
		log_debug("include_dir: ignoring %s (not named *.conf)", *p);
}

static void
log_cfgerr(const char *text)
{
	for (const char *l = text, *nl; l && *l; l = nl + 1) {
		if ((nl = strchr(l, '\n')) == NULL)
			nl = l + strlen(l) - 1;
		log_warnx("reload: %.*s", (int)(nl - l), l);
	}
}

/*
 * The check has answered (or timed out): load in the master only a file
 * the child loaded, then switch all services or none.
 */
static void
reload_finish(struct sockd *sd)
{
	struct cfgerr err = { 0 };
	struct config *cfg = NULL;
	const char *path = sd->cfg->path;

	loop_remove(&sd->loop, &sd->check_watch);
	loop_timer_stop(&sd->loop, &sd->check_timer);
	if (cfgcheck_finish(&sd->check, path, &err) == 0)
		cfg = config_load(path, &err);
	if (cfg == NULL) {
		log_cfgerr(err.text);
		log_warnx("reload failed; keeping the running configuration");
	} else if (switch_services(sd, cfg) == -1) {
		log_warnx("reload abandoned; keeping the running configuration");
		config_unref(cfg);
	} else {
		config_unref(sd->cfg);
		sd->cfg = cfg;
		master_log_config(sd);
		update_all(sd);
		log_info("reloaded: %zu services", sd->nsvcs);
	}
	cfgerr_free(&err);
	notify_send(&sd->notify, "READY=1");
	if (sd->reload_again) {
		sd->reload_again = false;
		sd->reload = true;
	}
}

static void
on_check(struct watch *w)
{
	struct sockd *sd = w->arg;

	if (cfgcheck_read(&sd->check) == 1)
		reload_finish(sd);
}

static void
on_check_timeout(struct timer *t)
{
	reload_finish(t->arg);
}

/*
 * SIGHUP: the new file is loaded first in a child (cfgcheck.h), while the
 * master goes on serving; a hostile file can only cost that child.
 */
static void
reload(struct sockd *sd)
{
	sd->reload = false;
	if (sd->check.pid > 0) {
		sd->reload_again = true;
		return;
	}
	notify_send(&sd->notify, "RELOADING=1");
	log_info("SIGHUP: reloading %s", sd->cfg->path);
	if (cfgcheck_start(&sd->check, sd->cfg->path) == -1) {
		log_warn("reload: cannot check %s", sd->cfg->path);
		log_warnx("reload failed; keeping the running configuration");
		notify_send(&sd->notify, "READY=1");
		return;
	}
	sd->check_watch = (struct watch){ .fd = sd->check.fd, .fn = on_check,
	    .arg = sd };
	sd->check_timer = (struct timer){ .fn = on_check_timeout, .arg = sd };
	if (loop_enable(&sd->loop, &sd->check_watch, true) == -1 ||
	    loop_timer_set(&sd->loop, &sd->check_timer, CFGCHECK_TIMEOUT_MS) == -1) {
		log_warn("reload");
		reload_finish(sd);
	}
}

int
master_open(struct sockd *sd, struct config *cfg)
{
	sd->cfg = cfg;
	sd->check = (struct cfgcheck){ .pid = -1, .fd = -1 };
	sd->loop.epfd = -1;
	sd->sigwatch.fd = -1;
	sd->devnull = -1;
	sd->spawner = (struct spawner){ .own_in = -1, .own_err = -1 };
	/* Startup warnings still go to stderr, but in the configured format. */
	log_configure(false, cfg->global.log_format == LOG_FORMAT_JSON, -1);
	notify_open(&sd->notify);
	if (loop_init(&sd->loop) == -1 ||
	    /* Only touched as far as datagrams fill them. */
	    (sd->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		log_warn("startup");
		return -1;
	}
	return switch_services(sd, cfg);
}

/*
 * After daemonizing: a signalfd only wakes epoll for the process that made
 * it, so it must be created by the process that will run the loop; and the
 * fds 0-2 that children borrow are the ones daemonizing left.
 */
int
master_start(struct sockd *sd)
{
	int sigfd;

	if (spawn_init(&sd->spawner) == -1) {
		log_warn("startup: fds 0-2");
		return -1;
	}
	if ((sigfd = sig_init()) == -1) {
		log_warn("startup: signals");
		return -1;
	}
	sd->sigwatch = (struct watch){ .fd = sigfd, .fn = on_signal, .arg = sd };
	if (loop_enable(&sd->loop, &sd->sigwatch, true) == -1) {
		log_warn("startup: epoll");
		return -1;
	}
	sync_sigchld(sd);
	update_all(sd);
	return 0;
}

static void
on_grace_over(struct timer *t)
{
	*(bool *)t->arg = true;
}

/* shutdown = "terminate": SIGTERM every child, SIGKILL what outlives the grace. */
static void
terminate_children(struct sockd *sd)
{
	bool over = false;
	struct timer grace = { .fn = on_grace_over, .arg = &over };
	struct children *c = &sd->children;

	if (c->count == 0)
		return;
	log_info("terminating %zu children (grace %u s)", c->count,
	    sd->cfg->global.shutdown_grace);
	for (size_t i = 0; i < c->cap; i++)
		if (c->slots[i])
			kill_child(c->slots[i], SIGTERM);
	if (loop_timer_set(&sd->loop, &grace, sd->cfg->global.shutdown_grace * 1000ULL) == 0)
		while (c->count > 0 && !over && loop_once(&sd->loop) != -1)
			;
	loop_timer_stop(&sd->loop, &grace);
	if (c->count > 0) {
		log_warnx("killing %zu children that outlived the grace period", c->count);
		for (size_t i = 0; i < c->cap; i++)
			if (c->slots[i])
				kill_child(c->slots[i], SIGKILL);
		while (c->count > 0 && loop_once(&sd->loop) != -1)
			;
	}
}

/*
 * shutdown = "leave": the handlers left running still write to their
 * stderr sockets, and once the master is gone nobody would read them: the
 * next write would raise SIGPIPE in the handler. A drain process takes
 * the reading ends over and logs on until the last writer has closed.
 */
static void
leave_children(struct sockd *sd)
{
	size_t n = sd->children.count;
	pid_t pid;

	if (n == 0 || sd->errlogs == NULL)
		return;
	if ((pid = errlog_handover(&sd->errlogs)) == -1)
		log_warn("leaving %zu children: nothing will read their stderr", n);
	else
		log_info("leaving %zu children; pid %ld logs their stderr", n,
		    (long)pid);
}

int
master_run(struct sockd *sd)
{
	notify_send(&sd->notify, "READY=1");
	while (!sd->quit) {
		if (loop_once(&sd->loop) == -1) {
			log_warn("epoll_wait");
			return 1;
		}
		if (sd->reload && !sd->quit)
			reload(sd);
	}
	notify_send(&sd->notify, "STOPPING=1");
	/* Stop accepting at once; children finish or are terminated. */
	for (size_t i = 0; i < sd->nsvcs; i++)
		retire(sd, sd->svcs[i]);
	sd->nsvcs = 0;
	if (sd->cfg->global.shutdown == SHUTDOWN_TERMINATE)
		terminate_children(sd);
	else
		leave_children(sd);
	return 0;
}

void
master_close(struct sockd *sd)
{
	struct children *c = &sd->children;

	if (sd->check.pid > 0) {
		struct cfgerr err = { 0 };
		loop_remove(&sd->loop, &sd->check_watch);
		loop_timer_stop(&sd->loop, &sd->check_timer);
		cfgcheck_finish(&sd->check, sd->cfg->path, &err);
		cfgerr_free(&err);
	}
	for (size_t i = 0; i < sd->nsvcs; i++)
		retire(sd, sd->svcs[i]);
	free(sd->svcs);
	sd->svcs = NULL;
	sd->nsvcs = 0;
	/* Children left running (shutdown = "leave") keep going; we only
	 * drop our records of them. */
	for (size_t i = 0; i < c->cap; i++) {
		struct child *ch = c->slots[i];
		if (ch == NULL)
			continue;
		if (ch->exit.fd != -1)
			close(ch->exit.fd);
		service_unref(ch->svc);
	}
	errlog_close_all(&sd->errlogs);
	if (sd->sigwatch.fd != -1)
		close(sd->sigwatch.fd);
	if (sd->devnull != -1)
		close(sd->devnull);
	spawn_free(&sd->spawner);
	loop_free(&sd->loop);
	children_free(&sd->children);
	notify_close(&sd->notify);
	if (sd->dgram) {
		unforked_free(sd->dgram->bufin, 2 * DGRAM_BUFSIZE);
		free(sd->dgram);
		sd->dgram = NULL;
	}
}
