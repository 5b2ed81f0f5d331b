/*
 * The keys of a UNIX-domain service (protocol = "unix"): the socket's
 * path or abstract name, the owner, group and mode of its file, and the
 * peer user and group lists. Resolves names to ids at load time. Also
 * refuses those keys on other services and the IP-only keys on these.
 * Never binds anything (unixsock.c does).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cfgload.h"
#include "usersdb.h"

/* The room in sun_path, less the terminating NUL (or the leading one). */
#define UNIX_PATH_ROOM (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

static const char *const unix_only[] = { "socket_user", "socket_group",
    "socket_mode", "only_users", "no_users", "only_groups", "no_groups", NULL };
static const char *const ip_only[] = { "only_from", "no_access", "v6only",
    "per_source_prefix6", "source_rate", "udp_loop_guard", NULL };

/* Keys that must not be in grp, each reported once with why. */
static unsigned
refuse_keys(struct loader *ld, const config_setting_t *grp, const char *who,
    const char *const keys[], const char *why)
{
	unsigned errors = 0;
	config_setting_t *s;

	for (size_t i = 0; keys[i]; i++)
		if ((s = config_setting_get_member(grp, keys[i])) != NULL) {
			cfgkeys_error(ld, s, who, "%s: %s", keys[i], why);
			errors++;
		}
	return errors;
}

static unsigned
parse_path(struct loader *ld, const config_setting_t *grp, const char *who,
    struct svc_conf *sc)
{
	config_setting_t *s = config_setting_get_member(grp, "address");
	const char *p, *slash;
	char dir[UNIX_PATH_ROOM + 1];
	struct stat st;
	int err;

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING) {
		cfgkeys_error(ld, s ? s : grp, who, "address: a unix service needs "
		    "one path (\"/run/x.sock\") or abstract name (\"@x\")");
		return 1;
	}
	p = config_setting_get_string(s);
	if ((p[0] != '/' && p[0] != '@') || p[1] == '\0' ||
	    strlen(p) > UNIX_PATH_ROOM) {
		cfgkeys_error(ld, s, who, "address \"%s\": expected an absolute path "
		    "or \"@name\" of at most %zu bytes", p, UNIX_PATH_ROOM);
		return 1;
	}
	if (p[0] == '/') {
		slash = strrchr(p, '/');
		snprintf(dir, sizeof(dir), "%.*s", slash == p ? 1 : (int)(slash - p), p);
		/* st is only read once stat() filled it. */
		err = stat(dir, &st) == -1 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
		if (err) {
			cfgkeys_error(ld, s, who, "address \"%s\": directory %s: %s", p,
			    dir, strerror(err));
			return 1;
		}
	}
	if ((sc->unix_path = strdup(p)) == NULL ||
	    (sc->addrs = calloc(1, sizeof(*sc->addrs))) == NULL)
		return 1;
	sc->addrs[0].family = AF_UNIX;
	sc->naddrs = 1;
	return 0;
}

/* A user or group named or numbered; -1 when it does not exist. */
static long long
lookup_id(const char *s, bool group)
{
	struct usersdb_user u;
	struct usersdb_group g;
	unsigned long v;

	if (group && usersdb_group(s, &g))
		return g.gid;
	if (!group && usersdb_user(s, &u))
		return u.uid;
	/* A number the database does not know names an id all the same. */
	return cfgkeys_id_number(s, &v) ? (long long)v : -1;
}

static unsigned
parse_idlist(struct loader *ld, const config_setting_t *grp, const char *key,
    const char *who, struct idlist *l)
{
	config_setting_t *s = config_setting_get_member(grp, key);
	bool group = strstr(key, "groups") != NULL;
	unsigned errors = 0;
	int n = cfgkeys_one_or_more_len(s);

	if (n < 0)
		return 0;
	l->set = true;
	if (n == 0 || (l->v = calloc(n, sizeof(*l->v))) == NULL)
		return 0;
	for (int i = 0; i < n; i++) {
		const char *name = cfgkeys_one_or_more_elem(s, i);
		long long id = lookup_id(name, group);
		if (id < 0) {
			cfgkeys_error(ld, s, who, "%s: no %s \"%s\"", key,
			    group ? "group" : "user", name);
			errors++;
		} else
			l->v[l->n++] = (unsigned)id;
	}
	return errors;
}

