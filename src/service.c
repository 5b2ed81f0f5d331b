#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "service.h"
#include "sock.h"

/* Used when net.core.somaxconn cannot be read. */
#define BACKLOG_FALLBACK 4096

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

/* Binds the socket; returns -1 with errno, leaving svc closed. */
int
service_open(struct service *svc, const struct svc_conf *sc)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_sockaddr(&sc->addr, sc->port, &ss);

	memset(svc, 0, sizeof(*svc));
	svc->conf = sc;
	svc->fd = -1;
	if (asprintf(&svc->env_service, "SOCKD_SERVICE=%s", sc->name) == -1) {
		svc->env_service = NULL;
		errno = ENOMEM;
		return -1;
	}
	svc->fd = sock_listen(sc->proto == PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM,
	    (struct sockaddr *)&ss, len, sc->backlog ? sc->backlog : backlog_default());
	if (svc->fd == -1) {
		int saved = errno;
		free(svc->env_service);
		svc->env_service = NULL;
		errno = saved;
		return -1;
	}
	svc->watch.fd = svc->fd;
	svc->watch.arg = svc;
	return 0;
}

void
service_close(struct service *svc)
{
	if (svc->fd != -1)
		close(svc->fd);
	svc->fd = -1;
	free(svc->env_service);
	svc->env_service = NULL;
}

void
service_describe(const struct service *svc, char *buf, size_t len)
{
	const struct svc_conf *sc = svc->conf;
	char a[ADDR_STRLEN];

	addr_format(&sc->addr, a);
	snprintf(buf, len, "service \"%s\" (%s:%d): %s %s%s%s port %u", sc->name,
	    sc->file, sc->line, svc_proto_name(sc->proto),
	    sc->addr.family == AF_INET6 ? "[" : "", a,
	    sc->addr.family == AF_INET6 ? "]" : "", sc->port);
}

bool
service_at_cap(const struct service *svc)
{
	return svc->conf->instances && svc->nchildren >= svc->conf->instances;
}
