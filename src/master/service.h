/*
 * The runtime side of a configured service: its sockets, its children, its
 * counters. A service outlives a reload that keeps its addresses, and a
 * removed one lives on (closed) until its last child is reaped.
 */
#ifndef SOCKD_SERVICE_H
#define SOCKD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "jailns.h"
#include "persource.h"
#include "ratelimit.h"
#include "refuse.h"
#include "unixsock.h"

struct errlog;
struct sockd;
struct service;
struct udppeers;

/* One bound socket; a service has one per configured address. */
struct listener {
	int fd;			/* -1 when closed */
	struct watch watch;	/* arg points back to this listener */
	const struct addr *addr;
	struct service *svc;
	struct unixsock_file file;	/* protocol "unix": the file made */
	/* Per peer (udphand.h): bound here to a port nothing else held, so
	 * that its SO_REUSEPORT group is its own; then handlers get sockets
	 * of their own while anchor, the group's newest member, lives. */
	bool fresh;
	bool handoff;
	int anchor;
};

/* Upper bounds of the handler lifetime histogram: metrics.c's table. */
#define SERVICE_DURATION_BOUNDS 14

/* Counters only, never an address (they are published by metrics.c). */
struct service_stats {
	unsigned long long accepted;	/* for UDP built-ins: datagrams */
	unsigned long long refused[REFUSE_NREASONS];
	unsigned long long ended_ok, ended_failed, ended_signal;
	unsigned long long backoff_pauses;	/* failure back-off pauses begun */
	/* Handlers ended per lifetime bound (the last: above them all), not
	 * cumulative, and the sum of their lifetimes. */
	unsigned long long duration[SERVICE_DURATION_BOUNDS + 1];
	unsigned long long duration_ms;
};

struct tls;
struct tlszygote;

struct service {
	const struct svc_conf *conf;
	struct config *cfg;	/* the configuration conf belongs to */
	unsigned refs;		/* the daemon's list, each child, each stderr log */
	struct listener *ls;	/* one per address; fds -1 once closed */
	size_t nls;
	unsigned nchildren;	/* live children of this service */
	unsigned npending;	/* connections in proxywait.c, under proxy_pending */
	bool busy;		/* a wait-mode child holds a socket */
	int busy_fd;		/* which one; -1 once closed */
	bool paused;		/* by failure back-off, until resume */
	bool held;		/* paused by an operator (sockctl pause) */
	struct timer resume;
	struct timer refuse_flush;	/* logs suppressed refusals */
	bool faulted;		/* out of a resource, until fault_timer */
	struct timer fault_timer;
	unsigned fault_ms;	/* current resource-fault pause; 0: none */
	unsigned nfaults;	/* failures since the fault began */
	int fault_step;		/* the furthest step that failed (gate.c) */
	unsigned backoff_ms;	/* next failure back-off pause */
	uint64_t *fails;	/* ring of recent fast-failure times */
	unsigned nfails, fails_cap, fails_next;
	struct service_stats st;
	char *env_service;	/* "SOCKD_SERVICE=<name>", built once */
	char **envv;		/* room for a handler's whole environment */
	size_t nconnenv;	/* slots at the front of envv for the connection */
	struct bucket rate;	/* the service's connections per second */
	bool rate_wait;		/* out of rate tokens until rate_timer fires */
	struct timer rate_timer;
	struct persource sources;
	struct refuse_log refusals;
	struct sockd *sd;	/* the daemon, for event callbacks */
	struct errlog *errlog;	/* its handlers' stderr, once one needed it */
	size_t failed;		/* after a failed service_open: which address */
	struct udppeers *peers;	/* udp, wait = false: its peers (udppeer.c) */
	struct jailns jns;	/* what its jailed connections share (jailns.h) */
	struct tls *tls;	/* a TLS service's contexts (tls.h); NULL */
	struct tlszygote *zygote;	/* its TLS zygote (tlszygote.h); NULL */
	const char *failed_opt;	/* and which socket option, if one failed */
};

struct service *service_new(const struct svc_conf *, struct config *);
/* UDP built-ins and TCP ones that only send: answered in the master, no
 * child is ever started. */
bool service_in_master(const struct svc_conf *);
struct inherited;

/*
 * Binds every address, or takes the socket inherited for it from in (may
 * be NULL: systemd's, or an upgrade's old image's); -1 with errno (see
 * service_describe, and in->why when a passed socket is of the wrong
 * kind), left closed.
 */
int service_open(struct service *, struct inherited *);
/* A new or kept service takes its entry of a newly loaded configuration
 * ("adopt" names only what an upgrade's new image takes over). */
int service_configure(struct service *, const struct svc_conf *, struct config *);
void service_close(struct service *);
struct service *service_ref(struct service *);
void service_unref(struct service *);
/* Explains a failed service_open() (errno as it left). */
void service_describe(const struct service *, char *, size_t);
bool service_at_cap(const struct service *);
/* Records a fast failure; true when more than the limit fell within window_ms. */
bool service_fail(struct service *, uint64_t now, uint64_t window_ms);

#endif
