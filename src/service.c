#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "service.h"
#include "sock.h"

/* The kernel caps this at net.core.somaxconn; asking for more costs nothing. */
#define LISTEN_BACKLOG 4096
/* TCPREMOTEIP, TCPREMOTEPORT, TCPLOCALIP, TCPLOCALPORT, TCPCONNNUM, PROTO,
 * SOCKD_SERVICE: set per connection, ahead of the configured template so a
 * handler's getenv() finds sockd's values first. */
#define CONN_ENV 7

static int
build_env(struct service *svc)
{
	size_t n = 0;

	while (svc->conf->env && svc->conf->env[n])
		n++;
	if ((svc->envv = calloc(CONN_ENV + n + 1, sizeof(char *))) == NULL)
		return -1;
	svc->nconnenv = CONN_ENV;
	memcpy(svc->envv + CONN_ENV, svc->conf->env, n * sizeof(char *));
	return 0;
}

/* Binds every address; returns -1 with errno, leaving svc closed. */
int
service_open(struct service *svc, const struct svc_conf *sc)
{
	int saved;

	memset(svc, 0, sizeof(*svc));
	svc->conf = sc;
	svc->busy_fd = -1;
	if (asprintf(&svc->env_service, "SOCKD_SERVICE=%s", sc->name) == -1) {
		svc->env_service = NULL;
		errno = ENOMEM;
		return -1;
	}
	if (build_env(svc) == -1 ||
	    (svc->ls = calloc(sc->naddrs, sizeof(*svc->ls))) == NULL)
		goto fail;
	ratelimit_init(&svc->rate, sc->rate, sc->rate_burst, ratelimit_now());
	persource_init(&svc->sources, sc->per_source_prefix6, sc->source_rate,
	    sc->source_rate);
	for (size_t i = 0; i < sc->naddrs; i++, svc->nls++) {
		struct listener *l = &svc->ls[i];
		struct sockaddr_storage ss;
		socklen_t len = addr_sockaddr(&sc->addrs[i], sc->port, &ss);

		svc->failed = i;
		l->fd = sock_listen(sc->proto == PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM,
		    (struct sockaddr *)&ss, len, LISTEN_BACKLOG, sc->v6only);
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

void
service_close(struct service *svc)
{
	for (size_t i = 0; i < svc->nls; i++)
		if (svc->ls[i].fd != -1)
			close(svc->ls[i].fd);
	free(svc->ls);
	svc->ls = NULL;
	svc->nls = 0;
	free(svc->env_service);
	svc->env_service = NULL;
	free(svc->envv);
	svc->envv = NULL;
	persource_free(&svc->sources);
}

void
service_describe(const struct service *svc, char *buf, size_t len)
{
	const struct svc_conf *sc = svc->conf;
	const struct addr *addr = &sc->addrs[svc->failed < sc->naddrs ? svc->failed : 0];
	char a[ADDR_STRLEN];

	addr_format(addr, a);
	snprintf(buf, len, "service \"%s\" (%s:%d): %s %s%s%s port %u", sc->name,
	    sc->file, sc->line, svc_proto_name(sc->proto),
	    addr->family == AF_INET6 ? "[" : "", a,
	    addr->family == AF_INET6 ? "]" : "", sc->port);
}

bool
service_at_cap(const struct service *svc)
{
	return svc->conf->instances && svc->nchildren >= svc->conf->instances;
}
