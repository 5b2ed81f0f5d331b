/*
 * A listening TCP socket is readable: take connections, admit or refuse
 * each (access lists, per_source, source_rate, back-off), then answer in
 * the master (built-ins that only send) or start a child. Wait services
 * hand the listening socket itself to one child. A service that takes
 * PROXY headers has its connections wait for them in proxywait.c first.
 * UDP built-ins go to dgram.c, UDP services with a process per peer to
 * udppeer.c. Never reaps, never decides whether to listen (gate.c).
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "builtin.h"
#include "log.h"
#include "peercred.h"
#include "proxywait.h"
#include "sock.h"
#include "sockd.h"
#include "udppeer.h"

/* Connections taken per wake-up: enough to drain a burst, small enough
 * that one busy service cannot starve the others. */
#define ACCEPT_BATCH 32
/* A TCP built-in answered in the master sends a few bytes. */
#define REPLY_MAX 64

static bool
udp_builtin(const struct svc_conf *sc)
{
	return sc->proto == PROTO_UDP && sc->builtin != NULL;
}

/* UDP built-ins and TCP ones that only send: no child is ever started. */
bool
accept_in_master(const struct svc_conf *sc)
{
	return udp_builtin(sc) || (sc->builtin != NULL && sc->builtin->in_master);
}

void
accept_refuse(struct service *svc, int fd, const struct addr *a, uint16_t port,
    enum refuse_reason why, const char *detail, int64_t now)
{
	const struct svc_conf *sc = svc->conf;

	svc->st.refused[why]++;
	refuse_detail(&svc->refusals, sc->name, fd, sc->refuse_message, a, port,
	    why, detail, now);
	if (svc->refusals.suppressed[why] && !loop_timer_armed(&svc->refuse_flush))
		(void)loop_timer_set(&svc->sd->loop,
		    &svc->refuse_flush, 1000);
}

/* The access lists of the service: by address, or a unix peer's ids. */
static bool
access_allows(const struct svc_conf *sc, int fd, const struct ucred *cred,
    const struct addr *a, const char **detail)
{
	int allowed;

	if (cred == NULL)
		return acl_allows(&sc->only_from, &sc->no_access, a);
	/* Groups that cannot be read may hide a no_groups member: refused. */
	if ((allowed = peercred_allows(sc, fd, cred)) == -1)
		*detail = "its groups cannot be read (SO_PEERGROUPS)";
	return allowed == 1;
}

/*
 * Decides on a fresh connection before anything is forked. Returns false
 * when it was refused (and closed); *srcp is the client's per-source entry
 * when the service counts them: for per_source, and for the TCPCONNNUM of
 * every server (built-ins have no environment). A unix peer (cred) is
 * counted by uid and checked against the user and group lists.
 */
bool
accept_admit(struct service *svc, int fd, const struct sockaddr *peer,
    const struct ucred *cred, int64_t now, struct source **srcp)
{
	const struct svc_conf *sc = svc->conf;
	enum refuse_reason why;
	const char *detail = NULL;
	struct source *src;
	struct addr a, key;
	uint16_t port;

	*srcp = NULL;
	/* A unix peer is counted and logged by its uid. */
	if (cred) {
		a = peercred_key(cred->uid);
		port = 0;
	} else if (addr_from_sockaddr(peer, &a, &port) == -1) {
		if (!svc->paused)
			return true;
		a = (struct addr){ .family = AF_UNSPEC };
		port = 0;
	}
	if (svc->paused)
		why = REFUSE_PAUSED;
	else if (!access_allows(sc, fd, cred, &a, &detail))
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
	accept_refuse(svc, fd, &a, port, why, detail, now);
	return false;
}

static void
on_refuse_flush(struct timer *t)
{
	struct service *svc = t->arg;

	refuse_flush(&svc->refusals, svc->conf->name);
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
}

/*
 * A connection whose addresses are known: admitted or refused, then
 * answered in the master or given a child. Closes c->fd. False when no
 * child could be started.
 */
