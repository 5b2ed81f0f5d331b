/*
 * The "sockd" section: the daemon's own settings (limits, pidfile,
 * shutdown, logging, include_dir) and the defaults of the per-service
 * controls, checked here once. Never reads a service section.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "cfgload.h"
#include "usersdb.h"

/* The words of the enumerated keys; returns the errors reported. */
static unsigned
parse_words(struct loader *ld, const config_setting_t *grp,
    struct global_conf *g)
{
	static const char *const shutdown_words[] = { "leave", "terminate", NULL };
	static const char *const log_words[] = { "stderr", "syslog", NULL };
	static const char *const format_words[] = { "text", "json", NULL };
	static const char *const level_words[] = { "error", "warning", "info",
	    "debug", NULL };
	/* In the order of enum log_addresses. */
	static const char *const addresses_words[] = { "full", "truncated",
	    "none", NULL };
	static const int levels[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	unsigned errors = 0;
	int e;

	if ((e = cfgkeys_enum(ld, grp, "shutdown", shutdown_words, "sockd")) >= 0)
		g->shutdown = e;
	errors += e == -2;
	if ((e = cfgkeys_enum(ld, grp, "log", log_words, "sockd")) >= 0)
		g->log = e == 0 ? LOG_DEST_STDERR : LOG_DEST_SYSLOG;
	errors += e == -2;
	if ((e = cfgkeys_enum(ld, grp, "log_format", format_words, "sockd")) >= 0)
		g->log_format = e;
	errors += e == -2;
	if ((e = cfgkeys_enum(ld, grp, "log_level", level_words, "sockd")) >= 0)
		g->log_level = levels[e];
	errors += e == -2;
	if ((e = cfgkeys_enum(ld, grp, "log_addresses", addresses_words,
	    "sockd")) >= 0)
		g->log_addresses = e;
	errors += e == -2;
	return errors;
}

/* "FIRST-LAST": the ids jailed handlers without a user run as. */
static unsigned
parse_jail_ids(struct loader *ld, const config_setting_t *grp,
    struct global_conf *g)
{
	const config_setting_t *s = config_setting_get_member(grp, "jail_ids");
	unsigned long long first, last;
	int end = 0;

	g->jail_ids_first = CONFIG_DEFAULT_JAIL_IDS_FIRST;
	g->jail_ids_last = CONFIG_DEFAULT_JAIL_IDS_FIRST +
	    CONFIG_DEFAULT_JAIL_IDS_COUNT - 1;
	if (s == NULL)
		return 0;
	if (sscanf(config_setting_get_string(s), "%llu-%llu%n", &first, &last,
	    &end) != 2 || config_setting_get_string(s)[end] != '\0' ||
	    first < 1000 || last < first || last >= 4294967295ULL ||
	    last - first >= 1ULL << 24) {
		cfgkeys_error(ld, s, "sockd", "jail_ids: \"%s\" is not FIRST-LAST "
		    "with 1000 <= FIRST <= LAST < 4294967295 and at most 16777216 ids",
		    config_setting_get_string(s));
		return 1;
	}
	g->jail_ids_first = first;
	g->jail_ids_last = last;
	return 0;
}

/* control_group: a group by name or number; root's group when unset. */
static unsigned
parse_control_group(struct loader *ld, const config_setting_t *grp,
    struct global_conf *g)
{
	const config_setting_t *s = config_setting_get_member(grp, "control_group");
	const char *name = cfgkeys_string(grp, "control_group");
	struct usersdb_group gr;
	unsigned long v;

	g->control_gid = 0;
	if (name == NULL)
		return 0;
	if (usersdb_group(name, &gr))
		g->control_gid = gr.gid;
	else if (cfgkeys_id_number(name, &v) && v < 4294967295UL)
		g->control_gid = (gid_t)v;
	else {
		cfgkeys_error(ld, s, "sockd", "control_group: no group \"%s\"", name);
		return 1;
	}
	return 0;
}

unsigned
cfgglobal_parse(struct loader *ld, const config_setting_t *grp)
{
	struct global_conf *g = &ld->cfg->global;
	unsigned errors = cfgkeys_check(ld, grp, keys_global, keys_controls,
	    "sockd");
	struct svc_conf scratch;

	errors += cfgkeys_uint(ld, grp, "max_children", 1, INT_MAX, "sockd",
	    &g->max_children);
	g->pidfile = cfgkeys_path(ld, grp, "pidfile");
	g->include_dir = cfgkeys_path(ld, grp, "include_dir");
	g->inetd_conf = cfgkeys_path(ld, grp, "inetd_conf");
	errors += cfgkeys_uint(ld, grp, "shutdown_grace", 0, 86400, "sockd",
	    &g->shutdown_grace);
	errors += cfgkeys_uint(ld, grp, "fail_limit", 1, 1000, "sockd",
	    &g->fail_limit);
	errors += parse_words(ld, grp, g);
	errors += parse_jail_ids(ld, grp, g);
	g->control = cfgkeys_path(ld, grp, "control");
	if (g->control && strlen(g->control) >= 108) {
		cfgkeys_error(ld, config_setting_get_member(grp, "control"), "sockd",
		    "control: \"%s\" is longer than a UNIX socket's 107 bytes",
		    g->control);
		errors++;
	}
	errors += parse_control_group(ld, grp, g);

	/* The defaults are checked here, once; each service reads them again. */
	memset(&scratch, 0, sizeof(scratch));
	errors += cfgcontrols_parse(ld, NULL, "sockd", &scratch);
	cfgservice_free(&scratch);
	ld->mute_global = true;
	return errors;
}
