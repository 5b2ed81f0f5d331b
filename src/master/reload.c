/*
 * SIGHUP: the new file is checked in a child (cfgcheck.c), then loaded
 * beside the running configuration; its services are paired with the
 * running ones by address, so a kept service keeps its sockets, counts
 * and children, and the switch is all or nothing. Also builds the first
 * set of services at start. Never touches a running child.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jail.h"
#include "log.h"
#include "logaddr.h"
#include "proxywait.h"
#include "sockd.h"
#include "udppeer.h"

/* Drops a service from the daemon; it lives on while children use it. */
void
reload_retire(struct sockd *sd, struct service *svc)
{
	for (size_t i = 0; i < svc->nls; i++)
		loop_remove(&sd->loop, &svc->ls[i].watch);
	loop_timer_stop(&sd->loop, &svc->resume);
	loop_timer_stop(&sd->loop, &svc->fault_timer);
	loop_timer_stop(&sd->loop, &svc->rate_timer);
	if (loop_timer_armed(&svc->refuse_flush)) {
		loop_timer_stop(&sd->loop, &svc->refuse_flush);
		refuse_flush(&svc->refusals, svc->conf->name);
	}
	svc->paused = svc->faulted = svc->rate_wait = false;
	start_retire_errlog(svc);
	/* Its peers' handlers see their stdin end; each holds a reference. */
	udppeer_close_all(svc);
	service_close(svc);
	service_unref(svc);
}

/* Whether every address of a is one of b's. */
static bool
addrs_within(const struct svc_conf *a, const struct svc_conf *b)
{
	for (size_t i = 0; i < a->naddrs; i++) {
		size_t j = 0;
		while (j < b->naddrs && !addr_equal(&a->addrs[i], &b->addrs[j]))
			j++;
		if (j == b->naddrs)
			return false;
	}
	return true;
}

/*
 * Whether a running service configured as old keeps its sockets for sc:
 * same protocol, port and v6only, and the same set of addresses (in any
 * order); for a unix service, the same path or name. Anything else is
 * bound anew.
 */
bool
reload_pairs(const struct svc_conf *old, const struct svc_conf *sc)
{
	if (old->proto == PROTO_UNIX || sc->proto == PROTO_UNIX)
		return old->proto == sc->proto &&
		    strcmp(old->unix_path, sc->unix_path) == 0;
	return old->proto == sc->proto && old->port == sc->port &&
	    old->v6only == sc->v6only && old->naddrs == sc->naddrs &&
	    addrs_within(old, sc) && addrs_within(sc, old);
}

/* The running service that sc keeps, taken out of the list; or NULL. */
static struct service *
take_match(struct sockd *sd, const struct svc_conf *sc)
{
	for (size_t i = 0; i < sd->nsvcs; i++) {
		struct service *svc = sd->svcs[i];
		if (svc != NULL && reload_pairs(svc->conf, sc)) {
			sd->svcs[i] = NULL;
			return svc;
		}
	}
	return NULL;
}

static int
bind_new(struct sockd *sd, const struct svc_conf *sc, struct config *cfg,
    struct service **out)
{
	struct service *svc = service_new(sc, cfg);
	char what[300];

	if (svc == NULL) {
		log_warn("service \"%s\"", sc->name);
		return -1;
	}
	if (service_open(svc, &sd->inherited) == -1) {
		int saved = errno;
		service_describe(svc, what, sizeof(what));
		errno = saved;
		if (sd->inherited.why[0])
			log_warnx("%s: LISTEN_FDS: %s", what, sd->inherited.why);
		else
			log_warn("%s: cannot bind", what);
		service_unref(svc);
		return -1;
	}
	svc->sd = sd;
	gate_attach(svc);
	accept_attach(svc);
	*out = svc;
	return 0;
}

/* Whether sc names the same user as the enabled service of its name in
 * prev, the running configuration (NULL at start). */
