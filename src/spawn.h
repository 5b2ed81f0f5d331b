/* Starting handler processes. */
#ifndef SOCKD_SPAWN_H
#define SOCKD_SPAWN_H

#include <sys/socket.h>
#include <sys/types.h>

struct service;

/* The connection a nowait child serves; NULL peer for wait services. */
struct conn {
	int fd;
	int errfd;		/* the child's fd 2; -1 keeps sockd's stderr */
	const struct sockaddr *peer;
	const struct sockaddr *local;
};

/*
 * Each returns the child's pid, or -1 with errno when no child could be
 * made. A server that could not be executed still leaves a child (it has
 * exited 127, to be reaped as usual), *exec_err says why and *what which
 * step of its set-up failed.
 */
pid_t spawn_server(const struct service *, const struct conn *, int *exec_err,
    const char **what);
pid_t spawn_builtin(const struct service *, const struct conn *);

#endif
