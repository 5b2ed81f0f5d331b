/*
 * Admission: the one step every connection and datagram of a service
 * that may get a handler goes through, wherever it was taken (accept.c,
 * proxywait.c, udppeer.c): paused, access lists (by address, or a UNIX
 * peer's user and groups), per_source, source_rate; a refusal counted by
 * its reason (refuse.h holds every reason), told to the client and
 * logged; then an admitted connection answered in the master or given a
 * child (start.c). Never takes a connection itself, never decides
 * whether to listen (gate.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "builtin.h"
#include "log.h"
#include "peercred.h"
#include "sockd.h"

void
admit_refuse(struct service *svc, int fd, const struct addr *a, uint16_t port,
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
void
admit_peer(struct conn *c)
{
	c->known = c->peer && !c->cred &&
	    addr_from_sockaddr(c->peer, &c->addr, &c->port) == 0;
}

bool
admit_connection(struct service *svc, int fd, const struct conn *c,
    int64_t now, struct source **srcp)
{
	const struct svc_conf *sc = svc->conf;
	const struct ucred *cred = c->cred;
	enum refuse_reason why;
	const char *detail = NULL;
	struct source *src;
	struct addr a, key;
	uint16_t port = c->port;

	*srcp = NULL;
	/* A unix peer is counted and logged by its uid. */
	if (cred) {
		a = peercred_key(cred->uid);
		port = 0;
	} else if (c->known)
		a = c->addr;
	else {
		if (!svc->paused && !svc->held)
			return true;
		a = (struct addr){ .family = AF_UNSPEC };
		port = 0;
	}
	if (svc->paused || svc->held)
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
	admit_refuse(svc, fd, &a, port, why, detail, now);
	return false;
}

void
admit_flush(struct timer *t)
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
		*len = svc->conf->builtin->dgram(NULL, 0, reply, ADMIT_REPLY_MAX);
	if (*len > 0)
		(void)send(fd, reply, *len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/*
 * A connection whose addresses are known: admitted or refused, then
 * answered in the master or given a child. Closes c->fd. False when no
 * child could be started.
 */
bool
admit_serve(struct sockd *sd, struct service *svc, struct conn *c, int64_t now,
    char *reply, ssize_t *reply_len)
{
	struct source *src;

	admit_peer(c);
	if (!admit_connection(svc, c->fd, c, now, &src))
		return true;
	if (service_in_master(svc->conf)) {
		svc->st.accepted++;
		events_answered(svc, c->known ? &c->addr : NULL, c->port, LOG_INFO);
		if (svc->conf->builtin->scrape)
			scrape_accept(sd, svc, c->fd);
		else {
			reply_in_master(svc, c->fd, reply, reply_len);
			close(c->fd);
		}
		return true;
	}
	bool started = start_child(sd, svc, c, src);
	if (c->fd != -1)	/* else a TLS zygote's request holds it */
		close(c->fd);
	return started;
}

void
admit_proxied(struct sockd *sd, struct service *svc, struct conn *c)
{
	char reply[ADMIT_REPLY_MAX];
	ssize_t reply_len = -1;

	(void)admit_serve(sd, svc, c, (int64_t)loop_now_ms(), reply, &reply_len);
	gate_update(sd, svc);
	if (sd->children.count >= sd->cfg->global.max_children)
		gate_update_all(sd);
}

