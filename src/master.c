#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin.h"
#include "log.h"
#include "master.h"
#include "sig.h"
#include "sock.h"
#include "spawn.h"

/* Connections taken per wake-up: enough to drain a burst, small enough
 * that one busy service cannot starve the others. */
#define ACCEPT_BATCH 32
#define DGRAM_BATCH 64
#define DGRAM_MAX 65536
/* After max_lifetime a handler gets SIGTERM, and this long to go. */
#define KILL_GRACE_MS 5000

enum { TIMER_TERM, TIMER_KILL };

static bool
answers_in_master(const struct svc_conf *sc)
{
	return sc->proto == PROTO_UDP && sc->builtin != NULL;
}

/* Whether the master should be listening on svc right now. */
static bool
svc_wanted(const struct sockd *sd, const struct service *svc)
{
	if (sd->quit)
		return false;
	if (answers_in_master(svc->conf))
		return true;
	return !svc->busy && !service_at_cap(svc) && svc->resume_at == 0 &&
	    sd->children.count < sd->cfg->global.max_children;
}

static void
svc_update(struct sockd *sd, struct service *svc)
{
	bool on = svc_wanted(sd, svc);

	for (size_t i = 0; i < svc->nls; i++)
		if (loop_enable(&sd->loop, &svc->ls[i].watch, on) == -1)
			log_warn("service \"%s\": epoll", svc->conf->name);
}

static void
update_all(struct sockd *sd)
{
	for (size_t i = 0; i < sd->nsvcs; i++)
		svc_update(sd, &sd->svcs[i]);
}

