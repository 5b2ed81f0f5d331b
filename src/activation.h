/*
 * Sockets passed by systemd's socket activation (sd_listen_fds(3):
 * LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES) and which service takes each.
 * Never logs: a socket that is for a service but of another kind is
 * explained in a message the caller reports.
 */
#ifndef SOCKD_ACTIVATION_H
#define SOCKD_ACTIVATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct passed {
	int fd;			/* kept open for the daemon's life */
	char *name;		/* from LISTEN_FDNAMES; "" without */
	int type;		/* SOCK_STREAM or SOCK_DGRAM */
	struct addr addr;
	uint16_t port;
	bool used;		/* a service took it */
};

struct activation {
	struct passed *p;
	size_t n;
	char why[256];		/* after activation_claim() returned -2 */
};

/*
 * Takes the sockets passed to this process (LISTEN_PID is its pid), from
 * fd 3 on: close-on-exec and non-blocking from now on, the variables
 * unset. 0, also with none; -1 with errno if one cannot be read.
 */
int activation_take(struct activation *);
/*
 * The passed socket for one address of a service, as a new descriptor
 * (close-on-exec): the one named after the service, else one of the same
 * type bound to the same address and port. -1: none, bind one; -2: one is
 * named after the service but is of another kind (why says how).
 */
int activation_claim(struct activation *, const char *service, int type,
    const struct addr *, uint16_t port);
/* The first passed socket no service took, described; false if none. */
bool activation_unused(const struct activation *, char *buf, size_t len);
void activation_free(struct activation *);

#endif
