/*
 * Connections reading their PROXY header. The master holds each in a
 * small record watched by the loop, with a proxy_timeout timer, and reads
 * exactly the header's bytes: it peeks at what has arrived, and consumes
 * what the parser says is header, never a byte past it, which belongs to
 * the handler. A whole header hands the connection, with the addresses it
 * names, to admit_proxied(), once the caps (instances, max_children)
 * have room for a handler; until then it is parked, unwatched. A waiting
 * connection holds no place under those caps: a stalled header would hold
 * it for proxy_timeout, and a few hundred of them would stop every
 * service. Each service has proxy_pending places of its own instead; when
 * they are full, the connection that has waited longest for its header is
 * dropped. A balancer sends the header with its first bytes, so a header
 * that is long overdue is the one least likely to come, and refusing the
 * newcomers instead would let a flood of stalled headers turn every real
 * connection away. Never admits or starts anything itself, and never
 * blocks: every read is MSG_DONTWAIT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connenv.h"
#include "log.h"
#include "proxyproto.h"
#include "sock.h"
#include "proxywait.h"
#include "sockd.h"

struct pending {
	struct pending *prev, *next;
	struct sockd *sd;
	struct service *svc;		/* a reference */
	int fd;
	struct watch watch;
	struct timer timer;
	struct sockaddr_storage peer, local;
	bool has_local;		/* local is known (a listener bound to one address) */
	/*
	 * A header of the balancer's own connection (v2 LOCAL, v1 UNKNOWN, or
	 * one naming the connection itself: a health check) was read: the
	 * connection now waits for its first byte, or its end, to learn
	 * whether a handler is wanted.
	 */
	bool header_read;
	/* Read, and waiting for room under the caps; no longer watched. */
	bool parked;
	struct proxyproto_hdr hdr;
	size_t have;
	uint8_t buf[PROXYPROTO_MAX];
};

static void
unlink_pending(struct pending *p)
{
	struct proxywait *pw = &p->sd->proxywait;

	if (p->prev)
		p->prev->next = p->next;
	else
		pw->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		pw->tail = p->prev;
	pw->n--;
	p->svc->npending--;
}

/* Forgets p; the caller has closed or handed on its fd. */
static void
drop(struct pending *p)
{
	struct sockd *sd = p->sd;
	struct service *svc = p->svc;

	loop_remove(&sd->loop, &p->watch);
	loop_timer_stop(&sd->loop, &p->timer);
	unlink_pending(p);
	free(p);
	service_unref(svc);
}

/* Out of the loop first, then closed: the fd is epoll's until then. */
static void
close_pending(struct pending *p)
{
	int fd = p->fd;

	drop(p);
	close(fd);
}

static void
refuse_pending(struct pending *p, enum refuse_reason why, const char *detail)
{
	struct addr a = { .family = AF_UNSPEC };
	uint16_t port = 0;

	struct service *svc = service_ref(p->svc);
	int fd = p->fd;

	(void)addr_from_sockaddr((struct sockaddr *)&p->peer, &a, &port);
	drop(p);
	admit_refuse(svc, fd, &a, port, why, detail, (int64_t)loop_now_ms());
	service_unref(svc);
}

/*
 * Whether svc may take a connection now: a handler fits under the caps,
 * or none is needed (answered in the master, or refused while paused).
 */
static bool
room(const struct sockd *sd, const struct service *svc)
{
	return svc->paused || service_in_master(svc->conf) ||
	    (!service_at_cap(svc) &&
	    sd->children.count < sd->cfg->global.max_children);
}

/*
 * A read header waits for a handler as a connection waits in the backlog,
 * but for proxy_timeout at most (an upgrade waits for these to end). Data
 * after the header is the handler's: the fd is no longer watched.
 */
static void
park(struct pending *p)
{
	struct sockd *sd = p->sd;

	if (p->parked)
		return;
	p->parked = true;
	loop_remove(&sd->loop, &p->watch);
	if (loop_timer_set(&sd->loop, &p->timer,
	    p->svc->conf->proxy_timeout) == -1) {
		log_warn("service \"%s\": cannot wait for a handler",
		    p->svc->conf->name);
		close_pending(p);
	}
}

