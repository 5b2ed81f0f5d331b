/*
 * A service at run time: its sockets (bound, or kept across a reload),
 * its counters, its reference count (it lives on, closed, until its last
 * child is reaped) and its instance limit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "builtin.h"
#include "connenv.h"
#include "inherit.h"
#include "service.h"
#include "sockopt.h"
#include "sock.h"
#include "tlsmod.h"
#include "tlszygote.h"
#include "udphand.h"

/* Used when net.core.somaxconn cannot be read. */
#define BACKLOG_FALLBACK 4096
#define BACKOFF_FIRST_MS 1000
/* The connection's variables (connenv.h), set per connection ahead of the
 * configured template so a handler's getenv() finds sockd's values first. */
#define CONN_ENV CONNENV_MAX

/*
 * The kernel caps any backlog at net.core.somaxconn, so that is the
 * largest useful default; read once, as it rarely changes.
 */
static int
backlog_default(void)
{
	static int somaxconn;
	FILE *fp;

	if (somaxconn > 0)
		return somaxconn;
	somaxconn = BACKLOG_FALLBACK;
	if ((fp = fopen("/proc/sys/net/core/somaxconn", "re")) != NULL) {
		if (fscanf(fp, "%d", &somaxconn) != 1 || somaxconn <= 0)
			somaxconn = BACKLOG_FALLBACK;
		fclose(fp);
	}
	return somaxconn;
}

static int
backlog_of(const struct svc_conf *sc)
{
	return sc->backlog ? sc->backlog : backlog_default();
}

static int
set_env_service(struct service *svc, const char *name)
{
	char *s;

	if (asprintf(&s, "SOCKD_SERVICE=%s", name) == -1)
		return -1;
	free(svc->env_service);
	svc->env_service = s;
	return 0;
}

/* The handler environment: connection slots, then sc's template. */
static int
set_env(struct service *svc, const struct svc_conf *sc)
{
	size_t n = 0;
	char **v;

	while (sc->env && sc->env[n])
		n++;
	if ((v = calloc(CONN_ENV + n + 1, sizeof(char *))) == NULL)
		return -1;
	memcpy(v + CONN_ENV, sc->env, n * sizeof(char *));
	free(svc->envv);
	svc->envv = v;
	svc->nconnenv = CONN_ENV;
	return 0;
}

static int
set_fail_ring(struct service *svc, unsigned limit)
{
	if (svc->fails && svc->fails_cap == limit + 1)
		return 0;
	free(svc->fails);
	svc->nfails = svc->fails_next = 0;
	svc->fails_cap = limit + 1;
	svc->fails = calloc(svc->fails_cap, sizeof(*svc->fails));
	return svc->fails ? 0 : -1;
}

/*
 * The namespaces a jail's connections share, made when the service starts
 * and at each reload, so that a reload shows what the jail's paths are
 * now; the old ones go (running children joined them already). -1 with
 * errno when the kernel refuses what the checking child's trial passed.
 */
static int
set_jail(struct service *svc, const struct svc_conf *sc)
{
	struct jailns ns = JAILNS_NONE;
	int err;

	if (sc->jail && jailns_make(sc->jail, &ns, &err) != JAIL_OK) {
		errno = err;
		return -1;
	}
	jailns_close(&svc->jns);
	svc->jns = ns;
	return 0;
}

/*
 * A TLS service's context, built from its files as they are now, when the
 * service starts and at each reload: a renewed certificate is taken then.
 * Children started before keep the one they were forked with.
 */
static int
set_tls(struct service *svc, const struct svc_conf *sc)
{
	struct tls *tls = NULL;
	enum tls_failed failed;
	char why[256];
	int sni;
	/* The loader loaded it to check the service's files. */
	const struct tlsmod *m = sc->tls || svc->tls ?
	    tlsmod_load(why, sizeof(why)) : NULL;

	if (sc->tls && (m == NULL || (tls = m->tls_new(sc->tls, &failed, &sni,
	    why, sizeof(why))) == NULL)) {
		errno = EINVAL;
		return -1;
	}
	if (svc->tls)
		m->tls_free(svc->tls);
	svc->tls = tls;
	return 0;
}

