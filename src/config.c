#include <errno.h>
#include <grp.h>
#include <libconfig.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <syslog.h>
#include <unistd.h>

#include "builtin.h"
#include "cfgscan.h"
#include "config.h"

enum ktype { K_STRING, K_INT, K_BOOL, K_STRINGS, K_GROUP, K_LIST, K_ONE_OR_MORE };

struct keyspec {
	const char *name;
	enum ktype type;
};

static const struct keyspec top_keys[] = {
	{ "sockd", K_GROUP },
	{ "services", K_LIST },
	{ NULL, 0 }
};

static const struct keyspec global_keys[] = {
	{ "max_children", K_INT },
	{ "pidfile", K_STRING },
	{ "shutdown", K_STRING },
	{ "shutdown_grace", K_INT },
	{ "fail_limit", K_INT },
	{ "include_dir", K_STRING },
	{ "log", K_STRING },
	{ "log_format", K_STRING },
	{ "log_level", K_STRING },
	{ NULL, 0 }
};

/* Files in include_dir may only add services. */
static const struct keyspec include_keys[] = {
	{ "services", K_LIST },
	{ NULL, 0 }
};

/* Per-service keys that the global section may set as defaults. */
static const struct keyspec control_keys[] = {
	{ "address", K_ONE_OR_MORE },
	{ "v6only", K_BOOL },
	{ "instances", K_INT },
	{ "user", K_STRING },
	{ "group", K_STRING },
	{ "per_source", K_INT },
	{ "per_source_prefix6", K_INT },
	{ "rate", K_INT },
	{ "rate_burst", K_INT },
	{ "source_rate", K_INT },
	{ "only_from", K_ONE_OR_MORE },
	{ "no_access", K_ONE_OR_MORE },
	{ "refuse_message", K_STRING },
	{ "env", K_STRINGS },
	{ "passenv", K_STRINGS },
	{ "rlimits", K_GROUP },
	{ "nice", K_INT },
	{ "umask", K_STRING },
	{ "chdir", K_STRING },
	{ "max_lifetime", K_INT },
	{ "idle_timeout", K_INT },
	{ "udp_loop_guard", K_BOOL },
	{ NULL, 0 }
};

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "as", RLIMIT_AS }, { "core", RLIMIT_CORE }, { "cpu", RLIMIT_CPU },
	{ "data", RLIMIT_DATA }, { "fsize", RLIMIT_FSIZE },
	{ "memlock", RLIMIT_MEMLOCK }, { "nofile", RLIMIT_NOFILE },
	{ "nproc", RLIMIT_NPROC },
};

static const struct keyspec service_keys[] = {
	{ "name", K_STRING },
	{ "protocol", K_STRING },
	{ "port", K_INT },
	{ "server", K_STRING },
	{ "builtin", K_STRING },
	{ "args", K_STRINGS },
	{ "wait", K_BOOL },
	{ "backlog", K_INT },
	{ "disabled", K_BOOL },
	{ "stderr", K_STRING },
	{ NULL, 0 }
};

/* State of one config_load() call. */
struct loader {
	struct config *cfg;
	struct cfgerr *err;
	char *dir;		/* absolute directory of the main file */
	struct cfgscan scan;	/* the files libconfig reads, checked first */
	const config_setting_t *global;	/* the "sockd" group, or NULL */
	bool mute_global;	/* its errors were reported once already */
};


const char *
svc_proto_name(enum svc_proto p)
{
	return p == PROTO_TCP ? "tcp" : "udp";
}

static void
cfgerr_vadd(struct cfgerr *e, const char *file, int line, const char *fmt,
    va_list ap)
{
	char msg[1024], *p;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = line > 0 ? snprintf(NULL, 0, "%s:%d: %s\n", file, line, msg)
	    : snprintf(NULL, 0, "%s: %s\n", file, msg);
	if ((p = realloc(e->text, e->len + n + 1)) == NULL)
		return;
	e->text = p;
	if (line > 0)
		snprintf(p + e->len, n + 1, "%s:%d: %s\n", file, line, msg);
	else
		snprintf(p + e->len, n + 1, "%s: %s\n", file, msg);
	e->len += n;
	e->count++;
}

void
cfgerr_add(struct cfgerr *e, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfgerr_vadd(e, file, line, fmt, ap);
	va_end(ap);
}

void
cfgerr_free(struct cfgerr *e)
{
	free(e->text);
	memset(e, 0, sizeof(*e));
}

static const char *
setting_file(struct loader *ld, const config_setting_t *s)
{
	const char *f = cfgscan_name(&ld->scan, config_setting_source_file(s));

	return f ? f : ld->cfg->path;
}

/* An error about setting s, prefixed with who it belongs to. */
static void __attribute__((format(printf, 4, 5)))
error_at(struct loader *ld, const config_setting_t *s, const char *who,
    const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	/* Each service re-reads the defaults; report their errors only once. */
	if (ld->mute_global)
		for (const config_setting_t *p = s; p; p = config_setting_parent(p))
			if (p == ld->global)
				return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfgerr_add(ld->err, setting_file(ld, s), config_setting_source_line(s),
	    "%s%s%s", who ? who : "", who ? ": " : "", msg);
}

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (lb >= sizeof(row) / sizeof(row[0]))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

