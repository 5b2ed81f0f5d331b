#include <errno.h>
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
	return !svc->busy && !service_at_cap(svc) &&
	    sd->children.count < sd->cfg->global.max_children;
}

static void
svc_update(struct sockd *sd, struct service *svc)
{
	if (loop_enable(&sd->loop, &svc->watch, svc_wanted(sd, svc)) == -1)
		log_warn("service \"%s\": epoll", svc->conf->name);
}

static void
update_all(struct sockd *sd)
{
	for (size_t i = 0; i < sd->nsvcs; i++)
		svc_update(sd, &sd->svcs[i]);
}

static void
record_child(struct sockd *sd, struct service *svc, pid_t pid)
{
	if (children_add(&sd->children, pid, svc) == -1) {
		/* Unrecorded, it will still be reaped; only the caps miss it. */
		log_warn("service \"%s\": pid %ld not recorded", svc->conf->name,
		    (long)pid);
		return;
	}
	svc->nchildren++;
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
start_child(struct sockd *sd, struct service *svc, const struct conn *c)
{
	const struct svc_conf *sc = svc->conf;
	int exec_err = 0;
	pid_t pid;

	pid = sc->builtin ? spawn_builtin(svc, c) : spawn_server(svc, c, &exec_err);
	if (pid == -1) {
		log_warn("service \"%s\": cannot start a child", sc->name);
		return;
	}
	if (exec_err) {
		errno = exec_err;
		log_warn("service \"%s\": cannot execute %s", sc->name, sc->server);
	}
	record_child(sd, svc, pid);
	if (c->peer)
		log_connection(svc, c->peer, pid);
	else
		log_debug("service \"%s\": pid %ld took the socket", sc->name, (long)pid);
}

static void
accept_connections(struct sockd *sd, struct service *svc)
{
	struct sockaddr_storage peer, local;
	socklen_t plen, llen;
	struct conn c = { .peer = (struct sockaddr *)&peer };

	/* A service bound to one address already knows its local end. */
	if (!addr_is_any(&svc->conf->addr)) {
		llen = addr_sockaddr(&svc->conf->addr, svc->conf->port, &local);
		c.local = (struct sockaddr *)&local;
	}
	for (int i = 0; i < ACCEPT_BATCH && svc_wanted(sd, svc); i++) {
		if ((c.fd = sock_accept(svc->fd, &peer, &plen)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				log_warn("service \"%s\": accept", svc->conf->name);
			break;
		}
		if (addr_is_any(&svc->conf->addr)) {
			c.local = sock_local(c.fd, &local, &llen) == 0 ?
			    (struct sockaddr *)&local : NULL;
		}
		start_child(sd, svc, &c);
		close(c.fd);
	}
}

static void
start_wait_child(struct sockd *sd, struct service *svc)
{
	struct conn c = { .fd = svc->fd };

	/* The handler owns the socket now and expects ordinary blocking I/O. */
	if (sock_set_nonblock(svc->fd, false) == -1) {
		log_warn("service \"%s\": fcntl", svc->conf->name);
		return;
	}
	start_child(sd, svc, &c);
	if (svc->nchildren > 0)
		svc->busy = true;
	else
		(void)sock_set_nonblock(svc->fd, true);
}

/* UDP built-ins: one non-blocking receive and send per datagram. */
static void
answer_datagrams(struct sockd *sd, struct service *svc)
{
	const struct builtin *b = svc->conf->builtin;
	struct sockaddr_storage peer;

	for (int i = 0; i < DGRAM_BATCH; i++) {
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(svc->fd, sd->dgram_in, DGRAM_MAX, MSG_DONTWAIT,
		    (struct sockaddr *)&peer, &plen);
		if (n == -1) {
			if (errno == EAGAIN)
				break;
			continue;	/* an ICMP error from an earlier reply */
		}
		ssize_t out = b->dgram(sd->dgram_in, n, sd->dgram_out, DGRAM_MAX);
		if (out >= 0)
			(void)sendto(svc->fd, sd->dgram_out, out, MSG_DONTWAIT,
			    (struct sockaddr *)&peer, plen);
	}
}

static void
on_service(struct watch *w)
{
	struct service *svc = w->arg;
	struct sockd *sd = svc->owner;

	if (answers_in_master(svc->conf))
		answer_datagrams(sd, svc);
	else if (svc->conf->wait)
		start_wait_child(sd, svc);
	else
		accept_connections(sd, svc);
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
		if (ch.svc->busy) {
			ch.svc->busy = false;
			(void)sock_set_nonblock(ch.svc->fd, true);
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
		if (service_open(svc, &cfg->svcs[i]) == -1) {
			int saved = errno;
			service_describe(svc, what, sizeof(what));
			errno = saved;
			log_warn("%s: cannot bind", what);
			return -1;
		}
		svc->owner = sd;
		svc->watch.fn = on_service;
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
	while (!sd->quit)
		if (loop_once(&sd->loop) == -1) {
			log_warn("epoll_wait");
			return 1;
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
	free(sd->dgram_in);
	free(sd->dgram_out);
}