struct service *
service_new(const struct svc_conf *sc, struct config *cfg)
{
	struct service *svc = calloc(1, sizeof(*svc));

	if (svc == NULL)
		return NULL;
	svc->refs = 1;
	svc->busy_fd = -1;
	svc->jns = JAILNS_NONE;
	svc->backoff_ms = BACKOFF_FIRST_MS;
	svc->resume.arg = svc;
	svc->fault_timer.arg = svc;
	svc->refuse_flush.arg = svc;
	svc->rate_timer.arg = svc;
	ratelimit_init(&svc->rate, sc->rate, sc->rate_burst, (int64_t)loop_now_ms());
	persource_init(&svc->sources, sc->per_source_prefix6, sc->source_rate,
	    sc->source_rate);
	if (service_configure(svc, sc, cfg) == -1) {
		service_unref(svc);
		return NULL;
	}
	return svc;
}

/*
 * A service takes its (re)loaded configuration. A kept service has the
 * same addresses, so its listeners move onto the new entries; its
 * per-source table and buckets stay, taking new limits.
 */
int
service_configure(struct service *svc, const struct svc_conf *sc, struct config *cfg)
{
	const struct svc_conf *old = svc->conf;

	/* A copy of the service as it was: the next connection makes another
	 * (tlszygote.h). */
	tlszygote_end(svc);
	if (set_tls(svc, sc) == -1 ||
	    set_env_service(svc, sc->name) == -1 || set_env(svc, sc) == -1 ||
	    set_fail_ring(svc, cfg->global.fail_limit) == -1 ||
	    set_jail(svc, sc) == -1)
		return -1;
	for (size_t i = 0; i < svc->nls; i++)
		for (size_t j = 0; j < sc->naddrs; j++)
			if (addr_equal(svc->ls[i].addr, &sc->addrs[j])) {
				svc->ls[i].addr = &sc->addrs[j];
				break;
			}
	/* listen(2) again just changes the backlog of a listening socket. */
	if (old && sc->proto != PROTO_UDP && backlog_of(old) != backlog_of(sc))
		for (size_t i = 0; i < svc->nls; i++)
			if (svc->ls[i].fd != -1)
				(void)listen(svc->ls[i].fd, backlog_of(sc));
	if (old && (old->rate != sc->rate || old->rate_burst != sc->rate_burst))
		ratelimit_init(&svc->rate, sc->rate, sc->rate_burst, (int64_t)loop_now_ms());
	svc->sources.prefix6 = sc->per_source_prefix6;
	svc->sources.rate = svc->sources.burst = sc->source_rate;
	config_ref(cfg);
	config_unref(svc->cfg);
	svc->cfg = cfg;
	svc->conf = sc;
	return 0;
}

/*
 * An inherited IP socket (systemd's, or the one an upgrade's old image
 * had): listening if it is a stream (systemd listens already, with its own
 * backlog), with the options a bound socket can still take; the others
 * are the socket unit's (or were set when the old image bound it).
 */
