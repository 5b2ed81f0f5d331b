/*
 * A service's socket options, as the configuration gives them, and how
 * they are put on its sockets. Never logs: a failure returns -1 with errno
 * set and names the option, and the caller reports it.
 */
#ifndef SOCKD_SOCKOPT_H
#define SOCKD_SOCKOPT_H

#include <stdbool.h>
#include <net/if.h>

/* Laid out without padding, so that memcmp() compares two of them. */
struct sockopts {
	unsigned keepidle, keepintvl, keepcnt;	/* 0: the kernel's default */
	unsigned defer_accept;	/* seconds; 0: off */
	unsigned fastopen;	/* queue length; 0: off */
	unsigned rcvbuf, sndbuf;	/* bytes; 0: the kernel's default */
	bool keepalive, nodelay, reuseport, freebind;
	char interface[IFNAMSIZ];	/* "": any */
};

/* Before bind(2): the options that decide how the socket is bound. */
int sockopt_bind(int fd, const struct sockopts *, const char **failed);
/*
 * On a bound (and, for a stream, listening) socket: the options accepted
 * connections inherit and the listener's own. Sets every one, on or off,
 * so that it also serves a reload.
 */
int sockopt_live(int fd, const struct sockopts *, bool stream,
    const char **failed);
/*
 * Whether going from a to b needs a socket bound anew: SO_REUSEPORT,
 * IP_FREEBIND and SO_BINDTODEVICE count at bind(2) only, and a buffer
 * size once set cannot go back to the kernel's automatic one. Names the
 * first such option in *which.
 */
bool sockopt_needs_rebind(const struct sockopts *a, const struct sockopts *b,
    const char **which);

#endif
