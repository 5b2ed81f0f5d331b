/*
 * The commands of the control socket (sockctl(8)), run in the master for
 * one client: status and connections read the daemon's state; pause,
 * resume, end, reload, upgrade and log-level change it, only for root
 * and members of control_group, each change logged with the uid that
 * made it. Writes answers into a memory stream; never touches a socket
 * (control.c does), never waits (a reload's and an upgrade's verdicts
 * are control.c's to wait for).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctlreq.h"
#include "log.h"
#include "sockd.h"

/* What the operator sees of a service's state; the first that holds. */
static const char *
state_name(const struct sockd *sd, const struct service *svc)
{
	if (svc->held)
		return "paused";
	if (svc->paused)
		return "backoff";
	if (svc->faulted)
		return "faulted";
	if (svc->busy || service_at_cap(svc) ||
	    sd->children.count >= sd->cfg->global.max_children)
		return "at-cap";
	return "serving";
}

static unsigned long long
refused(const struct service *svc)
{
	unsigned long long n = 0;

	for (int i = 0; i < REFUSE_NREASONS; i++)
		n += svc->st.refused[i];
	return n;
}

static void
status_json(const struct sockd *sd, FILE *f)
{
	time_t now = time(NULL);

	fprintf(f, "{\"pid\":%ld,\"version\":\"%s\",\"started\":%lld,"
	    "\"uptime\":%lld,\"config\":", (long)getpid(), SOCKD_VERSION,
	    (long long)sd->started, (long long)(now - sd->started));
	ctlreq_json_str(f, sd->cfg->path);
	fprintf(f, ",\"last_reload\":%lld,\"last_reload_result\":\"%s\","
	    "\"reloads_ok\":%llu,\"reloads_failed\":%llu,\"services\":[",
	    (long long)(sd->last_reload_try ? sd->last_reload_try : sd->last_reload),
	    sd->last_reload_try ? (sd->last_reload_ok ? "ok" : "failed") :
	    sd->last_reload ? "ok" : "none", sd->reloads_ok, sd->reloads_failed);
	for (size_t i = 0; i < sd->nsvcs; i++) {
		const struct service *svc = sd->svcs[i];
		fprintf(f, "%s{\"service\":", i ? "," : "");
		ctlreq_json_str(f, svc->conf->name);
		fprintf(f, ",\"state\":\"%s\",\"children\":%u,\"connections\":%llu,"
		    "\"refused\":%llu}", state_name(sd, svc), svc->nchildren,
		    svc->st.accepted, refused(svc));
	}
	fprintf(f, "]}\n");
}

static void
status_text(const struct sockd *sd, FILE *f)
{
	time_t now = time(NULL), at = sd->last_reload_try ? sd->last_reload_try :
	    sd->last_reload;
	char when[64] = "";

	if (at)
		strftime(when, sizeof(when), " at %Y-%m-%d %H:%M:%S", localtime(&at));
	fprintf(f, "sockd %s, pid %ld, up %lld s\nconfiguration: %s\n"
	    "last reload: %s%s (%llu ok, %llu failed)\n\n", SOCKD_VERSION,
	    (long)getpid(), (long long)(now - sd->started), sd->cfg->path,
	    !at ? "none" : !sd->last_reload_try || sd->last_reload_ok ? "ok" :
	    "failed", when, sd->reloads_ok, sd->reloads_failed);
	fprintf(f, "%-20s %-8s %8s %11s %8s\n", "SERVICE", "STATE", "CHILDREN",
	    "CONNECTIONS", "REFUSED");
	for (size_t i = 0; i < sd->nsvcs; i++) {
		const struct service *svc = sd->svcs[i];
		fprintf(f, "%-20s %-8s %8u %11llu %8llu\n", svc->conf->name,
		    state_name(sd, svc), svc->nchildren, svc->st.accepted,
		    refused(svc));
	}
}

/* A child's client: "127.0.0.1" and its port, "uid:N", or "-". */
static void
client_of(const struct child *ch, char *ip, size_t len, unsigned *port)
{
	*port = ch->peer_port;
	if (ch->peer.family == AF_UNIX)
		snprintf(ip, len, "uid:%u", (unsigned)ch->peer.u.v4.s_addr);
	else if (ch->peer.family == AF_UNSPEC)
		snprintf(ip, len, "-");
	else {
		char a[ADDR_STRLEN];
		addr_format(&ch->peer, a);
		snprintf(ip, len, "%s", a);
	}
}

