/*
 * Refusals: the refuse_message written once without blocking, the
 * reason counted, and the log line rate-limited per service and reason.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "logaddr.h"
#include "refuse.h"

const char *
refuse_reason_name(enum refuse_reason r)
{
	static const char *const names[] = { "access", "per_source",
	    "source_rate", "paused", "proxy_from", "proxy_header",
	    "tls_handshake" };

	return r < REFUSE_NREASONS ? names[r] : "?";
}

/* What the log says. */
static const char *
reason_text(enum refuse_reason r)
{
	switch (r) {
	case REFUSE_ACCESS:		return "access denied";
	case REFUSE_PER_SOURCE:		return "per_source limit reached";
	case REFUSE_SOURCE_RATE:	return "source_rate exceeded";
	case REFUSE_PAUSED:		return "service paused after failures";
	case REFUSE_PROXY_FROM:		return "not in proxy_from";
	case REFUSE_PROXY_HEADER:	return "bad PROXY protocol header";
	case REFUSE_TLS_HANDSHAKE:	return "TLS handshake failed";
	default:			return "?";
	}
}

void
refuse(struct refuse_log *rl, const char *service, int fd, const char *msg,
    const struct addr *a, uint16_t port, enum refuse_reason r, int64_t now)
{
	refuse_detail(rl, service, fd, msg, a, port, r, NULL, now);
}

void
refuse_detail(struct refuse_log *rl, const char *service, int fd,
    const char *msg, const struct addr *a, uint16_t port, enum refuse_reason r,
    const char *detail, int64_t now)
{
	char ip[LOGADDR_STRLEN];

	/* The master never waits on a client: what does not fit is lost.
	 * A new UDP peer has no connection (fd -1). */
	if (fd != -1) {
		if (msg)
			(void)send(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)shutdown(fd, SHUT_WR);
		close(fd);
	}

	if (now - rl->window[r] < 1000 && rl->logged[r] > 0) {
		rl->suppressed[r]++;
		return;
	}
	unsigned suppressed = rl->suppressed[r];
	logaddr_format(a, ip);
	/* A unix peer (peercred.h) is a uid alone: "uid N". */
	char where[16] = "";
	if (a->family != AF_UNIX)
		snprintf(where, sizeof(where), " port %u", port);
	struct log_kv kv[] = { KV_S("service", service), KV_S("client", ip),
	    KV_I("port", port), KV_S("reason", refuse_reason_name(r)),
	    KV_I("suppressed", suppressed) };
	if (suppressed)
		log_event(LOG_WARNING, "refused", kv, 5, "service \"%s\": refused "
		    "%s%s: %s%s%s (%u more suppressed)", service, ip, where,
		    reason_text(r), detail ? ": " : "", detail ? detail : "",
		    suppressed);
	else
		log_event(LOG_WARNING, "refused", kv, 5, "service \"%s\": refused "
		    "%s%s: %s%s%s", service, ip, where, reason_text(r),
		    detail ? ": " : "", detail ? detail : "");
	rl->window[r] = now;
	rl->logged[r] = 1;
	rl->suppressed[r] = 0;
}

/*
 * Called a second after a suppressed refusal, so a flood that stops still
 * has its size logged.
 */
bool
refuse_flush(struct refuse_log *rl, const char *service)
{
	bool any = false;

	for (int r = 0; r < REFUSE_NREASONS; r++) {
		if (rl->suppressed[r] == 0)
			continue;
		struct log_kv kv[] = { KV_S("service", service),
		    KV_S("reason", refuse_reason_name(r)),
		    KV_I("suppressed", rl->suppressed[r]) };
		log_event(LOG_WARNING, "refused_suppressed", kv, 3,
		    "service \"%s\": %u more refusals (%s) suppressed",
		    service, rl->suppressed[r], reason_text(r));
		rl->suppressed[r] = 0;
		rl->logged[r] = 0;
		any = true;
	}
	return any;
}