/*
 * The header is read: the connection goes on with the addresses it names,
 * now or once a handler fits.
 */
static void
hand_on(struct pending *p)
{
	struct sockd *sd = p->sd;
	struct service *svc;
	struct sockaddr_storage peer, local;
	struct connenv_proxy x;
	struct conn c = { .fd = p->fd, .proxyenv = x.v,
	    .peer = (struct sockaddr *)&peer, .local = (struct sockaddr *)&local };

	if (!room(sd, p->svc)) {
		park(p);
		return;
	}
	svc = service_ref(p->svc);
	connenv_proxy(&x, (const struct sockaddr *)&p->peer, &p->hdr.tlv);
	if (!p->hdr.local) {
		peer = p->hdr.src;
		local = p->hdr.dst;
	} else {
		/* A LOCAL header (a health check): the connection's own
		 * addresses, the local one asked for only now. */
		socklen_t len;
		peer = p->peer;
		if (p->has_local)
			local = p->local;
		else if (sock_local(p->fd, &local, &len) == -1)
			c.local = NULL;
	}
	drop(p);
	admit_proxied(sd, svc, &c);
	service_unref(svc);
}

/*
 * After a LOCAL header: data means a client (a check that speaks), the
 * end means a check that only connected, which wants no handler. True
 * while p waits.
 */
static bool
after_local(struct pending *p)
{
	char b;
	ssize_t n = recv(p->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n == 1) {
		hand_on(p);
		return false;
	}
	log_debug("service \"%s\": a balancer's health check ended",
	    p->svc->conf->name);
	close_pending(p);
	return false;
}

/*
 * Whether the header names the connection it came on: HAProxy's v1 health
 * checks send their own addresses, where v2 ones send LOCAL. A client
 * behind the balancer cannot have the balancer's address and port.
 */
static bool
names_itself(const struct pending *p)
{
	struct addr a, b;
	uint16_t pa, pb;

	return addr_from_sockaddr((const struct sockaddr *)&p->hdr.src, &a,
	    &pa) == 0 && addr_from_sockaddr((const struct sockaddr *)&p->peer,
	    &b, &pb) == 0 && pa == pb && addr_equal(&a, &b);
}

/*
 * Peeks, parses, and consumes the header's bytes among those peeked.
 * True while p waits (for more of the header, or after a LOCAL one).
 */
static bool
read_header(struct pending *p)
{
	enum proxyproto_error err;
	ssize_t n, got;
	size_t take;
	int r;

	n = recv(p->fd, p->buf + p->have, sizeof(p->buf) - p->have,
	    MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0) {
		refuse_pending(p, REFUSE_PROXY_HEADER, n == 0 ?
		    "closed before the end of the header" : strerror(errno));
		return false;
	}
	r = proxyproto_parse(p->buf, p->have + n, p->svc->conf->proxy_protocol,
	    &p->hdr, &err);
	if (r == -1) {
		refuse_pending(p, REFUSE_PROXY_HEADER, proxyproto_error_text(err));
		return false;
	}
	take = r > 0 ? r - p->have : (size_t)n;
	if ((got = recv(p->fd, p->buf + p->have, take, MSG_DONTWAIT)) == -1)
		got = 0;
	p->have += got;
	if (r == 0 || (size_t)got < take)
		return true;
	if (!p->hdr.local && names_itself(p))
		p->hdr.local = true;
	if (!p->hdr.local) {
		hand_on(p);
		return false;
	}
	p->header_read = true;
	return after_local(p);
}

static void
on_readable(struct watch *w)
{
	struct pending *p = w->arg;

	if (p->header_read)
		(void)after_local(p);
	else
		(void)read_header(p);
}