static bool
same_user(const struct config *prev, const struct svc_conf *sc)
{
	for (size_t i = 0; prev && i < prev->nsvcs; i++) {
		const struct svc_conf *o = &prev->svcs[i];
		if (!o->disabled && strcmp(o->name, sc->name) == 0)
			return o->set_ids == sc->set_ids &&
			    (!sc->set_ids || o->uid == sc->uid);
	}
	return false;
}

/*
 * With root, say which servers keep it: at start, and on a reload for the
 * services that are new or run as another user than before. (Without
 * root, a service naming anyone else never loads: cfgcontrols.c.)
 */
static bool
runs_as_root(const struct config *prev, const struct svc_conf *sc)
{
	return geteuid() == 0 && sc->server && !sc->disabled &&
	    (!sc->set_ids || sc->uid == 0) && !(sc->jail && sc->jail->own_ids) &&
	    !same_user(prev, sc);
}

/* One line for them all, naming each service (those beyond the line's room
 * by number only). */
static void
warn_root(const struct config *prev, const struct config *cfg)
{
	char list[512] = "";
	size_t n = 0, more = 0, len = 0;

	for (size_t i = 0; i < cfg->nsvcs; i++) {
		const struct svc_conf *sc = &cfg->svcs[i];
		int w;
		if (!runs_as_root(prev, sc))
			continue;
		w = snprintf(list + len, sizeof(list) - len, "%s\"%s\"",
		    n ? ", " : "", sc->name);
		if (w < 0 || (size_t)w >= sizeof(list) - len) {
			list[len] = '\0';
			more++;
			continue;
		}
		len += (size_t)w;
		n++;
	}
	if (n == 1 && more == 0)
		log_warnx("service %s: its server will run as root (name a user "
		    "to run it as another)", list);
	else if (n > 0 && more == 0)
		log_warnx("services %s: their servers will run as root (name a "
		    "user to run them as another)", list);
	else if (n > 0)
		log_warnx("services %s and %zu more: their servers will run as "
		    "root (name a user to run them as another)", list, more);
}

/*
 * A kept socket takes the new options the kernel lets it change; for the
 * others the log says that they wait for a socket bound anew.
 */
static void
reload_sockopts(const struct service *svc, const struct svc_conf *sc)
{
	const struct svc_conf *old = svc->conf;
	const char *which = NULL;

	if (old == NULL || memcmp(&old->so, &sc->so, sizeof(sc->so)) == 0)
		return;
	if (sockopt_needs_rebind(&old->so, &sc->so, &which))
		log_warnx("service \"%s\": the new %s setting needs a socket bound "
		    "anew: restart sockd, or change the service's address or port",
		    sc->name, which);
	for (size_t i = 0; i < svc->nls; i++)
		if (svc->ls[i].fd != -1 && sockopt_live(svc->ls[i].fd, &sc->so,
		    sc->proto == PROTO_TCP, &which) == -1)
			log_warn("service \"%s\": %s on the kept socket", sc->name,
			    which);
}

/*
 * A kept unix service whose socket_user, socket_group or socket_mode
 * changed: set on the socket it bound, if its path still names that.
 * Failing, the file keeps its settings and the service keeps serving.
 */
static void
reload_unixperms(const struct service *svc, const struct svc_conf *sc)
{
	const struct svc_conf *old = svc->conf;

	if (old == NULL || sc->proto != PROTO_UNIX)
		return;
	if (old->unix_mode == sc->unix_mode && old->unix_uid == sc->unix_uid &&
	    old->unix_gid == sc->unix_gid)
		return;
	for (size_t i = 0; i < svc->nls; i++) {
		if (unixsock_perms(sc->unix_path, &svc->ls[i].file, sc->unix_mode,
		    sc->unix_uid, sc->unix_gid) == 0)
			continue;
		if (errno == ESTALE)
			log_warnx("service \"%s\": %s is no longer the socket sockd "
			    "bound (replaced, by a symbolic link say): its owner and "
			    "mode are left alone", sc->name, sc->unix_path);
		else
			log_warn("service \"%s\": owner or mode of %s", sc->name,
			    sc->unix_path);
	}
}

