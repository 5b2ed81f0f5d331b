/* The runtime side of a configured service: its socket and its children. */
#ifndef SOCKD_SERVICE_H
#define SOCKD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "loop.h"

struct service {
	const struct svc_conf *conf;
	int fd;			/* listening or bound socket, -1 when closed */
	struct watch watch;
	unsigned nchildren;	/* live children of this service */
	bool busy;		/* a wait-mode child holds the socket */
	char *env_service;	/* "SOCKD_SERVICE=<name>", built once */
	void *owner;		/* the daemon, for event callbacks */
};

int service_open(struct service *, const struct svc_conf *);
void service_close(struct service *);
/* Explains a failed service_open() (errno as it left). */
void service_describe(const struct service *, char *, size_t);
bool service_at_cap(const struct service *);

#endif
