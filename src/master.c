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
/* Datagrams per recvmmsg(), and such batches per wake-up. */
#define DGRAM_BATCH 32
#define DGRAM_ROUNDS 2
#define DGRAM_MAX 65536
/* A TCP built-in answered in the master sends a few bytes. */
#define REPLY_MAX 64

/* Buffers for answering UDP built-ins a batch at a time. */
struct dgram_batch {
	struct mmsghdr in[DGRAM_BATCH], out[DGRAM_BATCH];
	struct iovec iin[DGRAM_BATCH], iout[DGRAM_BATCH];
	struct sockaddr_storage peer[DGRAM_BATCH];
	char *bufin, *bufout;	/* DGRAM_BATCH * DGRAM_MAX each */
};

/* UDP built-ins and TCP ones that only send: no child is ever started. */
static bool
answers_in_master(const struct svc_conf *sc)
{
	return sc->builtin != NULL &&
	    (sc->proto == PROTO_UDP || sc->builtin->in_master);
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

/*
 * TCP built-ins such as daytime: the reply fits any fresh socket buffer, so
 * one non-blocking send, and a close, and the connection is done.
 */
static void
reply_connections(struct service *svc)
{
	const struct builtin *b = svc->conf->builtin;
	char reply[REPLY_MAX];
	ssize_t len = -1;
	int fd;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		if ((fd = accept4(svc->fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				log_warn("service \"%s\": accept", svc->conf->name);
			break;
		}
		/* Formatted once per wake-up: a batch takes microseconds. */
		if (len == -1)
			len = b->dgram(NULL, 0, reply, sizeof(reply));
		if (len > 0)
			(void)send(fd, reply, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
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

/* UDP built-ins: datagrams received, answered and sent in batches. */
static void
answer_datagrams(struct sockd *sd, struct service *svc)
{
	const struct builtin *b = svc->conf->builtin;
	struct dgram_batch *db = sd->dgram;

	for (int round = 0, errors = 0; round < DGRAM_ROUNDS; round++) {
		int n, m = 0;

		for (int i = 0; i < DGRAM_BATCH; i++) {
			db->iin[i] = (struct iovec){ db->bufin + (size_t)i * DGRAM_MAX,
			    DGRAM_MAX };
			db->in[i].msg_hdr = (struct msghdr){ .msg_name = &db->peer[i],
			    .msg_namelen = sizeof(db->peer[i]), .msg_iov = &db->iin[i],
			    .msg_iovlen = 1 };
		}
		n = recvmmsg(svc->fd, db->in, DGRAM_BATCH, MSG_DONTWAIT, NULL);
		if (n == -1) {
			if (errno == EAGAIN || ++errors > DGRAM_BATCH)
				return;
			round--;	/* an ICMP error from an earlier reply */
			continue;
		}
		for (int i = 0; i < n; i++) {
			char *out = db->bufout + (size_t)i * DGRAM_MAX;
			ssize_t len = b->dgram(db->iin[i].iov_base, db->in[i].msg_len,
			    out, DGRAM_MAX);
			if (len < 0)
				continue;
			db->iout[m] = (struct iovec){ out, len };
			db->out[m].msg_hdr = (struct msghdr){ .msg_name = &db->peer[i],
			    .msg_namelen = db->in[i].msg_hdr.msg_namelen,
			    .msg_iov = &db->iout[m], .msg_iovlen = 1 };
			m++;
		}
		send_replies(svc->fd, db, m);
		if (n < DGRAM_BATCH)
			return;
	}
}

static void
on_service(struct watch *w)
{
	struct service *svc = w->arg;
	struct sockd *sd = svc->owner;

	if (answers_in_master(svc->conf)) {
		if (svc->conf->proto == PROTO_UDP)
			answer_datagrams(sd, svc);
		else
			reply_connections(svc);
	} else if (svc->conf->wait)
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
	/* The datagram buffers are only touched as far as datagrams fill them. */
	if ((sd->svcs = calloc(cfg->nenabled, sizeof(*sd->svcs))) == NULL ||
	    (sd->dgram = calloc(1, sizeof(*sd->dgram))) == NULL ||
	    (sd->dgram->bufin = malloc((size_t)DGRAM_BATCH * DGRAM_MAX)) == NULL ||
	    (sd->dgram->bufout = malloc((size_t)DGRAM_BATCH * DGRAM_MAX)) == NULL) {
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
		if (loop_once(&sd->loop, -1) == -1) {
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
	if (sd->dgram) {
		free(sd->dgram->bufin);
		free(sd->dgram->bufout);
		free(sd->dgram);
		sd->dgram = NULL;
	}
}
