/*
 * The new image of an upgrade in place: read what the old one handed over
 * (upstate.h), add its listening sockets to the inherited ones (inherit.h:
 * the services claim them there, as they do systemd's), then take over the counters, pauses, back-off, rate buckets, busy sockets,
 * children, stderr logs and per-peer UDP relays of the services that kept
 * their names. Never starts
 * a child.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "adoptfd.h"
#include "inherit.h"
#include "errlog.h"
#include "log.h"
#include "ctlreq.h"
#include "sockd.h"
#include "udppeer.h"
#include "upstate.h"

/*
 * Before daemon_stdio() makes them close-on-exec: if this process is an
 * upgrade's new image, the descriptors it inherited.
 */
void
adopt_scan(struct sockd *sd)
{
	const char *env = getenv(UPSTATE_ENV_FD);

	if (env && adoptfd_scan(&sd->up.fds, atoi(env)) == -1)
		log_warn("upgrade: /proc/self/fd: the descriptors handed over "
		    "are taken on the state's word");
}

/* What the reader dropped, once each: it goes on without. */
static void
log_drops(const struct upstate *u)
{
	for (size_t i = 0; i < u->ndrops; i++)
		log_warnx("upgrade: the state handed over (format %d), line %u "
		    "(%s): %s; dropped", u->version, u->drops[i].line,
		    u->drops[i].kind, u->drops[i].why);
}

/* What no record took: a service it was for binds afresh. */
static void
close_rest(struct adoptfd *a)
{
	size_t n = adoptfd_rest(a);

	if (n > 0)
		log_warnx("upgrade: closed %zu inherited descriptors that no record "
		    "of the state took", n);
}

static void
check_listener(struct sockd *sd, struct adoptfd *a, struct upstate_listener *l)
{
	int type = l->proto == PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	char ip[ADDR_STRLEN];

	errno = 0;
	if (adoptfd_is(a, l->fd, type) && inherit_handed(&sd->inherited, l->fd,
	    type, &l->addr, l->port, l->proto == PROTO_UNIX ? l->path : NULL,
	    &l->file, l->name, l->kept) == 0) {
		adoptfd_take(a, l->fd);
		return;
	}
	if (errno == ENOMEM) {
		log_warn("upgrade: the listener handed over as descriptor %d; "
		    "dropped", l->fd);
		return;
	}
	addr_format(&l->addr, ip);
	log_warnx("upgrade: descriptor %d, handed over as the %s listener "
	    "%s%s%u, is not that socket; dropped", l->fd,
	    svc_proto_name(l->proto), l->proto == PROTO_UNIX ? l->path : ip,
	    l->proto == PROTO_UNIX ? "" : " port ", l->proto == PROTO_UNIX ?
	    0 : l->port);
}

/*
 * Records whose descriptor is not one handed over, or not the socket they
 * say, are dropped (the descriptor is not closed for them: it may not be
 * ours); the others' are taken, the listeners' into sd->inherited; what no
 * record took is closed.
 */
static void
check_fds(struct sockd *sd, struct upstate *u, struct adoptfd *a)
{
	for (size_t i = 0; i < u->nls; i++)
		check_listener(sd, a, &u->ls[i]);
	for (size_t i = 0; i < u->nerrlogs; i++)
		if (!adoptfd_is(a, u->errlogs[i].fd, SOCK_STREAM)) {
			log_warnx("upgrade: descriptor %d, handed over as a stderr "
			    "log of \"%s\", is not one; dropped", u->errlogs[i].fd,
			    u->errlogs[i].service);
			u->errlogs[i].fd = -1;
		} else
			adoptfd_take(a, u->errlogs[i].fd);
	for (size_t i = 0; i < u->npeers; i++)
		if (!adoptfd_is(a, u->peers[i].st.fd, u->peers[i].st.pid ?
		    SOCK_DGRAM : SOCK_SEQPACKET)) {
			log_warnx("upgrade: descriptor %d, handed over as a UDP peer's "
			    "%s of \"%s\", is not one; dropped", u->peers[i].st.fd,
			    u->peers[i].st.pid ? "socket" : "relay", u->peers[i].service);
			u->peers[i].st.fd = -1;
		} else
			adoptfd_take(a, u->peers[i].st.fd);
	for (size_t i = 0; i < u->nwaiters; i++)
		if (adoptfd_is(a, u->waiters[i], SOCK_STREAM))
			adoptfd_take(a, u->waiters[i]);
		else
			u->waiters[i] = -1;
	close_rest(a);
}