/*
 * An operator's pause (sockctl pause) is of the service by its name: one
 * bound anew (another port, say) takes it from the one it replaces.
 */
static void
hold_renamed(const struct sockd *sd, struct service **nv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sd->nsvcs; j++)
			if (sd->svcs[j] && sd->svcs[j]->held &&
			    strcmp(sd->svcs[j]->conf->name, nv[i]->conf->name) == 0)
				nv[i]->held = true;
}

/*
 * Builds the services of cfg: kept ones (same protocol, addresses and port)
 * move over with their sockets and children, the rest are bound anew. All
 * or nothing: on failure the old list is left as it was and -1 returned.
 */
int
reload_switch(struct sockd *sd, struct config *cfg)
{
	struct service **nv = calloc(cfg->nenabled + 1, sizeof(*nv));
	const struct svc_conf **nc = calloc(cfg->nenabled + 1, sizeof(*nc));
	size_t n = 0;

	if (nv == NULL || nc == NULL) {
		log_warn("reload");
		goto fail;
	}
	warn_root(sd->cfg == cfg ? NULL : sd->cfg, cfg);
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		const struct svc_conf *sc = &cfg->svcs[i];
		if (sc->disabled)
			continue;
		nc[n] = sc;
		if ((nv[n] = take_match(sd, sc)) == NULL &&
		    bind_new(sd, sc, cfg, &nv[n]) == -1)
			goto undo;
		n++;
	}
	if (sd->cfg != cfg)
		events_reload(sd, cfg, nv, nc, n);
	hold_renamed(sd, nv, n);
	/* Committed: kept services take their new settings, the rest go. */
	for (size_t i = 0; i < n; i++) {
		if (nv[i]->conf != nc[i]) {
			reload_sockopts(nv[i], nc[i]);
			reload_unixperms(nv[i], nc[i]);
			if (service_configure(nv[i], nc[i], cfg) == -1)
				log_warn("service \"%s\": keeps its old settings",
				    nc[i]->name);
		}
		/* Its stderr setting may have changed. */
		start_renew_errlog(sd, nv[i]);
	}
	for (size_t i = 0; i < sd->nsvcs; i++)
		if (sd->svcs[i])
			reload_retire(sd, sd->svcs[i]);
	free(sd->svcs);
	free(nc);
	sd->svcs = nv;
	sd->nsvcs = n;
	return 0;
undo:
	for (size_t i = 0; i < n; i++) {
		if (nv[i]->cfg == cfg) {	/* bound for this reload */
			service_unref(nv[i]);
			continue;
		}
		for (size_t j = 0; j < sd->nsvcs; j++)
			if (sd->svcs[j] == NULL) {
				sd->svcs[j] = nv[i];
				break;
			}
	}
fail:
	free(nv);
	free(nc);
	return -1;
}

static void
log_cfgerr(const char *text)
{
	/* Every cfgerr line ends in a newline. */
	for (const char *l = text, *nl; l && (nl = strchr(l, '\n')); l = nl + 1)
		log_warnx("reload: %.*s", (int)(nl - l), l);
}

/*
 * The log as the running configuration sets it (destination, format,
 * level, addresses): at the start and after each reload.
 */
static void
apply_log_config(const struct sockd *sd, const struct config *cfg)
{
	const struct global_conf *g = &cfg->global;
	bool to_syslog = g->log == LOG_DEST_DEFAULT ? !sd->foreground :
	    g->log == LOG_DEST_SYSLOG;

	logaddr_set(g->log_addresses);
	log_configure(to_syslog, g->log_format == LOG_FORMAT_JSON,
	    sd->cli_log_level >= 0 ? sd->cli_log_level :
	    g->log_level >= 0 ? g->log_level : LOG_INFO);
}

void
reload_log_config(const struct sockd *sd)
{
	apply_log_config(sd, sd->cfg);
	for (char **p = sd->cfg->skipped; p && *p; p++)
		log_debug("include_dir: ignoring %s (not named *.conf)", *p);
}

/*
 * The check has answered (or timed out): load in the master only a file
 * the child loaded, then switch all services or none.
 */
