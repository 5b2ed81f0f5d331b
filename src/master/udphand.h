/*
 * A per-peer UDP handler's own socket: the kernel operations that hand a
 * handler a UDP socket bound to its service's address and connected to
 * its peer, so that its datagrams no longer pass through the master.
 * The decisions (which peer, when) are udppeer.c's. Never logs: -1 with
 * errno, and the caller reports it.
 *
 * The socket joins the service socket's SO_REUSEPORT group, whose
 * program sends every datagram no connected socket takes to the service
 * socket, so it cannot take another peer's datagram before its
 * connect(). Linux puts a socket bound with SO_REUSEPORT into the group
 * of the port's most recently bound socket that has the option, and a
 * socket that has been connected has left its group: joining through it
 * makes a group of their own, without the program, in which the new
 * socket takes every datagram of the port until it is connected (Linux
 * 6.18, tests/bench/README.md "Run K"). So the group keeps an anchor,
 * an unconnected member bound after each handler's socket, and the
 * service socket must be the first of the port: bound when nothing
 * held it (no handler of an earlier service or daemon still holds a
 * socket of it; there the program would send the port's datagrams to
 * that handler's socket).
 *
 * The socket is first connected to a feeding socket of the master's,
 * which writes it the datagrams the master has already read from the
 * service socket; then to the peer, whose datagrams the kernel gives it
 * from then on (a connected socket matches its 4-tuple before the
 * group's unconnected ones).
 */
#ifndef SOCKD_UDPHAND_H
#define SOCKD_UDPHAND_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"

/*
 * Whether the service's handlers may have sockets of their own: per peer,
 * asked for (peer_socket, off by default: a handler can connect its socket
 * to another peer of the port and take that peer's datagrams, which it
 * cannot through the relay's pair), not sharing its port with other
 * daemons (reuseport), bound to specific addresses (a connected socket
 * answers from the one connect() picks) on no interface, and not
 * jailed. A socket of the host's network can be
 * connected anywhere, and to another peer of the port: it would undo a
 * network namespace or no_sockets, and what keeps one jailed handler
 * from its siblings (their own ids, pid namespaces). Then the service's
 * sockets are bound with SO_REUSEPORT.
 */
bool udphand_wanted(const struct svc_conf *);
/* Whether nothing holds the address sa (a bind without SO_REUSEPORT
 * succeeds): the service socket bound now will be the first of it. */
bool udphand_port_free(const struct sockaddr *sa, socklen_t len);
/* Makes the service socket fd, the first of its port, the group's only
 * receiver of what no connected socket takes, and returns the group's
 * first anchor; -1 if it is in no group (bound without SO_REUSEPORT). */
int udphand_group(int fd);
/*
 * A handler's socket bound to the address of the service socket lfd, in
 * its group through *anchor, which is replaced by a new one; connected
 * to a new feeding socket (*feed, bound to that address's host,
 * non-blocking, connected back to it). -1 if one cannot be had. *stray
 * is set if a datagram reached it before its connect(), which the
 * anchor is there to prevent: the caller reads them and stops handing
 * sockets out.
 */
int udphand_open(int lfd, int *anchor, int *feed, bool *stray);
/* A feeding socket for the handler's socket s of the service socket lfd
 * that an upgrade handed over; -1 if it cannot be had. */
int udphand_feeder(int lfd);
/* Connects s to what feed is bound to: the peer's datagrams go to the
 * service socket again, and the handler's answers to feed. */
int udphand_to_feed(int s, int feed);
/* Connects s to the peer. */
int udphand_to_peer(int s, const struct sockaddr *peer, socklen_t len);

#endif
