/*
 * The controls: the per-service keys that the "sockd" section may set as
 * defaults (addresses, access lists, user and group, environment,
 * rlimits, umask, chdir, rates and time limits). Resolves them at load
 * time into the service's plain struct, so a child never looks anything
 * up. Never reads the service's identity or handler keys.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cfgload.h"
#include "usersdb.h"

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "as", RLIMIT_AS }, { "core", RLIMIT_CORE }, { "cpu", RLIMIT_CPU },
	{ "data", RLIMIT_DATA }, { "fsize", RLIMIT_FSIZE },
	{ "memlock", RLIMIT_MEMLOCK }, { "nofile", RLIMIT_NOFILE },
	{ "nproc", RLIMIT_NPROC },
};



static unsigned
parse_addresses(struct loader *ld, const config_setting_t *s, const char *who,
    struct svc_conf *sc)
{
	int n = cfgkeys_one_or_more_len(s);
	unsigned errors = 0;

	if (n == 0) {
		cfgkeys_error(ld, s, who, "address: the list is empty");
		return 1;
	}
	if ((sc->addrs = calloc(n > 0 ? n : 1, sizeof(*sc->addrs))) == NULL)
		return 1;
	if (n < 0) {
		addr_parse("0.0.0.0", &sc->addrs[0]);
		sc->naddrs = 1;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		const char *a = cfgkeys_one_or_more_elem(s, i);
		if (addr_parse(a, &sc->addrs[sc->naddrs]) == -1) {
			cfgkeys_error(ld, cfgkeys_elem_at(s, i), who,
			    "address \"%s\" is not an IP address literal", a);
			errors++;
		} else
			sc->naddrs++;
	}
	return errors;
}

/* What initgroups() would set, found now: the child cannot look it up. */
static int
supplementary(const struct usersdb_user *u, struct svc_conf *sc)
{
	struct usersdb_user as = *u;

	as.gid = sc->gid;
	for (int n = 16;;) {
		gid_t *g = realloc(sc->groups, n * sizeof(gid_t));
		if (g == NULL)
			return -1;
		sc->groups = g;
		sc->ngroups = n;
		if (usersdb_groups(&as, sc->groups, &sc->ngroups) != -1)
			return 0;
		n = sc->ngroups > n ? sc->ngroups : n * 2;
	}
}

static unsigned
parse_ids(struct loader *ld, const config_setting_t *us,
    const config_setting_t *gs, const char *who, struct svc_conf *sc)
{
	const char *user = us && config_setting_type(us) == CONFIG_TYPE_STRING ?
	    config_setting_get_string(us) : NULL;
	const char *group = gs && config_setting_type(gs) == CONFIG_TYPE_STRING ?
	    config_setting_get_string(gs) : NULL;
	struct usersdb_user pw;
	struct usersdb_group gr;
	unsigned errors = 0;

	if (user && !usersdb_user(user, &pw)) {
		cfgkeys_error(ld, us, who, "user \"%s\" does not exist", user);
		errors++;
	}
	if (group && !usersdb_group(group, &gr)) {
		cfgkeys_error(ld, gs, who, "group \"%s\" does not exist", group);
		errors++;
	}
	if (errors || (!user && !group))
		return errors;
	if (geteuid() != 0 && ((user && pw.uid != geteuid()) ||
	    (group && gr.gid != getegid()) ||
	    (user && !group && pw.gid != getegid()))) {
		cfgkeys_error(ld, us ? us : gs, who, "%s \"%s\": only root can run "
		    "handlers as someone else, and sockd runs as uid %ld",
		    us ? "user" : "group", us ? user : group, (long)geteuid());
		return 1;
	}
	sc->set_ids = true;
	if (user == NULL) {
		/* A group alone: sockd's own user with that group only. */
		sc->uid = geteuid();
		sc->gid = gr.gid;
		if ((sc->groups = malloc(sizeof(gid_t))) == NULL)
			return 1;
		sc->groups[0] = sc->gid;
		sc->ngroups = 1;
		return 0;
	}
	sc->user = strdup(pw.name);
	sc->uid = pw.uid;
	sc->gid = group ? gr.gid : pw.gid;
	return sc->user == NULL || supplementary(&pw, sc) == -1;
}

