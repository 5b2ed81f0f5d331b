/*
 * The state an upgrade in place (SIGUSR2) hands from the old image to the
 * new one, in a memfd: a versioned text, one record a line, each a kind
 * and key=value fields (upfield.h), the counters by name. What is
 * written: the daemon's figures, each listening socket (by protocol,
 * address and port, with its descriptor; systemd's with their names),
 * each service's counters, pause, back-off, recent fast failures, rate buckets (its own and each
 * client's) and busy socket (by name), each child (pid, service,
 * start time, per-source key, lifetime deadline), every stderr log's
 * reading end (by service name) and each per-peer UDP handler's relay
 * (service, peer, addresses, the master's end of the pair), and the
 * control clients waiting for the upgrade's verdict. Times are
 * CLOCK_MONOTONIC milliseconds, which an exec does not change, but for
 * the daemon's start and last reload, in seconds since the epoch. No
 * other file knows the format (uplegacy.c the older ones).
 *
 * The reader never gives up on a record it cannot read: it drops it and
 * says so (struct upstate_drop), and reads on, so that the new image keeps
 * all it can. Only a text whose first line is not a version it reads is
 * refused whole.
 */
#ifndef SOCKD_UPSTATE_H
#define SOCKD_UPSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "config.h"
#include "inherit.h"
#include "unixsock.h"
#include "service.h"
#include "udppeer.h"

/* The environment variable that names the memfd to the new image. */
#define UPSTATE_ENV_FD "SOCKD_UPGRADE_FD"
/* Control clients waiting for an upgrade's verdict that are handed over. */
#define UPSTATE_WAITERS_MAX 8

#define UPSTATE_VERSION 4
/*
 * The oldest hand-over this image still reads, so that a running sockd of
 * an earlier release can upgrade to this one: 2 and 3 are positional
 * (uplegacy.c maps them onto 4's names). "sockd -t" names every version
 * it reads.
 */
#define UPSTATE_OLDEST 2

struct upstate_listener {
	enum svc_proto proto;
	struct addr addr;
	uint16_t port;
	int fd;			/* -1 once taken by a service */
	/* protocol "unix": its path, and the file the old image made there
	 * (so the new one removes it when the service goes) */
	char path[UNIXSOCK_PATH_MAX];
	struct unixsock_file file;
	/* one systemd passed to the old image: kept for the daemon's life
	 * (inherit.h), under the name LISTEN_FDNAMES gave it; "" for others */
	bool kept;
	char name[INHERIT_NAME_MAX];
};

struct upstate_service {
	char name[CONFIG_NAME_MAX + 1];
	struct service_stats st;
	uint64_t paused_until;	/* 0: not paused */
	unsigned backoff_ms;
	int busy;		/* the busy listener's descriptor; -1: none */
	bool held;		/* paused by an operator (sockctl pause) */
};

/* A stderr log's reading end, and the service whose handlers write to it. */
struct upstate_errlog {
	char service[CONFIG_NAME_MAX + 1];
	int fd;
};

/* A fast failure of a service, oldest first. */
struct upstate_fail {
	char service[CONFIG_NAME_MAX + 1];
	uint64_t when;
};

/* A rate bucket that is not full: the service's, or a client's. */
struct upstate_bucket {
	char service[CONFIG_NAME_MAX + 1];
	bool source;		/* source_rate, of the client key */
	struct addr key;
	int64_t milli, last;
};

/* A per-peer UDP handler's relay, and its service. */
struct upstate_peer {
	char service[CONFIG_NAME_MAX + 1];
	struct udppeer_state st;
};

struct upstate_child {
	pid_t pid;
	char service[CONFIG_NAME_MAX + 1];
	uint64_t started_ms;
	bool has_source;
	struct addr source;
	uint64_t lifetime_when;	/* 0: no max_lifetime timer */
	bool term_sent;
	struct addr peer;	/* its client (struct child); AF_UNSPEC: none */
	uint16_t peer_port;
	/* The pool's ids its connection runs as (struct child): its jailed
	 * handler's, its TLS relay's; 0: none, or a release that did not
	 * say. */
	uid_t own_id, relay_id;
};

/* A line the reader dropped, and why. */
struct upstate_drop {
	unsigned line;		/* from 1, the version's line */
	char kind[16];		/* the record's first word, cut short */
	char why[96];
};

struct upstate {
	int version;		/* of the text read */
	struct upstate_drop *drops;
	size_t ndrops;
	time_t started, last_reload;
	unsigned long long reloads_ok, reloads_failed;
	struct upstate_listener *ls;
	size_t nls;
	struct upstate_service *svcs;
	size_t nsvcs;
	struct upstate_child *children;
	size_t nchildren;
	struct upstate_errlog *errlogs;
	size_t nerrlogs;
	struct upstate_peer *peers;
	size_t npeers;
	struct upstate_fail *fails;
	size_t nfails;
	struct upstate_bucket *buckets;
	size_t nbuckets;
	/* Control clients waiting for the upgrade's verdict (control.c). */
	int waiters[UPSTATE_WAITERS_MAX];
	size_t nwaiters;
	/* The reader's: a bit for each descriptor a record kept took. */
	unsigned char *fds;
	size_t fds_len;
};

/* Writes u (whatever its version) in this release's format: 0, or -1
 * with errno. upcollect_write() (sockd.h) gathers the daemon's. */
int upstate_print(int fd, const struct upstate *);
/* Appends one zeroed record to one of u's arrays (n of them, each size
 * bytes); NULL when out of memory. */
void *upstate_add(void **v, size_t *n, size_t size);
/*
 * Reads it back from the start of fd: 0, with what it could not read in
 * drops (a text cut short too); or -1 (errno EINVAL: a version outside
 * UPSTATE_OLDEST..UPSTATE_VERSION, or not this format), and nothing read.
 * A record naming a descriptor below 3, or one an earlier record named,
 * is dropped.
 */
int upstate_read(int fd, struct upstate *);
void upstate_free(struct upstate *);

#endif