/* The uid a child runs as. */
static unsigned
child_uid(const struct child *ch)
{
	const struct svc_conf *sc = ch->svc->conf;

	return ch->own_id ? ch->own_id : sc->set_ids ? sc->uid : geteuid();
}

static void
connection(const struct child *ch, bool json, bool first, FILE *f)
{
	char ip[ADDR_STRLEN + 8];
	unsigned port;
	uint64_t ms = loop_now_ms() - ch->started_ms;

	client_of(ch, ip, sizeof(ip), &port);
	if (!json) {
		fprintf(f, "%-20s %8ld %-39s %5u %9.1f %8u %s\n", ch->svc->conf->name,
		    (long)ch->pid, ip, port, ms / 1000.0, child_uid(ch),
		    ch->svc->conf->jail ? "yes" : "no");
		return;
	}
	fprintf(f, "%s{\"service\":", first ? "" : ",");
	ctlreq_json_str(f, ch->svc->conf->name);
	fprintf(f, ",\"pid\":%ld,", (long)ch->pid);
	if (ch->peer.family == AF_UNIX)
		fprintf(f, "\"remote_uid\":%u,", (unsigned)ch->peer.u.v4.s_addr);
	else if (ch->peer.family != AF_UNSPEC)
		fprintf(f, "\"remote_ip\":\"%s\",\"remote_port\":%u,", ip, port);
	fprintf(f, "\"started\":%lld,\"duration_ms\":%llu,\"uid\":%u,"
	    "\"jailed\":%s}", (long long)(time(NULL) - (time_t)(ms / 1000)),
	    (unsigned long long)ms, child_uid(ch),
	    ch->svc->conf->jail ? "true" : "false");
}

static void
connections(const struct sockd *sd, const struct ctlreq *req, FILE *f)
{
	const struct children *c = &sd->children;
	bool first = true;

	fprintf(f, req->json ? "+OK\n[" : "+OK\n%-20s %8s %-39s %5s %9s %8s %s\n",
	    "SERVICE", "PID", "CLIENT", "PORT", "SECONDS", "UID", "JAILED");
	for (size_t i = 0; i < c->cap; i++) {
		const struct child *ch = c->slots[i];
		if (ch == NULL || (req->arg[0] &&
		    strcmp(ch->svc->conf->name, req->arg) != 0))
			continue;
		connection(ch, req->json, first, f);
		first = false;
	}
	if (req->json)
		fprintf(f, "]\n");
}

static struct service *
named(const struct sockd *sd, const char *name)
{
	for (size_t i = 0; i < sd->nsvcs; i++)
		if (strcmp(sd->svcs[i]->conf->name, name) == 0)
			return sd->svcs[i];
	return NULL;
}

/* Every change, with the uid that made it. */
static void
logged(const struct ucred *cred, const struct ctlreq *req, const char *what)
{
	struct log_kv kv[] = { KV_I("uid", cred->uid),
	    KV_S("command", ctlreq_name(req->cmd)), KV_S("arg", req->arg) };

	log_event(LOG_INFO, "control", kv, 3, "control: uid %u: %s",
	    (unsigned)cred->uid, what);
}

static void
hold(struct sockd *sd, struct service *svc, bool on, const struct ucred *cred,
    const struct ctlreq *req, FILE *f)
{
	char what[128];

	if (svc->held == on) {
		fprintf(f, "+OK\nservice \"%s\" was %s already\n", svc->conf->name,
		    on ? "paused" : "not paused by an operator");
		return;
	}
	svc->held = on;
	gate_update(sd, svc);
	snprintf(what, sizeof(what), "%s service \"%s\"", on ? "paused" :
	    "resumed", svc->conf->name);
	logged(cred, req, what);
	fprintf(f, "+OK\n%s\n", what);
}