static const struct keyspec *
key_find(const struct keyspec *spec, const char *name)
{
	for (; spec->name; spec++)
		if (strcmp(spec->name, name) == 0)
			return spec;
	return NULL;
}

/* The closest known key in spec or extra (may be NULL), if any is close. */
static const char *
key_suggest(const struct keyspec *spec, const struct keyspec *extra,
    const char *name)
{
	const char *best = NULL;
	size_t bestd = strlen(name) / 2 + 1;

	for (int pass = 0; pass < 2; pass++, spec = extra)
		for (; spec && spec->name; spec++) {
			size_t d = edit_distance(name, spec->name);
			if (d <= bestd && (best == NULL || d < bestd)) {
				best = spec->name;
				bestd = d;
			}
		}
	return best;
}

static const char *
ktype_name(enum ktype t)
{
	switch (t) {
	case K_STRING:	return "a string";
	case K_INT:	return "an integer";
	case K_BOOL:	return "true or false";
	case K_STRINGS:	return "a list of strings";
	case K_GROUP:	return "a group { ... }";
	case K_LIST:	return "a list ( ... )";
	case K_ONE_OR_MORE: return "a string or a list of strings";
	}
	return "?";
}

static bool
ktype_matches(enum ktype t, const config_setting_t *s)
{
	int type = config_setting_type(s);

	switch (t) {
	case K_STRING:	return type == CONFIG_TYPE_STRING;
	case K_INT:	return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64;
	case K_BOOL:	return type == CONFIG_TYPE_BOOL;
	case K_GROUP:	return type == CONFIG_TYPE_GROUP;
	case K_LIST:	return type == CONFIG_TYPE_LIST;
	case K_ONE_OR_MORE:
		if (type == CONFIG_TYPE_STRING)
			return true;
		/* FALLTHROUGH */
	case K_STRINGS:
		if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY)
			return false;
		for (int i = 0; i < config_setting_length(s); i++)
			if (config_setting_type(config_setting_get_elem(s, i)) !=
			    CONFIG_TYPE_STRING)
				return false;
		return true;
	}
	return false;
}

/* Reports unknown keys and wrong types in a group; returns the error count. */
static unsigned
check_keys(struct loader *ld, const config_setting_t *grp,
    const struct keyspec *spec, const struct keyspec *extra, const char *who)
{
	unsigned errors = 0;

	for (int i = 0; i < config_setting_length(grp); i++) {
		config_setting_t *s = config_setting_get_elem(grp, i);
		const char *name = config_setting_name(s);
		const struct keyspec *k = key_find(spec, name);

		if (k == NULL && extra)
			k = key_find(extra, name);
		if (k == NULL) {
			const char *hint = key_suggest(spec, extra, name);
			if (hint)
				error_at(ld, s, who, "unknown key '%s' (did you mean '%s'?)",
				    name, hint);
			else
				error_at(ld, s, who, "unknown key '%s'", name);
			errors++;
		} else if (!ktype_matches(k->type, s)) {
			error_at(ld, s, who, "%s: expected %s", name, ktype_name(k->type));
			errors++;
		}
	}
	return errors;
}

/*
 * The getters below read keys whose types check_keys() has already
 * verified; a key of the wrong type reads as absent.
 */
static const char *
get_string(const config_setting_t *grp, const char *key)
{
	config_setting_t *s = config_setting_get_member(grp, key);

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
		return NULL;
	return config_setting_get_string(s);
}

static void
get_bool(const config_setting_t *grp, const char *key, bool *out)
{
	config_setting_t *s = config_setting_get_member(grp, key);

	if (s && config_setting_type(s) == CONFIG_TYPE_BOOL)
		*out = config_setting_get_bool(s);
}

/*
 * Integers are read as 64-bit and range-checked here: libconfig 1.5 would
 * silently truncate a 64-bit literal read as int (4294967303 becomes 7).
 * Returns 1 when set and valid, 0 when absent, -1 after reporting an error.
 */
static int
int_value(struct loader *ld, const config_setting_t *s, const char *key,
    long long min, long long max, const char *who, long long *out)
{
	const char *big;
	long long v;

	if (s == NULL || (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64))
		return 0;
	if (cfgscan_bigint(&ld->scan, setting_file(ld, s),
	    config_setting_source_line(s), key, &big)) {
		error_at(ld, s, who, "%s: %s is out of range (from %lld to %lld)",
		    key, big, min, max);
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		error_at(ld, s, who, "%s: %lld is out of range (from %lld to %lld)",
		    key, v, min, max);
		return -1;
	}
	*out = v;
	return 1;
}

/*
 * Reads a string key that must be one of words[]; returns the index,
 * -1 when absent, -2 after reporting an error.
 */
static int
get_enum(struct loader *ld, const config_setting_t *grp, const char *key,
    const char *const words[], const char *who)
{
	const char *v = get_string(grp, key);
	char list[256] = "";

	if (v == NULL)
		return -1;
	for (int i = 0; words[i]; i++) {
		if (strcmp(v, words[i]) == 0)
			return i;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
		    i ? (words[i + 1] ? ", " : " or ") : "", words[i]);
	}
	error_at(ld, config_setting_get_member(grp, key), who,
	    "%s \"%s\": expected %s", key, v, list);
	return -2;
}

