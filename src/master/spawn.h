/* Starting handler processes. */
#ifndef SOCKD_SPAWN_H
#define SOCKD_SPAWN_H

#include <stdbool.h>
#include <sys/socket.h>

#include "addr.h"
#include <sys/types.h>

struct service;

/* The connection a nowait child serves; NULL peer for wait services. */
struct conn {
	int fd;
	int errfd;		/* the child's fd 2; -1 keeps sockd's stderr */
	const struct sockaddr *peer;
	const struct sockaddr *local;
	unsigned connnum;	/* TCPCONNNUM: the client's connections, this
				 * one included; 0 leaves it unset */
	const struct ucred *cred;	/* protocol "unix": the peer; else NULL */
	/*
	 * The peer's address, converted from peer once, when the connection
	 * is admitted (admit_peer()), for every use after: the access lists,
	 * per_source, the log, the environment. known false: none (a wait
	 * service's socket, a UNIX peer, an address of no IP family).
	 */
	struct addr addr;
	uint16_t port;
	bool known;
	pid_t pid;		/* set by start_child() once the child runs */
	uid_t own_id;		/* a jailed handler's id of its own; 0: none */
	uid_t relay_id;		/* a TLS relay's id of its own; 0: none */
	/* A PROXY header's variables (connenv.h), NULL-terminated; NULL:
	 * none. */
	char *const *proxyenv;
	/* TLS (tlsrelay.c): the handshake's variables, NULL-terminated, or
	 * NULL; and whether the handler stays in its parent's process group
	 * (the relay's, which the master signals) instead of leading one. */
	char *const *tlsenv;
	bool in_group;
	/* STARTTLS (tlsrelay.c): descriptors the handler keeps as they are
	 * numbered, in ascending order, each 4 or above, below PLACE_BELOW;
	 * npass 0: none. */
	const int *pass;
	unsigned npass;
};

/*
 * A server's child takes a private copy of the descriptor table below the
 * connection and places the connection on 0 and 1 and the service's stderr
 * on 2 itself. When either is 64 or above, that copy would grow with the
 * master's table, so the master lends its own fds 0 and 2 instead: it puts
 * the connection and the stderr socket there for the duration of the
 * clone() and takes them back after. These are the master's originals,
 * kept aside for that.
 */
struct spawner {
	int own_in, own_err;
	bool no_clone_pidfd;	/* the kernel refused CLONE_PIDFD once */
};

/* The steps of a child's set-up, in their order, for the error report. */
enum spawn_step { SPAWN_OK, SPAWN_UNSHARE, SPAWN_DUP2, SPAWN_RLIMIT,
    SPAWN_NICE, SPAWN_GROUPS, SPAWN_SETGID, SPAWN_SETUID, SPAWN_KEEP_ROOT,
    SPAWN_CHDIR, SPAWN_GROUP, SPAWN_EXEC,
    /* A jailed child's own steps (jail.h), around the ones above. */
    SPAWN_JAIL_USERNS, SPAWN_JAIL_MOUNT, SPAWN_JAIL_PIVOT, SPAWN_JAIL_CAPS,
    SPAWN_JAIL_NNP, SPAWN_JAIL_SECCOMP, SPAWN_JAIL_NET, SPAWN_JAIL_CLONE };

/* What a step is called in the log: "setuid", "execve", ... */
const char *spawn_step_name(enum spawn_step);

int spawn_init(struct spawner *);
void spawn_free(struct spawner *);

/*
 * Each returns the child's pid, or -1 with errno when no child could be
 * made. Unless pidfd is NULL, it sets *pidfd to a close-on-exec pidfd for
 * the child (-1 when the kernel gave none). A server that could not be
 * executed still leaves a child (it has exited 127, to be reaped as
 * usual); *exec_err says why and *step which step of its set-up failed.
 * A built-in child whose set-up fails writes the step and the error to
 * its fd 2 and exits 126.
 */
pid_t spawn_server(struct spawner *, const struct service *, const struct conn *,
    int *pidfd, int *exec_err, enum spawn_step *step);
pid_t spawn_builtin(const struct service *, const struct conn *, int *pidfd);

#endif