/* end PID, or end SERVICE: each of its handlers. */
static void
end(struct sockd *sd, const struct ctlreq *req, const struct ucred *cred, FILE *f)
{
	struct service *svc = named(sd, req->arg);
	char what[160], *e;
	long pid = strtol(req->arg, &e, 10);
	unsigned n = 0;
	struct child *ch;

	if (svc == NULL && (*e || pid <= 0 ||
	    (ch = children_find(&sd->children, (pid_t)pid)) == NULL)) {
		fprintf(f, "-ERR \"%s\" is neither a service nor the pid of a "
		    "handler of sockd's\n", req->arg);
		return;
	}
	if (svc == NULL) {
		start_end(sd, ch);
		snprintf(what, sizeof(what), "ended pid %ld of service \"%s\"", pid,
		    ch->svc->conf->name);
	} else {
		for (size_t i = 0; i < sd->children.cap; i++)
			if ((ch = sd->children.slots[i]) && ch->svc == svc) {
				start_end(sd, ch);
				n++;
			}
		snprintf(what, sizeof(what), "ended the %u handlers of service "
		    "\"%s\"", n, svc->conf->name);
	}
	logged(cred, req, what);
	fprintf(f, "+OK\n%s\n", what);
}

static void
log_level(const struct ctlreq *req, const struct ucred *cred, FILE *f)
{
	static const char *const words[] = { "error", "warning", "info", "debug" };
	static const int levels[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char what[64];

	for (int i = 0; i < 4; i++)
		if (strcmp(req->arg, words[i]) == 0) {
			log_set_level(levels[i]);
			snprintf(what, sizeof(what), "log level %s until the next "
			    "reload", words[i]);
			logged(cred, req, what);
			fprintf(f, "+OK\n%s\n", what);
			return;
		}
	fprintf(f, "-ERR log-level: error, warning, info or debug\n");
}

/* The commands that change something, for those who may. */
static enum ctlcmd_wait
change(struct sockd *sd, const struct ctlreq *req, const struct ucred *cred,
    FILE *f)
{
	struct service *svc = named(sd, req->arg);

	switch (req->cmd) {
	case CTLREQ_PAUSE:
	case CTLREQ_RESUME:
		if (svc == NULL)
			fprintf(f, "-ERR no service \"%s\"\n", req->arg);
		else
			hold(sd, svc, req->cmd == CTLREQ_PAUSE, cred, req, f);
		return CTLCMD_DONE;
	case CTLREQ_END:
		end(sd, req, cred, f);
		return CTLCMD_DONE;
	case CTLREQ_LOG_LEVEL:
		log_level(req, cred, f);
		return CTLCMD_DONE;
	case CTLREQ_RELOAD:
		logged(cred, req, "reload");
		sd->reload = true;
		return CTLCMD_WAIT_RELOAD;
	default:
		logged(cred, req, "upgrade");
		sd->upgrade = true;
		return CTLCMD_WAIT_UPGRADE;
	}
}

enum ctlcmd_wait
ctlcmd_run(struct sockd *sd, const struct ctlreq *req, const struct ucred *cred,
    bool may_change, FILE *f)
{
	if (ctlreq_changes(req->cmd) && !may_change) {
		fprintf(f, "-ERR permission denied: uid %u may only ask (status, "
		    "connections); changes are for root and the members of "
		    "group %u (control_group)\n", (unsigned)cred->uid,
		    (unsigned)sd->cfg->global.control_gid);
		return CTLCMD_DONE;
	}
	switch (req->cmd) {
	case CTLREQ_STATUS:
		fprintf(f, "+OK\n");
		if (req->json)
			status_json(sd, f);
		else
			status_text(sd, f);
		return CTLCMD_DONE;
	case CTLREQ_CONNECTIONS:
		if (req->arg[0] && named(sd, req->arg) == NULL)
			fprintf(f, "-ERR no service \"%s\"\n", req->arg);
		else
			connections(sd, req, f);
		return CTLCMD_DONE;
	default:
		return change(sd, req, cred, f);
	}
}

void
ctlcmd_reload_answer(const struct sockd *sd, bool json, FILE *f)
{
	const char *r = sd->reload_report ? sd->reload_report : "";

	if (sd->last_reload_ok)
		fprintf(f, "+OK\n");
	else
		fprintf(f, "-ERR reload failed; sockd keeps the running "
		    "configuration\n");
	if (!json) {
		fputs(r, f);
		return;
	}
	fprintf(f, "{\"result\":\"%s\",\"log\":[", sd->last_reload_ok ? "ok" :
	    "failed");
	for (const char *l = r, *nl; (nl = strchr(l, '\n')) != NULL; l = nl + 1) {
		char *line = strndup(l, nl - l);
		fprintf(f, "%s", l == r ? "" : ",");
		ctlreq_json_str(f, line);
		free(line);
	}
	fprintf(f, "]}\n");
}
