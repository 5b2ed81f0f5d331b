/*
 * What of the running daemon an upgrade hands over (upstate.h): gathered
 * from the services, the sockets systemd passed, children, stderr logs and per-peer relays into a
 * struct upstate, which upstate.c prints. Never logs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "errlog.h"
#include "sockd.h"
#include "udppeer.h"
#include "upstate.h"

/* The service's name into a record's. */
#define NAME(dst, svc) snprintf((dst), sizeof(dst), "%s", (svc)->conf->name)

static int
collect_listeners(const struct service *svc, struct upstate *u)
{
	const struct svc_conf *sc = svc->conf;
	struct upstate_listener *l;

	for (size_t i = 0; i < svc->nls; i++) {
		if (svc->ls[i].fd == -1)
			continue;
		if ((l = upstate_add((void **)&u->ls, &u->nls, sizeof(*l))) == NULL)
			return -1;
		*l = (struct upstate_listener){ .proto = sc->proto,
		    .fd = svc->ls[i].fd, .file = svc->ls[i].file };
		if (sc->proto == PROTO_UNIX)
			snprintf(l->path, sizeof(l->path), "%s", sc->unix_path);
		else {
			l->addr = *svc->ls[i].addr;
			l->port = sc->port;
		}
	}
	return 0;
}

/* The sockets systemd passed: kept for the new image's life too. */
static int
collect_kept(const struct inherited *in, struct upstate *u)
{
	struct upstate_listener *l;

	for (size_t i = 0; i < in->n; i++) {
		const struct inherited_sock *p = &in->s[i];
		if (!p->kept || p->fd == -1)
			continue;
		if ((l = upstate_add((void **)&u->ls, &u->nls, sizeof(*l))) == NULL)
			return -1;
		*l = (struct upstate_listener){ .proto = p->type == SOCK_DGRAM ?
		    PROTO_UDP : PROTO_TCP, .addr = p->addr, .port = p->port,
		    .fd = p->fd, .kept = true };
		snprintf(l->name, sizeof(l->name), "%s", p->name);
	}
	return 0;
}

static int
collect_service(const struct service *svc, struct upstate *u)
{
	struct upstate_service *s;
	struct upstate_fail *fl;

	if (collect_listeners(svc, u) == -1 ||
	    (s = upstate_add((void **)&u->svcs, &u->nsvcs, sizeof(*s))) == NULL)
		return -1;
	NAME(s->name, svc);
	s->st = svc->st;
	s->paused_until = svc->paused && loop_timer_armed(&svc->resume) ?
	    svc->resume.when : 0;
	s->backoff_ms = svc->backoff_ms;
	s->busy = svc->busy ? svc->busy_fd : -1;
	s->held = svc->held;
	/* Oldest first: the back-off's window goes on. */
	for (unsigned k = 0; svc->fails_cap && k < svc->nfails; k++) {
		unsigned i = (svc->fails_next + svc->fails_cap - svc->nfails + k) %
		    svc->fails_cap;
		if ((fl = upstate_add((void **)&u->fails, &u->nfails, sizeof(*fl))) == NULL)
			return -1;
		NAME(fl->service, svc);
		fl->when = svc->fails[i];
	}
	return 0;
}

/* The service's bucket (key NULL), or a client's. */
static int
collect_bucket(const struct service *svc, const struct addr *key,
    const struct bucket *from, struct upstate *u)
{
	struct upstate_bucket *b = upstate_add((void **)&u->buckets, &u->nbuckets,
	    sizeof(*b));

	if (b == NULL)
		return -1;
	NAME(b->service, svc);
	b->source = key != NULL;
	if (key)
		b->key = *key;
	b->milli = from->milli;
	b->last = from->last;
	return 0;
}

struct bucket_walk {
	const struct service *svc;
	struct upstate *u;
	int rc;
};

static void
collect_source(const struct source *src, void *arg)
{
	struct bucket_walk *w = arg;

	if (w->rc == 0)
		w->rc = collect_bucket(w->svc, &src->key, &src->bucket, w->u);
}

static int
collect_buckets(const struct service *svc, struct upstate *u)
{
	struct bucket_walk w = { svc, u, 0 };

	if (svc->rate.rate && collect_bucket(svc, NULL, &svc->rate, u) == -1)
		return -1;
	if (svc->sources.rate)
		persource_each(&svc->sources, collect_source, &w);
	return w.rc;
}

static int
collect_child(const struct child *ch, struct upstate *u)
{
	struct upstate_child *c = upstate_add((void **)&u->children, &u->nchildren,
	    sizeof(*c));

	if (c == NULL)
		return -1;
	c->pid = ch->pid;
	NAME(c->service, ch->svc);
	c->started_ms = ch->started_ms;
	c->has_source = ch->has_source;
	c->source = ch->source;
	c->lifetime_when = loop_timer_armed(&ch->lifetime) ? ch->lifetime.when : 0;
	c->term_sent = ch->term_sent;
	c->peer = ch->peer;
	c->peer_port = ch->peer_port;
	c->own_id = ch->own_id;
	c->relay_id = ch->relay_id;
	return 0;
}

struct peer_out {
	struct upstate *u;
	const struct service *svc;
	int rc;
};

static void
collect_peer(const struct udppeer_state *st, void *arg)
{
	struct peer_out *o = arg;
	struct upstate_peer *p = upstate_add((void **)&o->u->peers, &o->u->npeers,
	    sizeof(*p));

	if (p == NULL) {
		o->rc = -1;
		return;
	}
	NAME(p->service, o->svc);
	p->st = *st;
}

/* What is handed over of sd; -1 when out of memory. */
static int
collect(const struct sockd *sd, struct upstate *u)
{
	struct upstate_errlog *e;

	*u = (struct upstate){ .version = UPSTATE_VERSION, .started = sd->started,
	    .last_reload = sd->last_reload, .reloads_ok = sd->reloads_ok,
	    .reloads_failed = sd->reloads_failed };
	for (size_t i = 0; i < sd->nsvcs; i++)
		if (collect_service(sd->svcs[i], u) == -1 ||
		    collect_buckets(sd->svcs[i], u) == -1)
			return -1;
	if (collect_kept(&sd->inherited, u) == -1)
		return -1;
	for (size_t i = 0; i < sd->children.cap; i++)
		if (sd->children.slots[i] &&
		    collect_child(sd->children.slots[i], u) == -1)
			return -1;
	for (const struct errlog *el = sd->errlogs; el; el = errlog_next(el)) {
		if ((e = upstate_add((void **)&u->errlogs, &u->nerrlogs, sizeof(*e))) == NULL)
			return -1;
		NAME(e->service, errlog_service(el));
		e->fd = errlog_reader(el);
	}
	u->nwaiters = control_waiters(sd, u->waiters, UPSTATE_WAITERS_MAX);
	for (size_t i = 0; i < sd->nsvcs; i++) {
		struct peer_out o = { u, sd->svcs[i], 0 };
		udppeer_each(sd->svcs[i], collect_peer, &o);
		if (o.rc == -1)
			return -1;
	}
	return 0;
}

int
upcollect_write(int fd, const struct sockd *sd)
{
	struct upstate u;
	int rc = -1;

	if (collect(sd, &u) == 0)
		rc = upstate_print(fd, &u);
	else
		errno = ENOMEM;
	upstate_free(&u);
	return rc;
}
