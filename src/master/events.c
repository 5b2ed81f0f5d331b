/*
 * The log events whose keys sockd(8) promises, for a connection taken or
 * answered, a child ended, the counters on SIGUSR1 and a reload's
 * changes. Formats and logs; changes no state. Client addresses go
 * through logaddr.c (log_addresses).
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "confdiff.h"
#include "log.h"
#include "logaddr.h"
#include "peercred.h"
#include "sockd.h"

void
events_accepted(const struct service *svc, const struct conn *c, pid_t pid)
{
	const struct sockaddr *peer = c->peer;
	uint16_t port = c->known ? c->port : 0;
	char ip[LOGADDR_STRLEN] = "-";

	if (!log_enabled(LOG_INFO))
		return;
	if (c->cred) {
		struct addr a = peercred_key(c->cred->uid);
		addr_format(&a, ip);
	} else if (c->known)
		logaddr_format(&c->addr, ip);
	struct log_kv kv[] = { KV_S("service", svc->conf->name), KV_S("client", ip),
	    KV_I("port", port), KV_I("pid", pid) };
	if (c->cred)
		log_event(LOG_INFO, "accepted", kv, 4,
		    "service \"%s\": accepted %s pid %ld, pid %ld", svc->conf->name,
		    ip, (long)c->cred->pid, (long)pid);
	else if (peer)
		log_event(LOG_INFO, "accepted", kv, 4,
		    "service \"%s\": accepted %s port %u, pid %ld", svc->conf->name,
		    ip, port, (long)pid);
	else
		log_event(LOG_INFO, "accepted", kv, 4,
		    "service \"%s\": pid %ld took the socket", svc->conf->name,
		    (long)pid);
}

/*
 * An answer the master gave itself, with no child: a TCP built-in such as
 * daytime or a metrics scrape (level LOG_INFO), or one datagram of a UDP
 * built-in (LOG_DEBUG: one line per datagram only when debugging).
 */
void
events_answered(const struct service *svc, const struct addr *a, uint16_t port,
    int level)
{
	char ip[LOGADDR_STRLEN] = "-";

	if (!log_enabled(level))
		return;
	if (a)
		logaddr_format(a, ip);
	else
		port = 0;
	struct log_kv kv[] = { KV_S("service", svc->conf->name), KV_S("client", ip),
	    KV_I("port", port) };
	log_event(level, "answered", kv, 3, "service \"%s\": answered %s port %u",
	    svc->conf->name, ip, port);
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
			/* The PROXY protocol's and TLS's reasons only where
			 * they are used. */
			if ((r == REFUSE_PROXY_FROM || r == REFUSE_PROXY_HEADER) &&
			    !svc->conf->proxy_protocol)
				continue;
			if (r == REFUSE_TLS_HANDSHAKE && !svc->conf->tls)
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
		    KV_I("refused_tls_handshake", st->refused[REFUSE_TLS_HANDSHAKE]),
		    KV_I("active", svc->nchildren), KV_I("ended_ok", st->ended_ok),
		    KV_I("ended_failed", st->ended_failed),
		    KV_I("ended_signal", st->ended_signal),
		    KV_I("backoff_pauses", st->backoff_pauses),
		    KV_S("paused", svc->paused || svc->faulted ? "yes" : "no") };
		/* Asked for by the operator: whatever log_level says. */
		log_event_always(LOG_INFO, "stats", kv, sizeof(kv) / sizeof(kv[0]),
		    "service \"%s\": accepted %llu, refused %llu (%s), active %u, "
		    "ended ok %llu, failed %llu, signaled %llu, paused %s, "
		    "back-off pauses %llu",
		    svc->conf->name, st->accepted, refused, by, svc->nchildren,
		    st->ended_ok, st->ended_failed, st->ended_signal,
		    svc->paused || svc->faulted ? "yes" : "no", st->backoff_pauses);
	}
}

/* One line of a reload's report: change is "added", "removed" or
 * "changed"; socket "kept", "new" or NULL (a removed service). */
static void
reload_line(const char *name, const char *change, const char *socket,
    const struct confdiff *d)
{
	char keys[512] = "", text[2048] = "";

	if (d) {
		confdiff_keys(d, keys, sizeof(keys));
		confdiff_text(d, text, sizeof(text));
	}
	struct log_kv kv[] = { KV_S("service", name), KV_S("change", change),
	    KV_S("socket", socket ? socket : "closed"), KV_S("keys", keys),
	    KV_S("detail", text) };
	log_event(LOG_INFO, "reload_change", kv, 5,
	    "SIGHUP: service \"%s\" %s%s%s%s; socket %s", name, change,
	    *text ? " (" : "", text, *text ? ")" : "",
	    socket ? socket : "closed");
}

/* The running service named like sc, among those a reload leaves. */
static const struct service *
left_named(const struct sockd *sd, const char *name)
{
	for (size_t i = 0; i < sd->nsvcs; i++)
		if (sd->svcs[i] && strcmp(sd->svcs[i]->conf->name, name) == 0)
			return sd->svcs[i];
	return NULL;
}

static bool
in_new(const struct svc_conf *const *nc, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(nc[i]->name, name) == 0)
			return true;
	return false;
}

/*
 * A reload about to commit: nv[i] runs nc[i], kept (still on its old
 * configuration) or bound for cfg; sd->svcs holds what is left of the old
 * list. One line per service added, removed or changed, or one saying
 * nothing changed.
 */
void
events_reload(const struct sockd *sd, const struct config *cfg,
    struct service *const *nv, const struct svc_conf *const *nc, size_t n)
{
	struct confdiff d;
	const struct service *old;
	unsigned lines = 0;

	if (!log_enabled(LOG_INFO))
		return;
	for (size_t i = 0; i < n; i++) {
		bool kept = nv[i]->cfg != cfg;
		old = kept ? nv[i] : left_named(sd, nc[i]->name);
		if (old == NULL)
			reload_line(nc[i]->name, "added", "new", NULL);
		else if (confdiff_services(old->conf, nc[i], &d) > 0)
			reload_line(nc[i]->name, "changed", kept ? "kept" : "new", &d);
		else
			continue;
		lines++;
	}
	for (size_t i = 0; i < sd->nsvcs; i++) {
		old = sd->svcs[i];
		if (old == NULL || in_new(nc, n, old->conf->name))
			continue;
		reload_line(old->conf->name, "removed", NULL, NULL);
		lines++;
	}
	if (confdiff_global(&sd->cfg->global, &cfg->global, &d) > 0) {
		char keys[128] = "", text[1024] = "";
		confdiff_keys(&d, keys, sizeof(keys));
		confdiff_text(&d, text, sizeof(text));
		struct log_kv kv[] = { KV_S("change", "daemon"), KV_S("keys", keys),
		    KV_S("detail", text) };
		log_event(LOG_INFO, "reload_change", kv, 3,
		    "SIGHUP: section sockd changed (%s)", text);
		lines++;
	}
	if (lines == 0)
		log_event(LOG_INFO, "reload_change", &KV_S("change", "none"), 1,
		    "SIGHUP: no service changed");
}
