/*
 * A process per UDP peer (protocol = "udp", wait = false): the master is
 * the only reader of the service's socket. It hands each datagram to the
 * handler of its sender, starting one for a new sender, through a
 * SOCK_SEQPACKET socket pair that is the handler's fds 0 and 1; what the
 * handler writes goes back to that peer from the address the peer wrote
 * to. A handler's stdin ends when it has been idle_timeout seconds without
 * a datagram either way, or when its service goes.
 */
#ifndef SOCKD_UDPPEER_H
#define SOCKD_UDPPEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

/* A per-peer handler's idle time when idle_timeout is not set. */
#define UDPPEER_IDLE_SECONDS 10

struct sockd;
struct service;
struct listener;

/*
 * A peer as an upgrade in place hands it over: who it is, which of the
 * service's addresses it wrote to and from which local address it is
 * answered, when it was last heard, and the master's end of its pair,
 * or, for a handler with a socket of its own, the master's copy of it.
 */
struct udppeer_state {
	struct addr addr;
	uint16_t port;
	uint32_t scope;		/* IPv6 scope id; 0 for IPv4 */
	struct addr listener;	/* the service's address it wrote to */
	bool has_local;		/* the address it wrote to is known: */
	struct addr local;	/* answers come from it */
	unsigned ifindex;	/* IPv6 only */
	uint64_t last_ms;	/* CLOCK_MONOTONIC */
	int fd;
	pid_t pid;		/* a handler with a socket of its own; 0: none */
	bool direct;		/* its socket is connected to the peer */
	bool ending;		/* its stdin has ended */
};

/* The service's sockets report where each datagram went. */
void udppeer_attach(struct service *);
/* The service's socket is readable: datagrams to their handlers. */
void udppeer_input(struct sockd *, struct listener *);
/* The service closes (reload, exit): every handler's stdin ends. */
void udppeer_close_all(struct service *);
/* Before an upgrade's exec: what handlers with sockets of their own wrote
 * to the feeding sockets is relayed, and each is connected to its peer. */
void udppeer_settle(struct service *);
/* Calls fn with each of the service's peers. */
void udppeer_each(const struct service *,
    void (*fn)(const struct udppeer_state *, void *), void *arg);
/* Relays for a peer handed over by an upgrade; false (errno set: EINVAL
 * when st->listener is not one of the service's addresses) if it cannot,
 * and then the caller still owns st->fd. */
bool udppeer_adopt(struct sockd *, struct service *, const struct udppeer_state *);

#endif