/*
 * If this process is an upgrade's new image: reads the hand-over. 0 if it
 * is not one, 1 if it is. Whatever the state holds, the new image goes
 * on: a record it cannot read is dropped (logged), and a state it cannot
 * read at all leaves every service to bind afresh.
 */
int
adopt_begin(struct sockd *sd)
{
	const char *env = getenv(UPSTATE_ENV_FD);
	int fd;

	if (env == NULL)
		return 0;
	fd = atoi(env);
	unsetenv(UPSTATE_ENV_FD);
	if ((sd->up.from = calloc(1, sizeof(*sd->up.from))) == NULL ||
	    upstate_read(fd, sd->up.from) == -1) {
		log_warn("upgrade: the state handed over cannot be read; every "
		    "service binds afresh, and the running handlers are not watched");
		free(sd->up.from);
		sd->up.from = NULL;
		close_rest(&sd->up.fds);
	} else {
		log_drops(sd->up.from);
		check_fds(sd, sd->up.from, &sd->up.fds);
	}
	if (fd > 2)
		close(fd);
	return 1;
}

static struct service *
service_named(const struct sockd *sd, const char *name)
{
	for (size_t i = 0; i < sd->nsvcs; i++)
		if (strcmp(sd->svcs[i]->conf->name, name) == 0)
			return sd->svcs[i];
	return NULL;
}

static void
adopt_service(struct sockd *sd, const struct upstate_service *s)
{
	struct service *svc = service_named(sd, s->name);
	uint64_t now = loop_now_ms();

	if (svc == NULL)
		return;
	svc->st = s->st;
	svc->backoff_ms = s->backoff_ms;
	for (size_t i = 0; s->busy != -1 && i < svc->nls; i++)
		if (svc->ls[i].fd == s->busy) {
			svc->busy = true;
			svc->busy_fd = s->busy;
		}
	if (s->paused_until)
		gate_pause(sd, svc, s->paused_until > now ? s->paused_until - now : 0);
	svc->held = s->held;
}

static void
adopt_child(struct sockd *sd, const struct upstate_child *c)
{
	struct service *svc = service_named(sd, c->service);

	/* A pid from a damaged state must never be signalled. */
	if (!reap_is_child(c->pid) || children_find(&sd->children, c->pid))
		log_warnx("upgrade: pid %ld, handed over as a handler of \"%s\", "
		    "is not a child of sockd's or is handed over twice; dropped",
		    (long)c->pid, c->service);
	else if (svc == NULL)
		log_warnx("upgrade: pid %ld of service \"%s\", which the "
		    "configuration no longer has, is no longer watched",
		    (long)c->pid, c->service);
	else if (!start_adopt(sd, svc, c->pid, c->started_ms,
	    c->has_source ? &c->source : NULL, c->lifetime_when, c->term_sent,
	    (const uid_t[2]){ c->own_id, c->relay_id }))
		log_warn("upgrade: pid %ld of service \"%s\"", (long)c->pid,
		    c->service);
	else {
		struct child *ch = children_find(&sd->children, c->pid);
		ch->peer = c->peer;
		ch->peer_port = c->peer_port;
	}
}

/*
 * The control clients the old image left waiting for this upgrade
 * (sockctl upgrade): told that it is done, once it is.
 */
