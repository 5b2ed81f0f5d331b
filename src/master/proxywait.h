/*
 * Accepted connections on services with proxy_protocol set, while the
 * master reads their PROXY header: each is watched by the loop with a
 * timer of its own, so a slow sender delays nobody else. They hold no
 * place under instances or max_children; each service lets proxy_pending
 * of them wait, and drops the one that has waited longest beyond that.
 * Their list is the master's (struct proxywait, sockd.h).
 */
#ifndef SOCKD_PROXYWAIT_H
#define SOCKD_PROXYWAIT_H

#include <stdbool.h>
#include <sys/socket.h>

struct service;
struct sockd;

/*
 * Takes fd, accepted on svc from peer: refused at once unless peer is in
 * proxy_from, else kept until its header is read and the caps have room
 * for a handler (then accept_proxied() serves it), it is bad, it is the
 * oldest of more than proxy_pending, or proxy_timeout runs out. local is
 * the listener's own address, or NULL for a wildcard one.
 */
void proxywait_add(struct sockd *, struct service *, int fd,
    const struct sockaddr *peer, const struct sockaddr *local);
/* Room for handlers may have freed: serves the parked connections that fit. */
void proxywait_resume(struct sockd *);
/* Closes every waiting connection (the master is going). */
void proxywait_free(struct sockd *);

#endif
