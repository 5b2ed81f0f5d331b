/*
 * A TLS service's zygote: a process forked from the master once per
 * service and configuration (at the service's first TLS connection after
 * it took its settings), holding the service's contexts, its ticket key
 * and its settings. The master hands it each accepted connection and what
 * is the connection's own (struct conn) over a socket; it forks the
 * connection's child (tlsrelay.h) as the master's child (CLONE_PARENT), so
 * the master reaps, limits and counts it as any other, and the child tells
 * the master its pid. The master thus never copies itself per TLS
 * connection, and does not wait for the pid: the connection is handed over
 * and the master goes on. The zygote is root, not dumpable, holds its socket, 0-2 and
 * the service's jail namespaces alone, and ends with the master (its
 * socket's end, and PR_SET_PDEATHSIG). Where there is none (it could not
 * be made, or it ended), the master forks the child itself.
 */
#ifndef SOCKD_TLSZYGOTE_H
#define SOCKD_TLSZYGOTE_H

#include <stdbool.h>
#include <sys/types.h>

struct conn;
struct loop;
struct service;
struct spawner;

/*
 * What became of a connection handed over, called from the loop: pid > 0,
 * the pid its child sent, which the caller checks is its unreaped child
 * and not one it knows already (only the zygote and its children hold the
 * socket, but the pid is taken from a message); 0: no child was made (the
 * zygote could not fork, or it ended with the request unanswered), the
 * caller starts one itself for c; -1: whether a child runs cannot be known
 * (the zygote was stuck, and its socket did not end within the deadline
 * after it was killed): the connection is refused. c is the connection as
 * it was handed over, its fd closed after, and its errfd -1 (the caller
 * gives a child it starts its stderr).
 */
typedef void tlszygote_done_fn(void *arg, pid_t pid, const struct conn *c);
/*
 * Hands c to svc's zygote, made if it has none: true when done(arg, ...)
 * follows, c->fd then taken (-1); false when no zygote takes it (none
 * could be made, it has ended, or it is behind with its requests): the
 * caller starts the child. A request unanswered for 5 s takes the zygote
 * for stuck: it is ended.
 */
bool tlszygote_hand(struct loop *, struct spawner *, struct service *,
    struct conn *, tlszygote_done_fn *done, void *arg);
/* Ends the service's zygote, if it has one: its settings or its contexts
 * are about to change, or it takes no more connections. */
void tlszygote_end(struct service *);

#endif
