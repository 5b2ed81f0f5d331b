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

/* A per-peer handler's idle time when idle_timeout is not set. */
#define UDPPEER_IDLE_SECONDS 10

struct sockd;
struct service;
struct listener;

/* The service's sockets report where each datagram went. */
void udppeer_attach(struct service *);
/* The service's socket is readable: datagrams to their handlers. */
void udppeer_input(struct sockd *, struct listener *);
/* The service closes (reload, exit): every handler's stdin ends. */
void udppeer_close_all(struct service *);

#endif
