/* The classic inetd built-in services (RFC 862-868). */
#ifndef SOCKD_BUILTIN_H
#define SOCKD_BUILTIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Seconds a TCP built-in child waits for its client to send, or to take
 * what it sends, before it closes the connection (idle_timeout unset).
 */
#define BUILTIN_IDLE_SECONDS 300

struct builtin {
	const char *name;
	/* Serves one TCP connection on fds 0 and 1; runs in a child. A
	 * client idle for idle seconds is dropped. NULL when in_master. */
	void (*stream)(unsigned idle);
	/* Answers one datagram into out, which may be in itself (dgram.c
	 * answers over the datagram); returns the length, or -1 for no
	 * reply. */
	ssize_t (*dgram)(const char *in, size_t len, char *out, size_t outsz);
	/*
	 * Over TCP it only writes a few bytes, the same as its datagram reply
	 * to no input: the master sends them itself and closes, no child.
	 */
	bool in_master;
	/* Not a classic service: the master answers HTTP scrapes of its
	 * counters (scrape.c); TCP only, no stream or dgram function. */
	bool scrape;
};

const struct builtin *builtin_find(const char *name);
/* The known names, comma-separated, for error messages. */
const char *builtin_list(void);

#endif