/* A check that connected and stayed quiet may expect the server to speak. */
static void
on_timeout(struct timer *t)
{
	struct pending *p = t->arg;

	if (p->parked)
		refuse_pending(p, REFUSE_PROXY_HEADER,
		    "header read, but no handler free within proxy_timeout");
	else if (p->header_read)
		hand_on(p);
	else
		refuse_pending(p, REFUSE_PROXY_HEADER, p->have ?
		    "header not complete within proxy_timeout" :
		    "no header within proxy_timeout");
}

static struct pending *
pending_new(struct sockd *sd, struct service *svc, int fd,
    const struct sockaddr *peer, const struct sockaddr *local)
{
	struct proxywait *pw = &sd->proxywait;
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->sd = sd;
	p->svc = service_ref(svc);
	p->fd = fd;
	p->watch = (struct watch){ .fd = fd, .fn = on_readable, .arg = p };
	p->timer = (struct timer){ .fn = on_timeout, .arg = p };
	memcpy(&p->peer, peer, peer->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	if (local) {
		memcpy(&p->local, local, local->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
		p->has_local = true;
	}
	if ((p->next = pw->head) != NULL)
		pw->head->prev = p;
	else
		pw->tail = p;
	pw->head = p;
	pw->n++;
	svc->npending++;
	return p;
}

/*
 * svc has more connections waiting than proxy_pending: the one of them
 * that has waited longest for its header (not p, the newest) goes. False
 * if none can, all the others being read and parked.
 */
static bool
evict_oldest(struct sockd *sd, struct service *svc, struct pending *p)
{
	for (struct pending *o = sd->proxywait.tail; o && o != p; o = o->prev)
		if (o->svc == svc && !o->parked) {
			refuse_pending(o, REFUSE_PROXY_HEADER, o->header_read ?
			    "a health check dropped: proxy_pending reached" :
			    "header not complete, dropped for a newer connection: "
			    "proxy_pending reached");
			return true;
		}
	return false;
}

static void
on_resume(struct timer *t)
{
	proxywait_resume(t->arg);
}

void
proxywait_add(struct sockd *sd, struct service *svc, int fd,
    const struct sockaddr *peer, const struct sockaddr *local)
{
	const struct svc_conf *sc = svc->conf;
	struct acl none = { 0 };
	struct pending *p;
	struct addr a;
	uint16_t port;

	sd->proxywait.resume.fn = on_resume;
	sd->proxywait.resume.arg = sd;
	if (addr_from_sockaddr(peer, &a, &port) == -1) {
		close(fd);
		return;
	}
	if (!acl_allows(&sc->proxy_from, &none, &a)) {
		admit_refuse(svc, fd, &a, port, REFUSE_PROXY_FROM, NULL,
		    (int64_t)loop_now_ms());
		return;
	}
	if ((p = pending_new(sd, svc, fd, peer, local)) == NULL) {
		close(fd);
		return;
	}
	/* A header already here is read before the loop ever sees the fd,
	 * and takes none of the service's proxy_pending places. */
	if (!read_header(p))
		return;
	if (svc->npending > sc->proxy_pending && !evict_oldest(sd, svc, p)) {
		refuse_pending(p, REFUSE_PROXY_HEADER,
		    "too many connections waiting for their header");
		return;
	}
	if (loop_enable(&sd->loop, &p->watch, true) == -1 ||
	    loop_timer_set(&sd->loop, &p->timer, sc->proxy_timeout) == -1) {
		log_warn("service \"%s\": cannot wait for a PROXY header", sc->name);
		close_pending(p);
	}
}

void
proxywait_resume(struct sockd *sd)
{
	struct pending *p = sd->proxywait.tail, *prev;

	/* Oldest first, as the backlog would take them. */
	for (; p; p = prev) {
		prev = p->prev;
		if (p->parked && room(sd, p->svc))
			hand_on(p);
	}
}

void
proxywait_free(struct sockd *sd)
{
	if (sd->proxywait.resume.fn)
		loop_timer_stop(&sd->loop, &sd->proxywait.resume);
	while (sd->proxywait.head)
		close_pending(sd->proxywait.head);
}