static int64_t
timespec_ms(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

static void
record_child(struct sockd *sd, struct service *svc, pid_t pid,
    struct source *src)
{
	unsigned lifetime = svc->conf->max_lifetime;
	struct child *ch;

	if (children_add(&sd->children, pid, svc) == -1 ||
	    (ch = children_find(&sd->children, pid)) == NULL) {
		/* Unrecorded, it will still be reaped; only the caps miss it. */
		log_warn("service \"%s\": pid %ld not recorded", svc->conf->name,
		    (long)pid);
		return;
	}
	svc->nchildren++;
	if (src) {
		/* Released exactly when this child is reaped, however it ends. */
		src->count++;
		ch->has_source = true;
		ch->source = src->key;
	}
	if (lifetime && timers_add(&sd->timers, timespec_ms(&ch->started) +
	    lifetime * 1000LL, pid, TIMER_TERM) == -1)
		log_warn("service \"%s\": pid %ld: max_lifetime not enforced",
		    svc->conf->name, (long)pid);
}

static void
log_connection(const struct service *svc, const struct sockaddr *peer, pid_t pid)
{
	struct addr a;
	uint16_t port;
	char ip[ADDR_STRLEN];

	if (!log_debugging() || addr_from_sockaddr(peer, &a, &port) == -1)
		return;
	addr_format(&a, ip);
	log_debug("service \"%s\": connection from %s port %u, pid %ld",
	    svc->conf->name, ip, port, (long)pid);
}

static void
start_child(struct sockd *sd, struct service *svc, const struct conn *c,
    struct source *src)
{
	const struct svc_conf *sc = svc->conf;
	const char *what = NULL;
	int exec_err = 0;
	pid_t pid;

	pid = sc->builtin ? spawn_builtin(svc, c) :
	    spawn_server(svc, c, &exec_err, &what);
	if (pid == -1) {
		log_warn("service \"%s\": cannot start a child", sc->name);
		return;
	}
	if (exec_err) {
		errno = exec_err;
		if (strcmp(what, "execve") == 0)
			log_warn("service \"%s\": cannot execute %s", sc->name,
			    sc->server);
		else
			log_warn("service \"%s\": %s", sc->name, what);
	}
	record_child(sd, svc, pid, src);
	if (c->peer)
		log_connection(svc, c->peer, pid);
	else
		log_debug("service \"%s\": pid %ld took the socket", sc->name, (long)pid);
}

/*
 * Decides on a fresh connection before anything is forked. Returns false
 * when it was refused (and closed); *srcp is the client's per-source entry
 * when the service counts them.
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
	if (addr_from_sockaddr(peer, &a, &port) == -1)
		return true;
	if (!acl_allows(&sc->only_from, &sc->no_access, &a))
		why = REFUSE_ACCESS;
	else if (!sc->per_source && !sc->source_rate)
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
			*srcp = sc->per_source ? src : NULL;
			return true;
		}
	}
	refuse(&svc->refusals, sc->name, fd, sc->refuse_message, &a, port, why, now);
	return false;
}

static void
accept_connections(struct sockd *sd, struct listener *l)
{
	struct service *svc = l->svc;
	struct sockaddr_storage peer, local;
	socklen_t plen, llen;
	struct conn c = { .peer = (struct sockaddr *)&peer };
	struct source *src;

	/* A socket bound to one address already knows its local end. */
	if (!addr_is_any(l->addr)) {
		llen = addr_sockaddr(l->addr, svc->conf->port, &local);
		c.local = (struct sockaddr *)&local;
	}
	for (int i = 0; i < ACCEPT_BATCH && svc_wanted(sd, svc); i++) {
		int64_t now = ratelimit_now(), wait;
		/* Out of tokens: stop accepting; clients wait in the backlog. */
		if ((wait = ratelimit_wait(&svc->rate, now)) > 0) {
			svc->resume_at = now + wait;
			break;
		}
		if ((c.fd = sock_accept(l->fd, &peer, &plen)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				log_warn("service \"%s\": accept", svc->conf->name);
			break;
		}
		(void)ratelimit_take(&svc->rate, now);
		if (!admit(svc, c.fd, c.peer, now, &src))
			continue;
		if (addr_is_any(l->addr)) {
			c.local = sock_local(c.fd, &local, &llen) == 0 ?
			    (struct sockaddr *)&local : NULL;
		}
		start_child(sd, svc, &c, src);
		close(c.fd);
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
	start_child(sd, svc, &c, NULL);
	if (svc->nchildren > 0) {
		svc->busy = true;
		svc->busy_fd = l->fd;
	} else
		(void)sock_set_nonblock(l->fd, true);
}

/*
 * Reflection and loop protection for UDP built-ins: no answer to a
 * privileged port, to another built-in (two echo services would bounce a
 * datagram forever), or to a broadcast or multicast source.
 */
static bool
dgram_suspect(const struct sockd *sd, const struct sockaddr *peer)
{
	struct addr a;
	uint16_t port;

	if (addr_from_sockaddr(peer, &a, &port) == -1)
		return true;
	if (port < 1024 || addr_is_group(&a))
		return true;
	for (size_t i = 0; i < sd->nsvcs; i++) {
		const struct svc_conf *sc = sd->svcs[i].conf;
		if (answers_in_master(sc) && sc->port == port)
			return true;
	}
	return false;
}

/* UDP built-ins: one non-blocking receive and send per datagram. */
static bool
dgram_allowed(const struct svc_conf *sc, const struct sockaddr *peer)
{
	struct addr a;
	uint16_t port;

	return addr_from_sockaddr(peer, &a, &port) == 0 &&
	    acl_allows(&sc->only_from, &sc->no_access, &a);
}

static void
answer_datagrams(struct sockd *sd, struct listener *l)
{
	const struct svc_conf *sc = l->svc->conf;
	const struct builtin *b = sc->builtin;
	struct sockaddr_storage peer;

	for (int i = 0; i < DGRAM_BATCH; i++) {
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(l->fd, sd->dgram_in, DGRAM_MAX, MSG_DONTWAIT,
		    (struct sockaddr *)&peer, &plen);
		if (n == -1) {
			if (errno == EAGAIN)
				break;
			continue;	/* an ICMP error from an earlier reply */
		}
		if (sc->udp_loop_guard && dgram_suspect(sd, (struct sockaddr *)&peer))
			continue;
		/* Datagrams are dropped unlogged: their source may be forged. */
		if (!dgram_allowed(sc, (struct sockaddr *)&peer))
			continue;
		ssize_t out = b->dgram(sd->dgram_in, n, sd->dgram_out, DGRAM_MAX);
		if (out >= 0)
			(void)sendto(l->fd, sd->dgram_out, out, MSG_DONTWAIT,
			    (struct sockaddr *)&peer, plen);
	}
}

static void
on_service(struct watch *w)
{
	struct listener *l = w->arg;
	struct service *svc = l->svc;
	struct sockd *sd = svc->owner;

	if (answers_in_master(svc->conf))
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
log_reaped(const struct child *ch, int status)
{
	const char *name = ch->svc->conf->name;

	if (!log_debugging())
		return;
	if (WIFSIGNALED(status))
		log_debug("service \"%s\": pid %ld killed by signal %d (%s)", name,
		    (long)ch->pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		log_debug("service \"%s\": pid %ld exited with status %d", name,
		    (long)ch->pid, WEXITSTATUS(status));
}

static void
reap_children(struct sockd *sd)
{
	struct child ch;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (!children_take(&sd->children, pid, &ch))
			continue;
		ch.svc->nchildren--;
		if (ch.has_source)
			persource_release(&ch.svc->sources, &ch.source,
			    ratelimit_now());
		if (ch.svc->busy) {
			ch.svc->busy = false;
			(void)sock_set_nonblock(ch.svc->busy_fd, true);
		}
		log_reaped(&ch, status);
	}
	update_all(sd);
}

static void
on_signal(struct watch *w)
{
	struct sockd *sd = w->arg;
	int sig;

	while ((sig = sig_next(w->fd)) > 0) {
		switch (sig) {
		case SIGCHLD:
			reap_children(sd);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("%s: shutting down", strsignal(sig));
			sd->quit = true;
			break;
		default:
			log_info("%s: ignored", strsignal(sig));
		}
	}
}

/*
 * Without root, sockd can only run handlers as itself: a service naming
 * anyone else is a startup error (sockd -t still checks the file). With
 * root, say which servers keep it.
 */
static int
check_ids(const struct svc_conf *sc)
{
	if (geteuid() == 0) {
		if (sc->server && (!sc->set_ids || sc->uid == 0))
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

/* The next lifetime deadline or paused service, in ms from now; -1: none. */
static int
next_timeout(const struct sockd *sd, int64_t now)
{
	const struct timer *t = timers_peek(&sd->timers);
	int64_t next = t ? t->when : INT64_MAX;

	for (size_t i = 0; i < sd->nsvcs; i++)
		if (sd->svcs[i].resume_at && sd->svcs[i].resume_at < next)
			next = sd->svcs[i].resume_at;
	if (next == INT64_MAX)
		return -1;
	return next <= now ? 0 : next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

static void
lifetime_over(struct sockd *sd, const struct timer *t, int64_t now)
{
	struct child *ch = children_find(&sd->children, t->pid);

	/* Gone already, or the pid now belongs to a younger child. */
	if (ch == NULL || (t->what == TIMER_KILL) != ch->term_sent ||
	    timespec_ms(&ch->started) + ch->svc->conf->max_lifetime * 1000LL > now)
		return;
	if (t->what == TIMER_TERM) {
		log_info("service \"%s\": pid %ld outlived max_lifetime (%us), "
		    "terminating", ch->svc->conf->name, (long)ch->pid,
		    ch->svc->conf->max_lifetime);
		(void)kill(ch->pid, SIGTERM);
		ch->term_sent = true;
		if (timers_add(&sd->timers, now + KILL_GRACE_MS, ch->pid,
		    TIMER_KILL) == -1)
			(void)kill(ch->pid, SIGKILL);
	} else {
		log_info("service \"%s\": pid %ld ignored SIGTERM, killing",
		    ch->svc->conf->name, (long)ch->pid);
		(void)kill(ch->pid, SIGKILL);
	}
}

static void
run_timers(struct sockd *sd)
{
	int64_t now = ratelimit_now();
	const struct timer *t;

	for (size_t i = 0; i < sd->nsvcs; i++)
		if (sd->svcs[i].resume_at && sd->svcs[i].resume_at <= now) {
			sd->svcs[i].resume_at = 0;
			svc_update(sd, &sd->svcs[i]);
		}
	while ((t = timers_peek(&sd->timers)) != NULL && t->when <= now) {
		struct timer copy = *t;
		timers_pop(&sd->timers);
		lifetime_over(sd, &copy, now);
	}
}

int
master_open(struct sockd *sd, struct config *cfg)
{
	char what[256];
	int sigfd;

	memset(sd, 0, sizeof(*sd));
	sd->cfg = cfg;
	sd->loop.epfd = -1;
	sd->sigwatch.fd = -1;
	if ((sd->svcs = calloc(cfg->nenabled, sizeof(*sd->svcs))) == NULL ||
	    (sd->dgram_in = malloc(DGRAM_MAX)) == NULL ||
	    (sd->dgram_out = malloc(DGRAM_MAX)) == NULL) {
		log_warn("startup");
		return -1;
	}
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		struct service *svc = &sd->svcs[sd->nsvcs];
		if (cfg->svcs[i].disabled)
			continue;
		if (check_ids(&cfg->svcs[i]) == -1)
			return -1;
		if (service_open(svc, &cfg->svcs[i]) == -1) {
			int saved = errno;
			service_describe(svc, what, sizeof(what));
			errno = saved;
			log_warn("%s: cannot bind", what);
			return -1;
		}
		svc->owner = sd;
		for (size_t j = 0; j < svc->nls; j++)
			svc->ls[j].watch.fn = on_service;
		sd->nsvcs++;
	}
	if (loop_init(&sd->loop) == -1 || (sigfd = sig_init()) == -1) {
		log_warn("startup");
		return -1;
	}
	sd->sigwatch = (struct watch){ .fd = sigfd, .fn = on_signal, .arg = sd };
	if (loop_enable(&sd->loop, &sd->sigwatch, true) == -1) {
		log_warn("startup: epoll");
		return -1;
	}
	update_all(sd);
	return 0;
}

int
master_run(struct sockd *sd)
{
	while (!sd->quit) {
		if (loop_once(&sd->loop, next_timeout(sd, ratelimit_now())) == -1) {
			log_warn("epoll_wait");
			return 1;
		}
		run_timers(sd);
	}
	return 0;
}

void
master_close(struct sockd *sd)
{
	for (size_t i = 0; i < sd->nsvcs; i++)
		service_close(&sd->svcs[i]);
	free(sd->svcs);
	sd->svcs = NULL;
	sd->nsvcs = 0;
	if (sd->sigwatch.fd != -1)
		close(sd->sigwatch.fd);
	loop_free(&sd->loop);
	children_free(&sd->children);
	timers_free(&sd->timers);
	free(sd->dgram_in);
	free(sd->dgram_out);
}
