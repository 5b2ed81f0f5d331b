/* The runtime side of a configured service: its sockets and its children. */
#ifndef SOCKD_SERVICE_H
#define SOCKD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "persource.h"
#include "ratelimit.h"
#include "refuse.h"

struct service;

/* One bound socket; a service has one per configured address. */
struct listener {
	int fd;			/* -1 when closed */
	struct watch watch;	/* arg points back to this listener */
	const struct addr *addr;
	struct service *svc;
};

struct service {
	const struct svc_conf *conf;
	struct listener *ls;
	size_t nls;
	unsigned nchildren;	/* live children of this service */
	bool busy;		/* a wait-mode child holds a socket */
	int busy_fd;		/* which one */
	char *env_service;	/* "SOCKD_SERVICE=<name>", built once */
	char **envv;		/* room for a handler's whole environment */
	size_t nconnenv;	/* slots at the front of envv for the connection */
	struct bucket rate;	/* the service's connections per second */
	int64_t resume_at;	/* paused by rate until then; 0: not paused */
	struct persource sources;
	struct refuse_log refusals;
	void *owner;		/* the daemon, for event callbacks */
	size_t failed;		/* after a failed service_open: which address */
};

int service_open(struct service *, const struct svc_conf *);
void service_close(struct service *);
/* Explains a failed service_open() (errno as it left). */
void service_describe(const struct service *, char *, size_t);
bool service_at_cap(const struct service *);

#endif