static int
take_passed(int fd, const struct svc_conf *sc, const char **failed)
{
	int on = 0, saved;
	socklen_t len = sizeof(on);
	bool stream = sc->proto == PROTO_TCP;

	*failed = NULL;
	if (stream && (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == -1 ||
	    (!on && listen(fd, backlog_of(sc)) == -1)))
		goto fail;
	if (sockopt_live(fd, &sc->so, stream, failed) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* The socket of one address: inherited (inherit.h), or else bound here. */
static int
open_one(struct service *svc, size_t i, struct inherited *in)
{
	const struct svc_conf *sc = svc->conf;
	int type = sc->proto == PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	const char *path = sc->proto == PROTO_UNIX ? sc->unix_path : NULL;
	struct sockaddr_storage ss;
	struct sockopts so;
	socklen_t len;
	int fd;

	fd = in ? inherit_claim(in, sc->name, type, &sc->addrs[i], sc->port,
	    path, &svc->ls[i].file) : -1;
	if (fd == -2) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	/* A UNIX-domain one only comes from an upgrade: as it was. */
	if (fd >= 0)
		return path ? fd : take_passed(fd, sc, &svc->failed_opt);
	if (path)
		return unixsock_listen(path, backlog_of(sc), sc->unix_mode,
		    sc->unix_uid, sc->unix_gid, &svc->ls[i].file);
	len = addr_sockaddr(&sc->addrs[i], sc->port, &ss);
	/* Its handlers' sockets join its SO_REUSEPORT group (udphand.h). */
	so = sc->so;
	if (udphand_wanted(sc)) {
		so.reuseport = true;
		svc->ls[i].fresh = udphand_port_free((struct sockaddr *)&ss, len);
	}
	return sock_listen(type, (struct sockaddr *)&ss, len, backlog_of(sc),
	    sc->v6only, &so, &svc->failed_opt);
}

int
service_open(struct service *svc, struct inherited *in)
{
	const struct svc_conf *sc = svc->conf;
	int saved;

	if ((svc->ls = calloc(sc->naddrs, sizeof(*svc->ls))) == NULL)
		return -1;
	for (size_t i = 0; i < sc->naddrs; i++, svc->nls++) {
		struct listener *l = &svc->ls[i];

		svc->failed = i;
		l->fd = open_one(svc, i, in);
		if (l->fd == -1)
			goto fail;
		l->addr = &sc->addrs[i];
		l->svc = svc;
		l->watch.fd = l->fd;
		l->watch.arg = l;
	}
	return 0;
fail:
	saved = errno;
	service_close(svc);
	errno = saved;
	return -1;
}

/* Closes the sockets; the listeners stay (fd -1) until the last unref.
 * A TLS zygote, now of no use, ends. */
void
service_close(struct service *svc)
{
	tlszygote_end(svc);
	for (size_t i = 0; i < svc->nls; i++) {
		if (svc->ls[i].fd != -1)
			close(svc->ls[i].fd);
		if (svc->ls[i].handoff)
			close(svc->ls[i].anchor);
		svc->ls[i].handoff = false;
		svc->ls[i].fd = svc->ls[i].watch.fd = -1;
		if (svc->conf->proto == PROTO_UNIX)
			unixsock_remove(svc->conf->unix_path, &svc->ls[i].file);
	}
	svc->busy_fd = -1;
}

/* UDP built-ins and TCP ones that only send: no child is ever started. */
bool
service_in_master(const struct svc_conf *sc)
{
	return sc->builtin != NULL && (sc->proto == PROTO_UDP ||
	    sc->builtin->in_master);
}

struct service *
service_ref(struct service *svc)
{
	svc->refs++;
	return svc;
}

void
service_unref(struct service *svc)
{
	if (--svc->refs > 0)
		return;
	service_close(svc);
	free(svc->ls);
	free(svc->env_service);
	free(svc->envv);
	free(svc->fails);
	persource_free(&svc->sources);
	jailns_close(&svc->jns);
	if (svc->tls)
		tlsmod()->tls_free(svc->tls);
	config_unref(svc->cfg);
	free(svc);
}

void
service_describe(const struct service *svc, char *buf, size_t len)
{
	const struct svc_conf *sc = svc->conf;
	const struct addr *addr = &sc->addrs[svc->failed < sc->naddrs ? svc->failed : 0];
	char a[ADDR_STRLEN];

	if (sc->proto == PROTO_UNIX) {
		/* unixsock.h: these three mean a file we must not take. */
		snprintf(buf, len, "service \"%s\" (%s:%d): unix %s%s", sc->name,
		    sc->file, sc->line, sc->unix_path, errno == EADDRINUSE ?
		    " (another process listens there)" : errno == ENOTSOCK ?
		    " (a file that is not a socket is in the way)" : errno == ESTALE ?
		    " (replaced after bind(): no longer the socket sockd made)" : "");
		return;
	}
	addr_format(addr, a);
	snprintf(buf, len, "service \"%s\" (%s:%d): %s %s%s%s port %u%s%s", sc->name,
	    sc->file, sc->line, svc_proto_name(sc->proto),
	    addr->family == AF_INET6 ? "[" : "", a,
	    addr->family == AF_INET6 ? "]" : "", sc->port,
	    svc->failed_opt ? ", setting " : "",
	    svc->failed_opt ? svc->failed_opt : "");
}

bool
service_at_cap(const struct service *svc)
{
	return svc->conf->instances && svc->nchildren >= svc->conf->instances;
}

bool
service_fail(struct service *svc, uint64_t now, uint64_t window_ms)
{
	uint64_t oldest;

	svc->fails[svc->fails_next] = now;
	svc->fails_next = (svc->fails_next + 1) % svc->fails_cap;
	if (svc->nfails < svc->fails_cap)
		svc->nfails++;
	if (svc->nfails < svc->fails_cap)
		return false;
	/* The ring is full: its oldest entry is fails_cap failures ago. */
	oldest = svc->fails[svc->fails_next];
	return now - oldest <= window_ms;
}
