/*
 * A TLS connection's child (a TLS service, config.h's struct tls_conf):
 * forked by the service's zygote (tlszygote.h) as the master's child, or
 * by the master where there is no zygote, it does the handshake within
 * handshake_timeout, starts the handler through spawn.c on one end of a
 * socket pair, with the handshake's SSL_* variables, then carries the
 * bytes between the TLS connection and that pair until both directions
 * end, and ends as its handler did. With starttls the handler starts first, on the connection
 * itself, and asks for the handshake the UCSPI-TLS way (SSLCTLFD,
 * SSLREADFD, SSLWRITEFD); the relay then carries the bytes between the
 * connection and those pipes. It is the process the master tracks as the connection;
 * the handler, its child, stays in its process group.
 */
#ifndef SOCKD_TLSRELAY_H
#define SOCKD_TLSRELAY_H

#include <sys/types.h>

struct service;
struct conn;
struct spawner;

/*
 * A handshake that failed (a plain-text client, garbage, a stalled one,
 * a client certificate refused) ends the child with this status, which
 * the master counts as the refusal "tls_handshake"; a handler that exits
 * with it is reported as having exited with 1.
 */
#define TLSRELAY_EXIT_HANDSHAKE 124

/* The connection's child, forked by the master (a fork() of its own)
 * or by the zygote; it ends as the connection does. */
void tlsrelay_child(struct spawner *, const struct service *,
    const struct conn *) __attribute__((noreturn));
/* The child forked by the master itself. As spawn_builtin(): its pid, or
 * -1 with errno. */
pid_t tlsrelay_spawn(struct spawner *, const struct service *,
    const struct conn *, int *pidfd);

#endif