/* The verdict a sockctl reload waits for (control.c): what was logged. */
static void
verdict(struct sockd *sd, bool ok)
{
	free(sd->reload_report);
	sd->reload_report = log_capture_end();
	sd->last_reload_ok = ok;
	sd->last_reload_try = time(NULL);
	sd->reloads_done++;
}

static void
reload_finish(struct sockd *sd)
{
	struct cfgerr err = { 0 };
	struct config *cfg = NULL;
	const char *path = sd->cfg->path;
	bool ok = false;

	log_capture_begin();
	loop_remove(&sd->loop, &sd->check_watch);
	loop_timer_stop(&sd->loop, &sd->check_timer);
	if (cfgcheck_finish(&sd->check, path, &err) == 0)
		cfg = config_load_checked(path, &err);
	if (cfg == NULL) {
		log_cfgerr(err.text);
		log_warnx("reload failed; keeping the running configuration");
		sd->reloads_failed++;
	} else if (reload_switch(sd, cfg) == -1) {
		log_warnx("reload abandoned; keeping the running configuration");
		config_unref(cfg);
		sd->reloads_failed++;
	} else {
		if (start_ids(sd, cfg) == -1)
			log_warn("reload: jail_ids: keeping the range of before");
		sd->reloads_ok++;
		sd->last_reload = time(NULL);
		config_unref(sd->cfg);
		sd->cfg = cfg;
		reload_log_config(sd);
		proxywait_resume(sd);	/* the caps may have grown */
		gate_update_all(sd);
		/* Its failure is the reload's too, but nothing is undone. */
		ok = control_configure(sd) == 0;
		log_cfgerr(cfg->warnings.text);
		log_info("reloaded: %zu services", sd->nsvcs);
	}
	verdict(sd, ok);
	cfgerr_free(&err);
	notify_send(&sd->notify, "READY=1");
	if (sd->reload_again) {
		sd->reload_again = false;
		sd->reload = true;
	}
}

static void
on_check(struct watch *w)
{
	struct sockd *sd = w->arg;

	if (cfgcheck_read(&sd->check) == 1)
		reload_finish(sd);
}

static void
on_check_timeout(struct timer *t)
{
	reload_finish(t->arg);
}

/*
 * SIGHUP: the new file is loaded first in a child (cfgcheck.h), while the
 * master goes on serving; a hostile file can only cost that child.
 */
void
reload_start(struct sockd *sd)
{
	sd->reload = false;
	if (cfgcheck_running(&sd->check)) {
		sd->reload_again = true;
		return;
	}
	sd->reloads_begun++;
	notify_send(&sd->notify, "RELOADING=1");
	log_info("SIGHUP: reloading %s", sd->cfg->path);
	if (cfgcheck_start(&sd->check, sd->cfg->path) == -1) {
		log_capture_begin();
		log_warn("reload: cannot check %s", sd->cfg->path);
		log_warnx("reload failed; keeping the running configuration");
		sd->reloads_failed++;
		verdict(sd, false);
		notify_send(&sd->notify, "READY=1");
		return;
	}
	sd->check_watch = (struct watch){ .fd = cfgcheck_fd(&sd->check), .fn = on_check,
	    .arg = sd };
	sd->check_timer = (struct timer){ .fn = on_check_timeout, .arg = sd };
	if (loop_enable(&sd->loop, &sd->check_watch, true) == -1 ||
	    loop_timer_set(&sd->loop, &sd->check_timer, CFGCHECK_TIMEOUT_MS) == -1) {
		log_warn("reload");
		reload_finish(sd);
	}
}

/* On exit during a check: the child is killed and its answer dropped. */
void
reload_cancel(struct sockd *sd)
{
	struct cfgerr err = { 0 };

	if (!cfgcheck_running(&sd->check))
		return;
	loop_remove(&sd->loop, &sd->check_watch);
	loop_timer_stop(&sd->loop, &sd->check_timer);
	cfgcheck_finish(&sd->check, sd->cfg->path, &err);
	cfgerr_free(&err);
}