static bool
serve(struct sockd *sd, struct service *svc, struct conn *c, int64_t now,
    char *reply, ssize_t *reply_len)
{
	struct source *src;

	if (!accept_admit(svc, c->fd, c->peer, c->cred, now, &src))
		return true;
	if (accept_in_master(svc->conf)) {
		svc->st.accepted++;
		events_answered(svc, c->peer, LOG_INFO);
		if (svc->conf->builtin->scrape)
			scrape_accept(sd, svc, c->fd);
		else {
			reply_in_master(svc, c->fd, reply, reply_len);
			close(c->fd);
		}
		return true;
	}
	bool started = start_child(sd, svc, c, src);
	close(c->fd);
	return started;
}

void
accept_proxied(struct sockd *sd, struct service *svc, struct conn *c)
{
	char reply[REPLY_MAX];
	ssize_t reply_len = -1;

	(void)serve(sd, svc, c, (int64_t)loop_now_ms(), reply, &reply_len);
	gate_update(sd, svc);
	if (sd->children.count >= sd->cfg->global.max_children)
		gate_update_all(sd);
}

static void
accept_connections(struct sockd *sd, struct listener *l)
{
	struct service *svc = l->svc;
	struct sockaddr_storage peer, local;
	socklen_t plen, llen;
	struct conn c = { .peer = (struct sockaddr *)&peer };
	bool unix_peer = svc->conf->proto == PROTO_UNIX;
	bool wildcard = !unix_peer && addr_is_any(l->addr);
	struct ucred cred;
	char reply[REPLY_MAX];
	ssize_t reply_len = -1;

	/* A socket bound to one address already knows its local end. */
	if (!wildcard && !unix_peer) {
		addr_sockaddr(l->addr, svc->conf->port, &local);
		c.local = (struct sockaddr *)&local;
	}
	for (int i = 0; i < ACCEPT_BATCH && gate_wanted(sd, svc); i++) {
		int64_t now = (int64_t)loop_now_ms();
		/* A refusal takes no token. */
		if (!svc->paused && gate_rate_exhausted(sd, svc, now))
			return;
		if ((c.fd = sock_accept(l->fd, &peer, &plen)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				gate_fault(sd, svc, FAULT_TAKE, "accept");
			else if (errno != EAGAIN)
				log_warn("service \"%s\": accept", svc->conf->name);
			return;
		}
		gate_cleared(svc, FAULT_TAKE);
		if (!svc->paused)
			(void)ratelimit_take(&svc->rate, now);
		if (unix_peer && peercred_get(c.fd, &cred) == -1) {
			log_warn("service \"%s\": SO_PEERCRED", svc->conf->name);
			close(c.fd);
			continue;
		}
		c.cred = unix_peer ? &cred : NULL;
		/* Admitted on the addresses its header names, once read. */
		if (svc->conf->proxy_protocol && !svc->paused) {
			proxywait_add(sd, svc, c.fd, c.peer, wildcard ? NULL : c.local);
			continue;
		}
		/* Only a server's environment names the local end. */
		if (wildcard && !svc->conf->builtin)
			c.local = sock_local(c.fd, &local, &llen) == 0 ?
			    (struct sockaddr *)&local : NULL;
		if (!serve(sd, svc, &c, now, reply, &reply_len))
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

static void
on_listener(struct watch *w)
{
	struct listener *l = w->arg;
	struct service *svc = l->svc;
	struct sockd *sd = svc->sd;

	if (udp_builtin(svc->conf))
		dgram_answer(sd, l);
	else if (svc->conf->per_peer)
		udppeer_input(sd, l);
	else if (svc->conf->wait)
		start_wait_child(sd, l);
	else
		accept_connections(sd, l);
	gate_update(sd, svc);
	if (sd->children.count >= sd->cfg->global.max_children)
		gate_update_all(sd);
}

/* Points the service's listeners and refusal timer here. */
void
accept_attach(struct service *svc)
{
	for (size_t i = 0; i < svc->nls; i++)
		svc->ls[i].watch.fn = on_listener;
	svc->refuse_flush.fn = on_refuse_flush;
	if (svc->conf->per_peer)
		udppeer_attach(svc);
}