static int
get_int(struct loader *ld, const config_setting_t *grp, const char *key,
    long long min, long long max, const char *who, long long *out)
{
	return int_value(ld, config_setting_get_member(grp, key), key, min, max,
	    who, out);
}

static bool
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONFIG_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

static char *
path_join(const char *dir, const char *rel)
{
	char *p;

	if (rel[0] == '/')
		return strdup(rel);
	if (asprintf(&p, "%s/%s", dir, rel) == -1)
		return NULL;
	return p;
}

static char **
strings_dup(const config_setting_t *list)
{
	int n = config_setting_length(list);
	char **v = calloc(n + 1, sizeof(*v));

	if (v == NULL)
		return NULL;
	for (int i = 0; i < n; i++)
		if ((v[i] = strdup(config_setting_get_string_elem(list, i))) == NULL)
			return v;	/* freed by the caller with the service */
	return v;
}

static void
strings_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static void
svc_free(struct svc_conf *sc)
{
	free(sc->name);
	free(sc->file);
	free(sc->server);
	strings_free(sc->argv);
	free(sc->addrs);
	free(sc->user);
	free(sc->groups);
	acl_free(&sc->only_from);
	acl_free(&sc->no_access);
	free(sc->refuse_message);
	strings_free(sc->env);
	free(sc->chdir);
}

static unsigned
parse_server(struct loader *ld, const config_setting_t *grp, const char *who,
    struct svc_conf *sc)
{
	config_setting_t *s = config_setting_get_member(grp, "server");
	config_setting_t *args = config_setting_get_member(grp, "args");
	const char *path = config_setting_get_string(s), *base;
	struct stat st;

	if ((sc->server = path_join(ld->dir, path)) == NULL)
		return 1;
	if (stat(sc->server, &st) == -1) {
		error_at(ld, s, who, "server \"%s\": %s", sc->server, strerror(errno));
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		error_at(ld, s, who, "server \"%s\" is not a regular file", sc->server);
		return 1;
	}
	if (access(sc->server, X_OK) == -1) {
		error_at(ld, s, who, "server \"%s\" is not executable", sc->server);
		return 1;
	}
	if (args && ktype_matches(K_STRINGS, args)) {
		if (config_setting_length(args) == 0) {
			error_at(ld, args, who, "args: must hold at least argv[0]");
			return 1;
		}
		sc->argv = strings_dup(args);
	} else {
		base = strrchr(path, '/');
		sc->argv = calloc(2, sizeof(char *));
		if (sc->argv)
			sc->argv[0] = strdup(base ? base + 1 : path);
	}
	return 0;
}

/* A control key of the service, or else its default from the global section. */
static config_setting_t *
pick(struct loader *ld, const config_setting_t *grp, const char *key)
{
	config_setting_t *s = grp ? config_setting_get_member(grp, key) : NULL;

	if (s == NULL && ld->global)
		s = config_setting_get_member(ld->global, key);
	return s;
}

/* A string or a list of strings, as read by K_ONE_OR_MORE keys. */
static int
one_or_more_len(const config_setting_t *s)
{
	if (s == NULL || !ktype_matches(K_ONE_OR_MORE, s))
		return -1;
	return config_setting_type(s) == CONFIG_TYPE_STRING ? 1 :
	    config_setting_length(s);
}

static const char *
one_or_more_elem(const config_setting_t *s, int i)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING ?
	    config_setting_get_string(s) : config_setting_get_string_elem(s, i);
}

/* The element i of s for error positions (list elements carry their line). */
static const config_setting_t *
elem_at(const config_setting_t *s, int i)
{
	const config_setting_t *e = config_setting_type(s) == CONFIG_TYPE_STRING ?
	    s : config_setting_get_elem(s, i);

	return e && config_setting_source_line(e) > 0 ? e : s;
}

static unsigned
parse_addresses(struct loader *ld, const config_setting_t *s, const char *who,
    struct svc_conf *sc)
{
	int n = one_or_more_len(s);
	unsigned errors = 0;

	if (n == 0) {
		error_at(ld, s, who, "address: the list is empty");
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
		const char *a = one_or_more_elem(s, i);
		if (addr_parse(a, &sc->addrs[sc->naddrs]) == -1) {
			error_at(ld, elem_at(s, i), who,
			    "address \"%s\" is not an IP address literal", a);
			errors++;
		} else
			sc->naddrs++;
	}
	return errors;
}

static unsigned
parse_acl(struct loader *ld, const config_setting_t *s, const char *key,
    const char *who, struct acl *acl)
{
	int n = one_or_more_len(s);
	unsigned errors = 0;

	if (n < 0)
		return 0;
	acl->set = true;
	if (n == 0 || (acl->v = calloc(n, sizeof(*acl->v))) == NULL)
		return 0;
	for (int i = 0; i < n; i++) {
		const char *a = one_or_more_elem(s, i);
		if (acl_parse(a, &acl->v[acl->n]) == -1) {
			error_at(ld, elem_at(s, i), who,
			    "%s: \"%s\" is not an address or a prefix like "
			    "\"10.0.0.0/8\"", key, a);
			errors++;
		} else
			acl->n++;
	}
	return errors;
}

