/*
 * Refused connections: tell the client (one non-blocking write) and the
 * operator, without letting a flood of refusals flood the log.
 */
#ifndef SOCKD_REFUSE_H
#define SOCKD_REFUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/* Why a client was turned away without being served. */
enum refuse_reason { REFUSE_ACCESS, REFUSE_PER_SOURCE, REFUSE_SOURCE_RATE,
    REFUSE_PAUSED, REFUSE_PROXY_FROM, REFUSE_PROXY_HEADER,
    REFUSE_TLS_HANDSHAKE, REFUSE_NREASONS };

/* Per service: at most one log line per reason per second. */
struct refuse_log {
	int64_t window[REFUSE_NREASONS];	/* start of the current second */
	unsigned suppressed[REFUSE_NREASONS];
	unsigned logged[REFUSE_NREASONS];	/* lines in the current second */
};

/* Sends msg (may be NULL), closes fd and logs the refusal. */
void refuse(struct refuse_log *, const char *service, int fd, const char *msg,
    const struct addr *, uint16_t port, enum refuse_reason, int64_t now);
/* The same, with what went wrong in detail (a constant text, or NULL). */
void refuse_detail(struct refuse_log *, const char *service, int fd,
    const char *msg, const struct addr *, uint16_t port, enum refuse_reason,
    const char *detail, int64_t now);
/* Logs what was suppressed since the last line; true if anything was. */
bool refuse_flush(struct refuse_log *, const char *service);
/* The short name counters use: "access", "per_source", ... */
const char *refuse_reason_name(enum refuse_reason);

#endif