static bool
valid_env_name(const char *s, size_t n)
{
	if (n == 0 || (*s >= '0' && *s <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/*
 * The handler's environment template: PATH first, then env, then the
 * passenv values as sockd sees them now (at load time).
 */
static unsigned
parse_env(struct loader *ld, const config_setting_t *es,
    const config_setting_t *ps, const char *who, struct svc_conf *sc)
{
	int ne = es && cfgkeys_matches(K_STRINGS, es) ? config_setting_length(es) : 0;
	int np = ps && cfgkeys_matches(K_STRINGS, ps) ? config_setting_length(ps) : 0;
	unsigned errors = 0;
	size_t n = 1;
	char *path = NULL;

	if ((sc->env = calloc(ne + np + 2, sizeof(char *))) == NULL)
		return 1;
	for (int i = 0; i < ne; i++) {
		const char *e = config_setting_get_string_elem(es, i);
		const char *eq = strchr(e, '=');
		if (eq == NULL || !valid_env_name(e, eq - e)) {
			cfgkeys_error(ld, cfgkeys_elem_at(es, i), who,
			    "env: \"%s\" is not NAME=value", e);
			errors++;
		} else if (strncmp(e, "PATH=", 5) == 0) {
			free(path);
			path = strdup(e);
		} else
			sc->env[n++] = strdup(e);
	}
	for (int i = 0; i < np; i++) {
		const char *name = config_setting_get_string_elem(ps, i), *v;
		if (!valid_env_name(name, strlen(name))) {
			cfgkeys_error(ld, cfgkeys_elem_at(ps, i), who,
			    "passenv: \"%s\" is not a variable name", name);
			errors++;
		} else if ((v = getenv(name)) == NULL)
			continue;
		else if (strcmp(name, "PATH") == 0) {
			free(path);
			if (asprintf(&path, "PATH=%s", v) == -1)
				path = NULL;
		} else if (asprintf(&sc->env[n], "%s=%s", name, v) != -1)
			n++;
	}
	sc->env[0] = path ? path : strdup("PATH=" CONFIG_DEFAULT_PATH);
	return errors;
}

static unsigned
parse_rlimits(struct loader *ld, const config_setting_t *grp, const char *who,
    struct svc_conf *sc)
{
	unsigned errors = 0;
	long long v;
	int r;

	if (grp == NULL || config_setting_type(grp) != CONFIG_TYPE_GROUP)
		return 0;
	for (int i = 0; i < config_setting_length(grp); i++) {
		config_setting_t *s = config_setting_get_elem(grp, i);
		const char *name = config_setting_name(s);
		size_t k;

		for (k = 0; k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (strcmp(name, rlimit_names[k].name) == 0)
				break;
		if (k == sizeof(rlimit_names) / sizeof(rlimit_names[0])) {
			cfgkeys_error(ld, s, who, "rlimits: unknown limit '%s' (known: as, "
			    "core, cpu, data, fsize, memlock, nofile, nproc)", name);
			errors++;
			continue;
		}
		if (config_setting_type(s) == CONFIG_TYPE_STRING &&
		    strcmp(config_setting_get_string(s), "unlimited") == 0)
			v = -1;
		else if ((r = cfgkeys_int(ld, s, name, 0, LLONG_MAX, who, &v)) != 1) {
			if (r == 0)	/* not an integer */
				cfgkeys_error(ld, s, who, "rlimits: %s: expected an integer "
				    "or \"unlimited\"", name);
			errors++;
			continue;
		}
		sc->rlimits[sc->nrlimits].resource = rlimit_names[k].resource;
		sc->rlimits[sc->nrlimits++].value = v < 0 ? RLIM_INFINITY : (rlim_t)v;
	}
	return errors;
}

static unsigned
parse_chdir(struct loader *ld, const config_setting_t *s, const char *who,
    struct svc_conf *sc)
{
	const char *dir;
	struct stat st;

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
		return 0;
	dir = config_setting_get_string(s);
	if (dir[0] != '/') {
		cfgkeys_error(ld, s, who, "chdir: \"%s\" is not an absolute path", dir);
		return 1;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		cfgkeys_error(ld, s, who, "chdir: \"%s\": %s", dir,
		    strerror(S_ISDIR(st.st_mode) ? errno : ENOTDIR));
		return 1;
	}
	sc->chdir = strdup(dir);
	return 0;
}

/*
 * The keys of keys_controls[], from the service group grp or else from the
 * global section; grp NULL reads the global section alone.
 */
unsigned
cfgcontrols_parse(struct loader *ld, const config_setting_t *grp,
    const char *who, struct svc_conf *sc)
{
	config_setting_t *s;
	const char *str;
	unsigned errors = 0;
	long long v;
	int r;

	sc->per_source_prefix6 = CONFIG_DEFAULT_PREFIX6;
	sc->udp_loop_guard = true;
	for (const struct keyspec *k = keys_controls; k->name; k++)
		if ((k->flags & (KEY_PLAIN | KEY_SOCKOPT)) == KEY_PLAIN)
			errors += cfgkeys_plain(ld, cfgkeys_holder(ld, grp, k->name),
			    k, who, sc);
	/* The one signed control; whether it is set matters too. */
	r = cfgkeys_int(ld, cfgkeys_pick(ld, grp, "nice"), "nice", -20, 19, who, &v);
	if (r == 1) {
		sc->set_nice = true;
		sc->nice = v;
	}
	errors += r == -1;
	if ((str = cfgkeys_string(cfgkeys_holder(ld, grp, "refuse_message"),
	    "refuse_message")) != NULL)
		sc->refuse_message = strdup(str);
	if ((s = cfgkeys_pick(ld, grp, "rate_burst")) && !cfgkeys_pick(ld, grp, "rate")) {
		cfgkeys_error(ld, s, who, "rate_burst: set 'rate' too");
		errors++;
	}
	if (sc->rate_burst == 0)
		sc->rate_burst = sc->rate;
	/* A unix service's address is a path (cfgunix.c). */
	if (sc->proto != PROTO_UNIX)
		errors += parse_addresses(ld, cfgkeys_pick(ld, grp, "address"), who, sc);
	errors += parse_ids(ld, cfgkeys_pick(ld, grp, "user"), cfgkeys_pick(ld, grp, "group"), who, sc);
	errors += cfgkeys_acl(ld, grp, "only_from", who,
	    &sc->only_from);
	errors += cfgkeys_acl(ld, grp, "no_access", who,
	    &sc->no_access);
	errors += parse_env(ld, cfgkeys_pick(ld, grp, "env"), cfgkeys_pick(ld, grp, "passenv"), who, sc);
	errors += parse_rlimits(ld, cfgkeys_pick(ld, grp, "rlimits"), who, sc);
	sc->umask = -1;
	errors += cfgkeys_mode(ld, cfgkeys_pick(ld, grp, "umask"), "umask", "027", who,
	    &sc->umask);
	errors += parse_chdir(ld, cfgkeys_pick(ld, grp, "chdir"), who, sc);
	errors += cfgproxy_parse(ld, grp, who, sc);
	errors += cfgsockopt_parse(ld, grp, who, sc);
	errors += cfgjail_parse(ld, cfgkeys_pick(ld, grp, "jail"),
	    cfgkeys_holder(ld, grp, "jail") == grp, who, sc);
	errors += cfgtls_parse(ld, cfgkeys_pick(ld, grp, "tls"),
	    cfgkeys_holder(ld, grp, "tls") == grp, who, sc);
	return errors;
}

/* Whether the ids of sc may search or execute (mask 1) what st describes. */
static bool
ids_may(const struct svc_conf *sc, const struct stat *st)
{
	if (sc->uid == 0)
		return (st->st_mode & 0111) != 0 || S_ISDIR(st->st_mode);
	if (st->st_uid == sc->uid)
		return st->st_mode & 0100;
	for (int i = 0; i < sc->ngroups; i++)
		if (st->st_gid == sc->groups[i])
			return st->st_mode & 0010;
	if (st->st_gid == sc->gid)
		return st->st_mode & 0010;
	return st->st_mode & 0001;
}

/*
 * Whether the user a server runs as may execute it: root may run what
 * nobody else can, and each connection would then exit 127. The mode bits
 * decide; a file or directory with a POSIX ACL is left to the kernel.
 */
unsigned
cfgcontrols_check_exec(struct loader *ld, const config_setting_t *s,
    const char *who, const struct svc_conf *sc)
{
	char *path = strdup(sc->server), *slash;
	struct stat st;
	unsigned errors = 0;

	if (path == NULL)
		return 1;
	for (slash = path + strlen(path); slash; slash = strrchr(path, '/')) {
		const char *at = slash == path ? "/" : path;
		if (slash != path + strlen(path))
			*slash = '\0';
		if (stat(at, &st) == -1 ||
		    getxattr(at, "system.posix_acl_access", NULL, 0) >= 0)
			break;
		if (!ids_may(sc, &st)) {
			cfgkeys_error(ld, s, who, "server \"%s\": user %s cannot %s %s",
			    sc->server, sc->user ? sc->user : "(group only)",
			    S_ISDIR(st.st_mode) ? "enter" : "execute", at);
			errors++;
			break;
		}
		if (slash == path)
			break;
	}
	free(path);
	return errors;
}
