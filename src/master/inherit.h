/*
 * The listening sockets this process inherited, and which service takes
 * each: one step for both ways a socket comes in. systemd's socket
 * activation (sd_listen_fds(3): LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES)
 * passes them from fd 3 on; an upgrade in place hands the old image's
 * over with the state (upstate.h), adopt.c adding each here. Either way
 * the kernel says what a socket is (SO_TYPE, getsockname), and a service
 * takes the one named after it, or else the one of its type bound to its
 * address and port (or path). Never logs: a socket that is for a service
 * but of another kind is explained in a message the caller reports.
 */
#ifndef SOCKD_INHERIT_H
#define SOCKD_INHERIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "unixsock.h"

/* systemd's limit on a LISTEN_FDNAMES name, and its NUL. */
#define INHERIT_NAME_MAX 256

struct inherited_sock {
	int fd;			/* -1 once given to a service */
	char *name;		/* from LISTEN_FDNAMES; "" without */
	int type;		/* SOCK_STREAM or SOCK_DGRAM */
	bool local;		/* AF_UNIX: path and file; else addr and port */
	struct addr addr;
	uint16_t port;
	char path[UNIXSOCK_PATH_MAX];
	struct unixsock_file file;	/* as the upgrade's old image made it */
	/* systemd's: open for the daemon's life (a reload may bind its
	 * service anew), services get copies; an upgrade hands it on */
	bool kept;
	bool handed;		/* came through an upgrade's hand-over */
	bool used;		/* a service took it */
};

struct inherited {
	struct inherited_sock *s;
	size_t n;
	char why[256];		/* after inherit_claim() returned -2 */
};

/*
 * Adds the sockets systemd passed to this process (LISTEN_PID is its
 * pid), from fd 3 on: close-on-exec and non-blocking from now on, the
 * variables unset; kept. 0, also with none; -1 with errno if one cannot be
 * read or is no IP socket (EAFNOSUPPORT).
 */
int inherit_systemd(struct inherited *);
/*
 * Adds fd, handed over by an upgrade's old image as a listener bound to
 * addr and port (path: a UNIX-domain one, made as file says), named name
 * and kept if the old image had it from systemd. -1 with errno EINVAL if
 * the kernel says fd is not that socket (it is then not added).
 */
int inherit_handed(struct inherited *, int fd, int type, const struct addr *,
    uint16_t port, const char *path, const struct unixsock_file *,
    const char *name, bool kept);
/*
 * The inherited socket for one address of a service (path: its UNIX-domain
 * path, else addr and port), as a close-on-exec descriptor: the one handed
 * over for it, else the one named after the service, else a kept one of
 * the same type bound there. A kept socket is lent as a copy, the others
 * given (and *file set). -1: none, bind one; -2: one is named after the
 * service but is of another kind (why says how).
 */
int inherit_claim(struct inherited *, const char *service, int type,
    const struct addr *, uint16_t port, const char *path,
    struct unixsock_file *file);
/* The first socket systemd passed to this process that no service took,
 * described; false if none. */
bool inherit_unused(const struct inherited *, char *buf, size_t len);
/* Once the services are bound: closes the handed-over sockets no service
 * took (no longer configured), keeps the kept ones; how many it closed. */
size_t inherit_settle(struct inherited *);
void inherit_free(struct inherited *);

#endif
