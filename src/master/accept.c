/*
 * A listener is readable: take its connections and give each to the
 * admission step (admit.c), which answers it in the master or starts a
 * child. Wait services hand the listening socket itself to one child. A
 * service that takes PROXY headers has its connections wait for them in
 * proxywait.c first. UDP built-ins go to dgram.c, UDP services with a
 * process per peer to udppeer.c. Never admits or refuses by itself, never
 * reaps, never decides whether to listen (gate.c).
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
	char reply[ADMIT_REPLY_MAX];
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
		if (!admit_serve(sd, svc, &c, now, reply, &reply_len))
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

	if (svc->conf->proto == PROTO_UDP && svc->conf->builtin)
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
	svc->refuse_flush.fn = admit_flush;
	if (svc->conf->per_peer)
		udppeer_attach(svc);
}