static void
adopt_waiters(struct sockd *sd, const struct upstate *u)
{
	char body[128];

	snprintf(body, sizeof(body), "upgraded in place: pid %ld, sockd %s, "
	    "%zu handlers adopted\n", (long)getpid(), SOCKD_VERSION,
	    sd->children.count);
	for (size_t i = 0; i < u->nwaiters; i++) {
		int fd = u->waiters[i];
		if (fd == -1)
			continue;
		(void)ctlreq_answer_fd(fd, true, NULL, body);
		close(fd);
	}
}

static void
adopt_errlog(struct sockd *sd, const struct upstate_errlog *e)
{
	struct service *svc = service_named(sd, e->service);

	if (e->fd == -1 || (svc && errlog_adopt(&sd->loop, svc, e->fd,
	    &sd->errlogs) != NULL))
		return;
	if (svc)
		log_warn("upgrade: the stderr log of service \"%s\"", e->service);
	close(e->fd);
}

/* Replayed oldest first, so the ring of the new fail_limit keeps the last. */
static void
adopt_fail(struct sockd *sd, const struct upstate_fail *fl)
{
	struct service *svc = service_named(sd, fl->service);

	if (svc && svc->fails_cap)
		(void)service_fail(svc, fl->when, 0);
}

/* Not above what the bucket holds now: the rate may have changed. */
static void
set_bucket(struct bucket *b, const struct upstate_bucket *ub)
{
	int64_t cap = (int64_t)b->burst * 1000;

	if (b->rate == 0)
		return;
	b->milli = ub->milli < cap ? ub->milli : cap;
	b->last = ub->last;
}

static void
adopt_bucket(struct sockd *sd, const struct upstate_bucket *ub)
{
	struct service *svc = service_named(sd, ub->service);
	struct addr key;
	struct source *src;

	if (svc == NULL)
		return;
	if (!ub->source) {
		set_bucket(&svc->rate, ub);
		return;
	}
	if (svc->sources.rate == 0)
		return;
	key = persource_key(&svc->sources, &ub->key);
	if ((src = persource_get(&svc->sources, &key, (int64_t)loop_now_ms())) != NULL)
		set_bucket(&src->bucket, ub);
}

/* A per-peer handler whose relay cannot be taken over (its service is gone,
 * or no longer has the address its peer wrote to) sees its stdin end. */
static void
adopt_peer(struct sockd *sd, const struct upstate_peer *p)
{
	struct service *svc = service_named(sd, p->service);

	if (p->st.fd == -1)
		return;
	if (svc == NULL || !svc->conf->per_peer) {
		close(p->st.fd);
		return;
	}
	if (udppeer_adopt(sd, svc, &p->st))
		return;
	if (errno != EINVAL)	/* EINVAL: not an address of the service */
		log_warn("upgrade: a peer of service \"%s\"", p->service);
	close(p->st.fd);
}

/* After master_open(): the rest of the hand-over, then it is freed. */
void
adopt_finish(struct sockd *sd)
{
	struct upstate *u = sd->up.from;

	if (u == NULL)
		return;
	sd->started = u->started;
	sd->last_reload = u->last_reload;
	sd->reloads_ok = u->reloads_ok;
	sd->reloads_failed = u->reloads_failed;
	for (size_t i = 0; i < u->nsvcs; i++)
		adopt_service(sd, &u->svcs[i]);
	for (size_t i = 0; i < u->nfails; i++)
		adopt_fail(sd, &u->fails[i]);
	for (size_t i = 0; i < u->nbuckets; i++)
		adopt_bucket(sd, &u->buckets[i]);
	for (size_t i = 0; i < u->nchildren; i++)
		adopt_child(sd, &u->children[i]);
	for (size_t i = 0; i < u->nerrlogs; i++)
		adopt_errlog(sd, &u->errlogs[i]);
	for (size_t i = 0; i < u->npeers; i++)
		adopt_peer(sd, &u->peers[i]);
	gate_update_all(sd);	/* busy and paused services */
	log_info("SIGUSR2: upgraded in place; %zu handlers adopted",
	    sd->children.count);
	adopt_waiters(sd, u);
	upstate_free(u);
	free(u);
	sd->up.from = NULL;
}