static bool
in_groups(gid_t gid)
{
	gid_t g[256];
	int n = getgroups(256, g);

	for (int i = 0; i < n; i++)
		if (g[i] == gid)
			return true;
	return gid == getegid();
}

/* socket_user, socket_group: only root gives a file away. */
static unsigned
parse_owner(struct loader *ld, const config_setting_t *grp, const char *who,
    struct svc_conf *sc)
{
	const char *u = cfgkeys_string(grp, "socket_user");
	const char *g = cfgkeys_string(grp, "socket_group");
	long long id = 0;

	sc->unix_uid = (uid_t)-1;
	sc->unix_gid = (gid_t)-1;
	if (u && ((id = lookup_id(u, false)) < 0 ||
	    (geteuid() != 0 && (uid_t)id != geteuid()))) {
		cfgkeys_error(ld, config_setting_get_member(grp, "socket_user"), who,
		    id < 0 ? "socket_user: no user \"%s\"" :
		    "socket_user \"%s\": only root can give the socket away", u);
		return 1;
	}
	if (u)
		sc->unix_uid = id;
	if (g && ((id = lookup_id(g, true)) < 0 ||
	    (geteuid() != 0 && !in_groups(id)))) {
		cfgkeys_error(ld, config_setting_get_member(grp, "socket_group"), who,
		    id < 0 ? "socket_group: no group \"%s\"" :
		    "socket_group \"%s\": sockd is not a member", g);
		return 1;
	}
	if (g)
		sc->unix_gid = id;
	return 0;
}

/* The unix keys of a service group, or their absence on other services. */
unsigned
cfgunix_parse(struct loader *ld, const config_setting_t *grp, const char *who,
    struct svc_conf *sc)
{
	unsigned errors;

	if (sc->proto != PROTO_UNIX)
		return refuse_keys(ld, grp, who, unix_only,
		    "only for protocol \"unix\"");
	errors = refuse_keys(ld, grp, who, ip_only, "not for protocol \"unix\"");
	errors += parse_path(ld, grp, who, sc);
	errors += parse_owner(ld, grp, who, sc);
	sc->unix_mode = -1;
	errors += cfgkeys_mode(ld, config_setting_get_member(grp, "socket_mode"),
	    "socket_mode", "0660", who, &sc->unix_mode);
	if (sc->unix_path && sc->unix_path[0] == '@' && (sc->unix_mode != -1 ||
	    sc->unix_uid != (uid_t)-1 || sc->unix_gid != (gid_t)-1)) {
		cfgkeys_error(ld, grp, who, "an abstract socket has no file: "
		    "socket_user, socket_group and socket_mode do not apply");
		errors++;
	}
	errors += parse_idlist(ld, grp, "only_users", who, &sc->only_users);
	errors += parse_idlist(ld, grp, "no_users", who, &sc->no_users);
	errors += parse_idlist(ld, grp, "only_groups", who, &sc->only_groups);
	errors += parse_idlist(ld, grp, "no_groups", who, &sc->no_groups);
	return errors;
}

/* Two enabled unix services on one path or name would steal each other's. */
unsigned
cfgunix_check_unique(struct loader *ld)
{
	struct config *cfg = ld->cfg;
	unsigned errors = 0;

	for (size_t i = 0; i < cfg->nsvcs; i++) {
		struct svc_conf *a = &cfg->svcs[i];
		for (size_t j = 0; j < i && a->unix_path && !a->disabled; j++) {
			struct svc_conf *b = &cfg->svcs[j];
			if (b->unix_path && !b->disabled &&
			    strcmp(a->unix_path, b->unix_path) == 0) {
				cfgerr_add(ld->err, a->file, a->line, "service \"%s\": "
				    "unix %s is already used by service \"%s\" (%s:%d)",
				    a->name ? a->name : "?", a->unix_path,
				    b->name ? b->name : "?", b->file, b->line);
				errors++;
			}
		}
	}
	return errors;
}

void
cfgunix_free(struct svc_conf *sc)
{
	free(sc->unix_path);
	free(sc->only_users.v);
	free(sc->no_users.v);
	free(sc->only_groups.v);
	free(sc->no_groups.v);
}
