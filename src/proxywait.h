/*
 * Accepted connections on services with proxy_protocol set, while the
 * master reads their PROXY header: each is watched by the loop with a
 * timer of its own, so a slow sender delays nobody else.
 */
#ifndef SOCKD_PROXYWAIT_H
#define SOCKD_PROXYWAIT_H

#include <stdbool.h>
#include <sys/socket.h>

/* Connections the master holds at once; beyond, new ones are refused. */
#define PROXYWAIT_MAX 1024

struct pending;
struct service;
struct sockd;

struct proxywait {
	struct pending *head;	/* a doubly linked list */
	unsigned n;
};

/*
 * Takes fd, accepted on svc from peer: refused at once unless peer is in
 * proxy_from, else kept until its header is read (then accept_proxied()
 * serves it), is bad, or proxy_timeout runs out. local is the listener's
 * own address, or NULL for a wildcard one.
 */
void proxywait_add(struct sockd *, struct service *, int fd,
    const struct sockaddr *peer, const struct sockaddr *local);
/* Closes every waiting connection (the master is going). */
void proxywait_free(struct sockd *);

#endif