static unsigned
parse_ids(struct loader *ld, const config_setting_t *us,
    const config_setting_t *gs, const char *who, struct svc_conf *sc)
{
	const char *user = us && config_setting_type(us) == CONFIG_TYPE_STRING ?
	    config_setting_get_string(us) : NULL;
	const char *group = gs && config_setting_type(gs) == CONFIG_TYPE_STRING ?
	    config_setting_get_string(gs) : NULL;
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	unsigned errors = 0;

	if (user && (pw = getpwnam(user)) == NULL) {
		error_at(ld, us, who, "user \"%s\" does not exist", user);
		errors++;
	}
	if (group && (gr = getgrnam(group)) == NULL) {
		error_at(ld, gs, who, "group \"%s\" does not exist", group);
		errors++;
	}
	if (errors || (!user && !group))
		return errors;
	if (geteuid() != 0 && ((pw && pw->pw_uid != geteuid()) ||
	    (gr && gr->gr_gid != getegid()) ||
	    (pw && !gr && pw->pw_gid != getegid()))) {
		error_at(ld, us ? us : gs, who, "%s \"%s\": only root can run "
		    "handlers as someone else, and sockd runs as uid %ld",
		    us ? "user" : "group", us ? user : group, (long)geteuid());
		return 1;
	}
	sc->set_ids = true;
	if (pw == NULL) {
		/* A group alone: sockd's own user with that group only. */
		sc->uid = geteuid();
		sc->gid = gr->gr_gid;
		if ((sc->groups = malloc(sizeof(gid_t))) == NULL)
			return 1;
		sc->groups[0] = sc->gid;
		sc->ngroups = 1;
		return 0;
	}
	sc->user = strdup(pw->pw_name);
	sc->uid = pw->pw_uid;
	sc->gid = gr ? gr->gr_gid : pw->pw_gid;
	/* What initgroups() would set, found now: the child cannot look it up. */
	for (int n = 16;;) {
		gid_t *g = realloc(sc->groups, n * sizeof(gid_t));
		if (g == NULL)
			return 1;
		sc->groups = g;
		sc->ngroups = n;
		if (getgrouplist(sc->user, sc->gid, sc->groups, &sc->ngroups) != -1)
			break;
		if (sc->ngroups <= n)
			n *= 2;
		else
			n = sc->ngroups;
	}
	return 0;
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
	int ne = es && ktype_matches(K_STRINGS, es) ? config_setting_length(es) : 0;
	int np = ps && ktype_matches(K_STRINGS, ps) ? config_setting_length(ps) : 0;
	unsigned errors = 0;
	size_t n = 1;
	char *path = NULL;

	if ((sc->env = calloc(ne + np + 2, sizeof(char *))) == NULL)
		return 1;
	for (int i = 0; i < ne; i++) {
		const char *e = config_setting_get_string_elem(es, i);
		const char *eq = strchr(e, '=');
		if (eq == NULL || !valid_env_name(e, eq - e)) {
			error_at(ld, elem_at(es, i), who,
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
			error_at(ld, elem_at(ps, i), who,
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
			error_at(ld, s, who, "rlimits: unknown limit '%s' (known: as, "
			    "core, cpu, data, fsize, memlock, nofile, nproc)", name);
			errors++;
			continue;
		}
		if (config_setting_type(s) == CONFIG_TYPE_STRING &&
		    strcmp(config_setting_get_string(s), "unlimited") == 0)
			v = -1;
		else if (config_setting_type(s) == CONFIG_TYPE_STRING ||
		    int_value(ld, s, name, 0, LLONG_MAX, who, &v) != 1) {
			if (config_setting_type(s) != CONFIG_TYPE_INT &&
			    config_setting_type(s) != CONFIG_TYPE_INT64)
				error_at(ld, s, who, "rlimits: %s: expected an integer "
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
parse_umask(struct loader *ld, const config_setting_t *s, const char *who,
    struct svc_conf *sc)
{
	const char *str;
	char *end;
	long v;

	sc->umask = -1;
	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
		return 0;
	str = config_setting_get_string(s);
	v = strtol(str, &end, 8);
	if (*str == '\0' || *end != '\0' || v < 0 || v > 0777 || strlen(str) > 4) {
		error_at(ld, s, who, "umask: \"%s\" is not an octal mode like \"027\"",
		    str);
		return 1;
	}
	sc->umask = v;
	return 0;
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
		error_at(ld, s, who, "chdir: \"%s\" is not an absolute path", dir);
		return 1;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		error_at(ld, s, who, "chdir: \"%s\": %s", dir,
		    strerror(S_ISDIR(st.st_mode) ? errno : ENOTDIR));
		return 1;
	}
	sc->chdir = strdup(dir);
	return 0;
}

/* The integer controls: key, range, and where the value goes. */
static const struct {
	const char *key;
	long long min, max;
	size_t off;
} int_controls[] = {
	{ "instances", 1, INT_MAX, offsetof(struct svc_conf, instances) },
	{ "per_source", 1, INT_MAX, offsetof(struct svc_conf, per_source) },
	{ "per_source_prefix6", 1, 128,
	    offsetof(struct svc_conf, per_source_prefix6) },
	{ "rate", 1, 1000000, offsetof(struct svc_conf, rate) },
	{ "rate_burst", 1, 1000000, offsetof(struct svc_conf, rate_burst) },
	{ "source_rate", 1, 1000000, offsetof(struct svc_conf, source_rate) },
	{ "max_lifetime", 1, INT_MAX, offsetof(struct svc_conf, max_lifetime) },
	{ "idle_timeout", 1, 86400, offsetof(struct svc_conf, idle_timeout) },
};

/*
 * The keys of control_keys[], from the service group grp or else from the
 * global section; grp NULL reads the global section alone.
 */
static unsigned
parse_controls(struct loader *ld, const config_setting_t *grp, const char *who,
    struct svc_conf *sc)
{
	config_setting_t *s;
	unsigned errors = 0;
	long long v;

	sc->per_source_prefix6 = CONFIG_DEFAULT_PREFIX6;
	sc->udp_loop_guard = true;
	for (size_t i = 0; i < sizeof(int_controls) / sizeof(int_controls[0]); i++)
		switch (int_value(ld, pick(ld, grp, int_controls[i].key),
		    int_controls[i].key, int_controls[i].min, int_controls[i].max,
		    who, &v)) {
		case 1:
			*(unsigned *)((char *)sc + int_controls[i].off) = v;
			break;
		case -1:
			errors++;
		}
	switch (int_value(ld, pick(ld, grp, "nice"), "nice", -20, 19, who, &v)) {
	case 1:
		sc->set_nice = true;
		sc->nice = v;
		break;
	case -1:
		errors++;
	}
	if ((s = pick(ld, grp, "v6only")) && config_setting_type(s) == CONFIG_TYPE_BOOL)
		sc->v6only = config_setting_get_bool(s);
	if ((s = pick(ld, grp, "udp_loop_guard")) &&
	    config_setting_type(s) == CONFIG_TYPE_BOOL)
		sc->udp_loop_guard = config_setting_get_bool(s);
	if ((s = pick(ld, grp, "refuse_message")) &&
	    config_setting_type(s) == CONFIG_TYPE_STRING)
		sc->refuse_message = strdup(config_setting_get_string(s));
	if ((s = pick(ld, grp, "rate_burst")) && !pick(ld, grp, "rate")) {
		error_at(ld, s, who, "rate_burst: set 'rate' too");
		errors++;
	}
	if (sc->rate_burst == 0)
		sc->rate_burst = sc->rate;
	errors += parse_addresses(ld, pick(ld, grp, "address"), who, sc);
	errors += parse_ids(ld, pick(ld, grp, "user"), pick(ld, grp, "group"), who, sc);
	errors += parse_acl(ld, pick(ld, grp, "only_from"), "only_from", who,
	    &sc->only_from);
	errors += parse_acl(ld, pick(ld, grp, "no_access"), "no_access", who,
	    &sc->no_access);
	errors += parse_env(ld, pick(ld, grp, "env"), pick(ld, grp, "passenv"), who, sc);
	errors += parse_rlimits(ld, pick(ld, grp, "rlimits"), who, sc);
	errors += parse_umask(ld, pick(ld, grp, "umask"), who, sc);
	errors += parse_chdir(ld, pick(ld, grp, "chdir"), who, sc);
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
static unsigned
check_exec(struct loader *ld, const config_setting_t *s, const char *who,
    const struct svc_conf *sc)
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
			error_at(ld, s, who, "server \"%s\": user %s cannot %s %s",
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

/* Parses one service group; returns the number of errors reported. */
static unsigned
parse_service(struct loader *ld, const config_setting_t *grp, int index,
    struct svc_conf *sc)
{
	char who[CONFIG_NAME_MAX + 32];
	const char *name, *proto, *server, *builtin;
	config_setting_t *s;
	long long v;
	unsigned errors;
	bool has_wait = false;

	memset(sc, 0, sizeof(*sc));
	sc->file = strdup(setting_file(ld, grp));
	sc->line = config_setting_source_line(grp);

	name = get_string(grp, "name");
	if (name && valid_name(name))
		snprintf(who, sizeof(who), "service \"%s\"", name);
	else
		snprintf(who, sizeof(who), "service #%d", index + 1);

	if (config_setting_type(grp) != CONFIG_TYPE_GROUP) {
		error_at(ld, grp, who, "expected a group { ... }");
		return 1;
	}
	errors = check_keys(ld, grp, service_keys, control_keys, who);

	if ((s = config_setting_get_member(grp, "name")) == NULL) {
		error_at(ld, grp, who, "missing key 'name'");
		errors++;
	} else if (name && !valid_name(name)) {
		error_at(ld, s, who, "name \"%s\": use 1-%d letters, digits, '.', '_' or '-'",
		    name, CONFIG_NAME_MAX);
		errors++;
	} else if (name)
		sc->name = strdup(name);

	proto = get_string(grp, "protocol");
	if ((s = config_setting_get_member(grp, "protocol")) == NULL) {
		error_at(ld, grp, who, "missing key 'protocol'");
		errors++;
	} else if (proto && strcmp(proto, "tcp") == 0)
		sc->proto = PROTO_TCP;
	else if (proto && strcmp(proto, "udp") == 0)
		sc->proto = PROTO_UDP;
	else if (proto) {
		error_at(ld, s, who, "protocol \"%s\": expected \"tcp\" or \"udp\"", proto);
		errors++;
	}

	switch (get_int(ld, grp, "port", 1, 65535, who, &v)) {
	case 1:
		sc->port = v;
		break;
	case 0:
		if (config_setting_get_member(grp, "port") == NULL) {
			error_at(ld, grp, who, "missing key 'port'");
			errors++;
		}
		break;
	default:
		errors++;
	}

	server = get_string(grp, "server");
	builtin = get_string(grp, "builtin");
	if (config_setting_get_member(grp, "server") &&
	    config_setting_get_member(grp, "builtin")) {
		error_at(ld, grp, who, "set either 'server' or 'builtin', not both");
		errors++;
	} else if (!config_setting_get_member(grp, "server") &&
	    !config_setting_get_member(grp, "builtin")) {
		error_at(ld, grp, who, "missing key 'server' or 'builtin'");
		errors++;
	} else if (server)
		errors += parse_server(ld, grp, who, sc);
	else if (builtin) {
		s = config_setting_get_member(grp, "builtin");
		if ((sc->builtin = builtin_find(builtin)) == NULL) {
			error_at(ld, s, who, "unknown builtin \"%s\" (known: %s)",
			    builtin, builtin_list());
			errors++;
		}
		if ((s = config_setting_get_member(grp, "args")) != NULL) {
			error_at(ld, s, who, "args: not allowed with a builtin");
			errors++;
		}
	}

	/* Built-ins always answer per connection or per datagram. */
	sc->wait = sc->proto == PROTO_UDP && !builtin;
	if ((s = config_setting_get_member(grp, "wait")) != NULL &&
	    config_setting_type(s) == CONFIG_TYPE_BOOL) {
		has_wait = true;
		get_bool(grp, "wait", &sc->wait);
	}
	if (has_wait && builtin && sc->wait) {
		error_at(ld, s, who, "wait: built-in services cannot wait");
		errors++;
	}
	if (server && sc->proto == PROTO_UDP && !sc->wait) {
		error_at(ld, s ? s : grp, who,
		    "wait = false: a udp server must be a wait service");
		errors++;
	}

	switch (get_int(ld, grp, "backlog", 1, INT_MAX, who, &v)) {
	case 1:
		sc->backlog = v;
		break;
	case -1:
		errors++;
	}
	get_bool(grp, "disabled", &sc->disabled);

	static const char *const stderr_words[] = { "log", "null", "inherit", NULL };
	int e = get_enum(ld, grp, "stderr", stderr_words, who);
	if (e == -2)
		errors++;
	else if (e >= 0)
		sc->stderr_to = e;
	errors += parse_controls(ld, grp, who, sc);
	if (errors == 0 && sc->server && sc->set_ids)
		errors += check_exec(ld, config_setting_get_member(grp, "server"),
		    who, sc);
	return errors;
}

static unsigned
parse_global(struct loader *ld, const config_setting_t *grp)
{
	struct global_conf *g = &ld->cfg->global;
	unsigned errors = check_keys(ld, grp, global_keys, control_keys, "sockd");
	const char *pidfile;
	long long v;

	switch (get_int(ld, grp, "max_children", 1, INT_MAX, "sockd", &v)) {
	case 1:
		g->max_children = v;
		break;
	case -1:
		errors++;
	}
	if ((pidfile = get_string(grp, "pidfile")) != NULL)
		g->pidfile = path_join(ld->dir, pidfile);
	if ((pidfile = get_string(grp, "include_dir")) != NULL)
		g->include_dir = path_join(ld->dir, pidfile);

	switch (get_int(ld, grp, "shutdown_grace", 0, 86400, "sockd", &v)) {
	case 1:
		g->shutdown_grace = v;
		break;
	case -1:
		errors++;
	}
	switch (get_int(ld, grp, "fail_limit", 1, 1000, "sockd", &v)) {
	case 1:
		g->fail_limit = v;
		break;
	case -1:
		errors++;
	}

	static const char *const shutdown_words[] = { "leave", "terminate", NULL };
	static const char *const log_words[] = { "stderr", "syslog", NULL };
	static const char *const format_words[] = { "text", "json", NULL };
	static const char *const level_words[] = { "error", "warning", "info",
	    "debug", NULL };
	static const int levels[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	int e;

	if ((e = get_enum(ld, grp, "shutdown", shutdown_words, "sockd")) >= 0)
		g->shutdown = e;
	errors += e == -2;
	if ((e = get_enum(ld, grp, "log", log_words, "sockd")) >= 0)
		g->log = e == 0 ? LOG_DEST_STDERR : LOG_DEST_SYSLOG;
	errors += e == -2;
	if ((e = get_enum(ld, grp, "log_format", format_words, "sockd")) >= 0)
		g->log_format = e;
	errors += e == -2;
	if ((e = get_enum(ld, grp, "log_level", level_words, "sockd")) >= 0)
		g->log_level = levels[e];
	errors += e == -2;

	/* The defaults are checked here, once; each service reads them again. */
	struct svc_conf scratch;
	memset(&scratch, 0, sizeof(scratch));
	errors += parse_controls(ld, NULL, "sockd", &scratch);
	svc_free(&scratch);
	ld->mute_global = true;
	return errors;
}

/*
 * Whether two listening addresses on one port collide in bind(): an IPv6
 * wildcard takes IPv4 too unless it is v6only.
 */
static bool
addrs_collide(const struct addr *a, bool a6only, const struct addr *b,
    bool b6only)
{
	if (a->family != b->family && (a->family == AF_INET6 ? a6only : b6only))
		return false;
	return addr_overlap(a, b);
}

/* The first pair of a's and b's addresses that collide, or false. */
static bool
svcs_collide(const struct svc_conf *a, const struct svc_conf *b, size_t *ai)
{
	for (size_t i = 0; i < a->naddrs; i++)
		for (size_t j = 0; j < b->naddrs; j++)
			if ((a != b || j < i) && addrs_collide(&a->addrs[i], a->v6only,
			    &b->addrs[j], b->v6only)) {
				*ai = i;
				return true;
			}
	return false;
}

static void
report_collision(struct loader *ld, const struct svc_conf *a, size_t ai,
    const struct svc_conf *b)
{
	char abuf[ADDR_STRLEN];

	addr_format(&a->addrs[ai], abuf);
	cfgerr_add(ld->err, a->file, a->line,
	    "service \"%s\": %s %s port %u is already used by "
	    "service \"%s\" (%s:%d)", a->name ? a->name : "?",
	    svc_proto_name(a->proto), abuf, a->port,
	    b->name ? b->name : "?", b->file, b->line);
}

/* Names and listening addresses must be unique among services. */
static unsigned
check_unique(struct loader *ld)
{
	struct config *cfg = ld->cfg;
	unsigned errors = 0;

	for (size_t i = 0; i < cfg->nsvcs; i++) {
		struct svc_conf *a = &cfg->svcs[i];
		size_t ai;
		/* Port 0: its port was wrong and reported; it binds nothing. */
		if (!a->disabled && a->port != 0 && svcs_collide(a, a, &ai)) {
			report_collision(ld, a, ai, a);
			errors++;
		}
		for (size_t j = 0; j < i; j++) {
			struct svc_conf *b = &cfg->svcs[j];
			if (a->name && b->name && strcmp(a->name, b->name) == 0) {
				cfgerr_add(ld->err, a->file, a->line,
				    "service \"%s\": duplicate name (first defined at %s:%d)",
				    a->name, b->file, b->line);
				errors++;
			} else if (!a->disabled && !b->disabled && a->port != 0 &&
			    a->proto == b->proto && a->port == b->port &&
			    svcs_collide(a, b, &ai)) {
				report_collision(ld, a, ai, b);
				errors++;
			}
		}
	}
	return errors;
}

static char *
abs_dir(const char *path)
{
	char *copy = strdup(path), *slash, *dir;

	if (copy == NULL)
		return NULL;
	slash = strrchr(copy, '/');
	if (slash == NULL)
		dir = realpath(".", NULL);
	else {
		*(slash == copy ? slash + 1 : slash) = '\0';
		dir = realpath(copy, NULL);
	}
	free(copy);
	return dir;
}

/* Appends the services of one list; returns the errors reported. */
static unsigned
add_services(struct loader *ld, const config_setting_t *list)
{
	struct config *cfg = ld->cfg;
	size_t n = config_setting_length(list), base = cfg->nsvcs;
	struct svc_conf *v;
	unsigned errors = 0;

	if ((v = realloc(cfg->svcs, (base + n + 1) * sizeof(*v))) == NULL)
		return 1;
	cfg->svcs = v;
	for (size_t i = 0; i < n; i++) {
		errors += parse_service(ld, config_setting_get_elem(list, i), i,
		    &cfg->svcs[base + i]);
		cfg->nsvcs++;
		if (!cfg->svcs[base + i].disabled)
			cfg->nenabled++;
	}
	return errors;
}

/*
 * Reads one file into lc: cfgscan checks it and what it includes, and
 * libconfig reads only the checked copies. Undone by close_file().
 */
static unsigned
read_file(struct loader *ld, config_t *lc, const char *path)
{
	const char *copy = cfgscan_file(&ld->scan, path);

	if (copy == NULL)
		return 1;
	config_init(lc);
	config_set_include_dir(lc, CFGSCAN_INCLUDE_DIR);
	if (config_read_file(lc, copy) != CONFIG_TRUE) {
		const char *f = cfgscan_name(&ld->scan, config_error_file(lc));
		cfgerr_add(ld->err, f ? f : path, config_error_line(lc), "%s",
		    config_error_text(lc));
		config_destroy(lc);
		cfgscan_release(&ld->scan);
		return 1;
	}
	return 0;
}

static void
close_file(struct loader *ld, config_t *lc)
{
	config_destroy(lc);
	cfgscan_release(&ld->scan);
}

static unsigned
parse_include(struct loader *ld, const char *path)
{
	config_setting_t *root, *list;
	config_t lc;
	unsigned errors = read_file(ld, &lc, path);

	if (errors > 0)
		return errors;
	root = config_root_setting(&lc);
	errors = check_keys(ld, root, include_keys, NULL, NULL);
	list = config_setting_get_member(root, "services");
	if (list && config_setting_type(list) == CONFIG_TYPE_LIST)
		errors += add_services(ld, list);
	close_file(ld, &lc);
	return errors;
}

/*
 * Hidden files are never read: editors and package managers leave them
 * (Emacs' ".#x.conf" lock is a dangling symlink), and run-parts(8) and
 * systemd's drop-in directories skip them too.
 */
static bool
is_conf_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/*
 * Every *.conf in include_dir, in lexical order; other names are noted
 * for the debug log. A directory or a *.conf that cannot be read is an
 * error: a reload must not silently drop the services it holds.
 */
static unsigned
parse_include_dir(struct loader *ld, const config_setting_t *where)
{
	struct config *cfg = ld->cfg;
	const char *dir = cfg->global.include_dir;
	struct dirent **ents;
	unsigned errors = 0;
	size_t nskipped = 0;
	int n;

	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		cfgerr_add(ld->err, setting_file(ld, where),
		    config_setting_source_line(where), "include_dir \"%s\": %s",
		    dir, strerror(errno));
		return 1;
	}
	cfg->skipped = calloc(n + 1, sizeof(char *));
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *path;

		if (asprintf(&path, "%s/%s", dir, name) == -1) {
			cfgerr_add(ld->err, dir, 0, "%s", strerror(errno));
			errors++;
			path = NULL;
		} else if (is_conf_name(name))
			errors += parse_include(ld, path);
		else if (name[0] != '.' && cfg->skipped) {
			cfg->skipped[nskipped++] = path;
			path = NULL;
		}
		free(path);
		free(ents[i]);
	}
	free(ents);
	return errors;
}

static unsigned
parse_root(struct loader *ld, config_t *lc)
{
	config_setting_t *root = config_root_setting(lc), *list, *g;
	unsigned errors = check_keys(ld, root, top_keys, NULL, NULL);
	struct config *cfg = ld->cfg;

	if ((g = config_setting_get_member(root, "sockd")) != NULL &&
	    config_setting_type(g) == CONFIG_TYPE_GROUP) {
		ld->global = g;
		errors += parse_global(ld, g);
	}

	list = config_setting_get_member(root, "services");
	if (list == NULL && cfg->global.include_dir == NULL) {
		cfgerr_add(ld->err, cfg->path, 1, "missing 'services' list");
		return errors + 1;
	}
	if (list && config_setting_type(list) == CONFIG_TYPE_LIST)
		errors += add_services(ld, list);
	if (cfg->global.include_dir)
		errors += parse_include_dir(ld, config_setting_get_member(g,
		    "include_dir"));
	errors += check_unique(ld);
	if (errors == 0 && cfg->nenabled == 0) {
		cfgerr_add(ld->err, list ? setting_file(ld, list) : cfg->path,
		    list ? config_setting_source_line(list) : 1, "no enabled service");
		errors++;
	}
	return errors;
}

struct config *
config_load(const char *path, struct cfgerr *err)
{
	struct loader ld = { .err = err, .scan = { .err = err } };
	struct config *cfg;
	config_t lc;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (cfg->path = strdup(path)) == NULL) {
		free(cfg);
		cfgerr_add(err, path, 0, "out of memory");
		return NULL;
	}
	cfg->refs = 1;
	cfg->global.max_children = CONFIG_DEFAULT_MAX_CHILDREN;
	cfg->global.shutdown_grace = CONFIG_DEFAULT_SHUTDOWN_GRACE;
	cfg->global.fail_limit = CONFIG_DEFAULT_FAIL_LIMIT;
	cfg->global.log_level = -1;
	ld.cfg = cfg;

	if ((ld.dir = abs_dir(path)) == NULL)
		cfgerr_add(err, path, 0, "cannot resolve its directory: %s",
		    strerror(errno));
	else {
		ld.scan.dir = ld.dir;
		if (read_file(&ld, &lc, path) == 0) {
			parse_root(&ld, &lc);
			close_file(&ld, &lc);
			cfgscan_leftovers(&ld.scan);
		}
	}
	cfgscan_free(&ld.scan);
	free(ld.dir);
	if (err->count > 0) {
		config_unref(cfg);
		return NULL;
	}
	return cfg;
}

struct config *
config_ref(struct config *cfg)
{
	cfg->refs++;
	return cfg;
}

void
config_unref(struct config *cfg)
{
	if (cfg == NULL || --cfg->refs > 0)
		return;
	for (char **p = cfg->skipped; p && *p; p++)
		free(*p);
	free(cfg->skipped);
	free(cfg->global.include_dir);
	for (size_t i = 0; i < cfg->nsvcs; i++)
		svc_free(&cfg->svcs[i]);
	free(cfg->svcs);
	free(cfg->global.pidfile);
	free(cfg->path);
	free(cfg);
}
