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
#define BACKOFF_FIRST_MS 1000

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

struct service *
service_new(const struct svc_conf *sc, struct config *cfg)
{
	struct service *svc = calloc(1, sizeof(*svc));

	if (svc == NULL)
		return NULL;
	svc->fd = -1;
	svc->refs = 1;
	svc->backoff_ms = BACKOFF_FIRST_MS;
	svc->watch.fd = -1;
	svc->watch.arg = svc;
	svc->resume.arg = svc;
	if (service_adopt(svc, sc, cfg) == -1) {
		service_unref(svc);
		return NULL;
	}
	return svc;
}

int
service_adopt(struct service *svc, const struct svc_conf *sc, struct config *cfg)
{
	if (set_env_service(svc, sc->name) == -1 ||
	    set_fail_ring(svc, cfg->global.fail_limit) == -1)
		return -1;
	config_ref(cfg);
	config_free(svc->cfg);
	svc->cfg = cfg;
	svc->conf = sc;
	return 0;
}

/* Binds the socket; returns -1 with errno, leaving svc closed. */
int
service_open(struct service *svc)
{
	const struct svc_conf *sc = svc->conf;
	struct sockaddr_storage ss;
	socklen_t len = addr_sockaddr(&sc->addr, sc->port, &ss);

	svc->fd = sock_listen(sc->proto == PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM,
	    (struct sockaddr *)&ss, len, LISTEN_BACKLOG);
	svc->watch.fd = svc->fd;
	return svc->fd == -1 ? -1 : 0;
}

void
service_close(struct service *svc)
{
	if (svc->fd != -1)
		close(svc->fd);
	svc->fd = svc->watch.fd = -1;
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
	free(svc->env_service);
	free(svc->fails);
	config_free(svc->cfg);
	free(svc);
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

const char *
refuse_reason_name(enum refuse_reason r)
{
	static const char *const names[] = { "access", "per_source",
	    "source_rate", "instances" };

	return r < REFUSE_NREASONS ? names[r] : "?";
}
