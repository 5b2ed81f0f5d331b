/*
 * A TLS service's zygote: a process forked from the master once per
 * service and configuration (at the service's first TLS connection after
 * it took its settings), holding the service's contexts, its ticket key
 * and its settings. The master hands it each accepted connection and what
 * is the connection's own (struct conn) over a socket; it forks the
 * connection's child (tlsrelay.h) as the master's child (CLONE_PARENT), so
 * the master reaps, limits and counts it as any other, and the child tells
 * the master its pid. The master thus never copies itself per TLS
 * connection. The zygote is root, not dumpable, holds its socket, 0-2 and
 * the service's jail namespaces alone, and ends with the master (its
 * socket's end, and PR_SET_PDEATHSIG). Where there is none (it could not
 * be made, or it ended), the master forks the child itself.
 */
#ifndef SOCKD_TLSZYGOTE_H
#define SOCKD_TLSZYGOTE_H

#include <sys/types.h>

struct conn;
struct service;
struct spawner;

/* As tlsrelay_spawn(): the child's pid, or -1 with errno. */
pid_t tlszygote_spawn(struct spawner *, struct service *, const struct conn *,
    int *pidfd);
/* Ends the service's zygote, if it has one: its settings or its contexts
 * are about to change, or it takes no more connections. */
void tlszygote_end(struct service *);

#endif
