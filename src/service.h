/*
 * The runtime side of a configured service: its socket, its children, its
 * counters. A service outlives a reload that keeps its address, and a
 * removed one lives on (closed) until its last child is reaped.
 */
#ifndef SOCKD_SERVICE_H
#define SOCKD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "loop.h"

/* Why a client was turned away without being served. */
enum refuse_reason {
	REFUSE_ACCESS,
	REFUSE_PER_SOURCE,
	REFUSE_SOURCE_RATE,
	REFUSE_INSTANCES,
	REFUSE_NREASONS
};

struct service_stats {
	unsigned long long accepted;
	unsigned long long refused[REFUSE_NREASONS];
	unsigned long long ended_ok, ended_failed, ended_signal;
};

struct service {
	const struct svc_conf *conf;
	struct config *cfg;	/* the configuration conf belongs to */
	unsigned refs;		/* the daemon's list, each child, each stderr pipe */
	int fd;			/* listening or bound socket, -1 when closed */
	struct watch watch;
	unsigned nchildren;	/* live children of this service */
	bool busy;		/* a wait-mode child holds the socket */
	bool paused;		/* by back-off or a resource fault, until resume */
	struct timer resume;
	unsigned fault_ms;	/* current resource-fault pause; 0: none */
	unsigned backoff_ms;	/* next failure back-off pause */
	uint64_t *fails;	/* ring of recent fast-failure times */
	unsigned nfails, fails_cap, fails_next;
	struct service_stats st;
	char *env_service;	/* "SOCKD_SERVICE=<name>", built once */
	void *owner;		/* the daemon, for event callbacks */
};

struct service *service_new(const struct svc_conf *, struct config *);
int service_open(struct service *);
/* Moves a kept service onto its entry in a newly loaded configuration. */
int service_adopt(struct service *, const struct svc_conf *, struct config *);
void service_close(struct service *);
struct service *service_ref(struct service *);
void service_unref(struct service *);
/* Explains a failed service_open() (errno as it left). */
void service_describe(const struct service *, char *, size_t);
bool service_at_cap(const struct service *);
/* Records a fast failure; true when more than the limit fell within window_ms. */
bool service_fail(struct service *, uint64_t now, uint64_t window_ms);
const char *refuse_reason_name(enum refuse_reason);

#endif
