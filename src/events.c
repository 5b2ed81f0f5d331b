/*
 * The log events whose keys sockd(8) promises, for a connection taken, a
 * child ended and the counters on SIGUSR1. Formats and logs; changes no
 * state.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "log.h"
#include "sockd.h"

void
events_accepted(const struct service *svc, const struct sockaddr *peer, pid_t pid)
{
	struct addr a;
	uint16_t port = 0;
	char ip[ADDR_STRLEN] = "-";

	if (!log_enabled(LOG_INFO))
		return;
	if (peer && addr_from_sockaddr(peer, &a, &port) == 0)
		addr_format(&a, ip);
	struct log_kv kv[] = { KV_S("service", svc->conf->name), KV_S("client", ip),
	    KV_I("port", port), KV_I("pid", pid) };
	if (peer)
		log_event(LOG_INFO, "accepted", kv, 4,
		    "service \"%s\": accepted %s port %u, pid %ld", svc->conf->name,
		    ip, port, (long)pid);
	else
		log_event(LOG_INFO, "accepted", kv, 4,
		    "service \"%s\": pid %ld took the socket", svc->conf->name,
		    (long)pid);
}

void
events_ended(const struct child *ch, int status, uint64_t ms)
{
	const char *name = ch->svc->conf->name;
	char how[64];
	struct log_kv kv[4] = { KV_S("service", name), KV_I("pid", ch->pid),
	    KV_I("duration_ms", (long long)ms) };

	if (!log_enabled(LOG_INFO))
		return;
	if (WIFSIGNALED(status)) {
		kv[3] = KV_I("signal", WTERMSIG(status));
		snprintf(how, sizeof(how), "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	} else {
		kv[3] = KV_I("status", WEXITSTATUS(status));
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	}
	log_event(LOG_INFO, "ended", kv, 4, "service \"%s\": pid %ld %s after %llu ms",
	    name, (long)ch->pid, how, (unsigned long long)ms);
}

void
events_stats(const struct sockd *sd)
{
	for (size_t i = 0; i < sd->nsvcs; i++) {
		const struct service *svc = sd->svcs[i];
		const struct service_stats *st = &svc->st;
		unsigned long long refused = 0;
		char by[256] = "";

		for (int r = 0; r < REFUSE_NREASONS; r++) {
			refused += st->refused[r];
			/* The PROXY protocol's reasons only where it is used. */
			if (r >= REFUSE_PROXY_FROM && !svc->conf->proxy_protocol)
				continue;
			snprintf(by + strlen(by), sizeof(by) - strlen(by), "%s%s %llu",
			    r ? ", " : "", refuse_reason_name(r), st->refused[r]);
		}
		struct log_kv kv[] = { KV_S("service", svc->conf->name),
		    KV_I("accepted", st->accepted), KV_I("refused", refused),
		    KV_I("refused_access", st->refused[REFUSE_ACCESS]),
		    KV_I("refused_per_source", st->refused[REFUSE_PER_SOURCE]),
		    KV_I("refused_source_rate", st->refused[REFUSE_SOURCE_RATE]),
		    KV_I("refused_paused", st->refused[REFUSE_PAUSED]),
		    KV_I("refused_proxy_from", st->refused[REFUSE_PROXY_FROM]),
		    KV_I("refused_proxy_header", st->refused[REFUSE_PROXY_HEADER]),
		    KV_I("active", svc->nchildren), KV_I("ended_ok", st->ended_ok),
		    KV_I("ended_failed", st->ended_failed),
		    KV_I("ended_signal", st->ended_signal),
		    KV_S("paused", svc->paused || svc->faulted ? "yes" : "no") };
		log_event(LOG_INFO, "stats", kv, sizeof(kv) / sizeof(kv[0]),
		    "service \"%s\": accepted %llu, refused %llu (%s), active %u, "
		    "ended ok %llu, failed %llu, signaled %llu, paused %s",
		    svc->conf->name, st->accepted, refused, by, svc->nchildren,
		    st->ended_ok, st->ended_failed, st->ended_signal,
		    svc->paused || svc->faulted ? "yes" : "no");
	}
}
