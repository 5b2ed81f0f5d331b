/*
 * One service section: its identity (name, protocol, port), its handler
 * (a server with its args, or a built-in) and its mode (wait, backlog,
 * disabled, stderr); the controls are cfgcontrols.c's. Also the rules
 * across services: unique names and listening addresses that do not
 * collide. Never reads the "sockd" section except through the controls.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "cfgload.h"

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

void
cfgservice_free(struct svc_conf *sc)
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
	acl_free(&sc->proxy_from);
	free(sc->refuse_message);
	strings_free(sc->env);
	free(sc->chdir);
	cfgunix_free(sc);
	cfgjail_free(sc->jail);
	cfgtls_free(sc->tls);
}

static unsigned
parse_server(struct loader *ld, const config_setting_t *grp, const char *who,
    struct svc_conf *sc)
{
	config_setting_t *s = config_setting_get_member(grp, "server");
	config_setting_t *args = config_setting_get_member(grp, "args");
	const char *path = config_setting_get_string(s), *base;
	struct stat st;

	if ((sc->server = cfgkeys_path(ld, grp, "server")) == NULL)
		return 1;
	if (stat(sc->server, &st) == -1) {
		cfgkeys_error(ld, s, who, "server \"%s\": %s", sc->server, strerror(errno));
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		cfgkeys_error(ld, s, who, "server \"%s\" is not a regular file", sc->server);
		return 1;
	}
	if (access(sc->server, X_OK) == -1) {
		cfgkeys_error(ld, s, who, "server \"%s\" is not executable", sc->server);
		return 1;
	}
	if (args && cfgkeys_matches(K_STRINGS, args)) {
		if (config_setting_length(args) == 0) {
			cfgkeys_error(ld, args, who, "args: must hold at least argv[0]");
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

/* The name, the protocol and the port. */
static unsigned
parse_identity(struct loader *ld, const config_setting_t *grp,
    const char *who, struct svc_conf *sc)
{
	/* In the order of enum svc_proto. */
	static const char *const protocols[] = { "tcp", "udp", "unix", NULL };
	const char *name = cfgkeys_string(grp, "name");
	unsigned errors = 0, port = 0;
	int e;

	if (cfgkeys_missing(ld, grp, "name", who))
		errors++;
	else if (name && !valid_name(name)) {
		cfgkeys_error(ld, config_setting_get_member(grp, "name"), who,
		    "name \"%s\": use 1-%d letters, digits, '.', '_' or '-'",
		    name, CONFIG_NAME_MAX);
		errors++;
	} else if (name)
		sc->name = strdup(name);

	if (cfgkeys_missing(ld, grp, "protocol", who))
		errors++;
	else if ((e = cfgkeys_enum(ld, grp, "protocol", protocols, who)) >= 0)
		sc->proto = e;
	else
		errors += e == -2;

	if (sc->proto != PROTO_UNIX)
		errors += cfgkeys_uint_needed(ld, grp, "port", 1, 65535, who, &port);
	else if (config_setting_get_member(grp, "port")) {
		cfgkeys_error(ld, config_setting_get_member(grp, "port"), who,
		    "port: a unix service listens on its address alone");
		errors++;
	}
	sc->port = port;
	return errors;
}

/* Either a server, checked on disk, or a built-in. */
static unsigned
parse_handler(struct loader *ld, const config_setting_t *grp,
    const char *who, struct svc_conf *sc)
{
	bool has_server = config_setting_get_member(grp, "server") != NULL;
	bool has_builtin = config_setting_get_member(grp, "builtin") != NULL;
	const char *builtin = cfgkeys_string(grp, "builtin");
	config_setting_t *s;
	unsigned errors = 0;

	if (has_server && has_builtin) {
		cfgkeys_error(ld, grp, who, "set either 'server' or 'builtin', not both");
		return 1;
	}
	if (!has_server && !has_builtin) {
		cfgkeys_error(ld, grp, who, "missing key 'server' or 'builtin'");
		return 1;
	}
	if (cfgkeys_string(grp, "server"))
		return parse_server(ld, grp, who, sc);
	if (builtin == NULL)
		return 0;
	if ((sc->builtin = builtin_find(builtin)) == NULL) {
		cfgkeys_error(ld, config_setting_get_member(grp, "builtin"), who,
		    "unknown builtin \"%s\" (known: %s)", builtin, builtin_list());
		errors++;
	}
	if (sc->builtin && sc->builtin->scrape && sc->proto != PROTO_TCP) {
		cfgkeys_error(ld, config_setting_get_member(grp, "builtin"), who,
		    "builtin \"%s\" answers HTTP: protocol must be \"tcp\"", builtin);
		errors++;
	}
	if ((s = config_setting_get_member(grp, "args")) != NULL) {
		cfgkeys_error(ld, s, who, "args: not allowed with a builtin");
		errors++;
	}
	return errors;
}

/* How the service runs: wait, backlog, disabled, listen_fds and stderr. */
static unsigned
parse_mode(struct loader *ld, const config_setting_t *grp, const char *who,
    struct svc_conf *sc)
{
	static const char *const stderr_words[] = { "log", "null", "inherit", NULL };
	bool server = cfgkeys_string(grp, "server") != NULL;
	bool builtin = cfgkeys_string(grp, "builtin") != NULL;
	config_setting_t *s = config_setting_get_member(grp, "wait");
	unsigned errors = 0, backlog = 0;
	int e;

	/* Built-ins always answer per connection or per datagram. */
	sc->wait = sc->proto == PROTO_UDP && !builtin;
	cfgkeys_bool(grp, "wait", &sc->wait);
	if (builtin && sc->wait) {
		cfgkeys_error(ld, s, who, "wait: built-in services cannot wait");
		errors++;
	}
	/* A udp server that does not wait gets a process per peer. */
	sc->per_peer = server && sc->proto == PROTO_UDP && !sc->wait;
	errors += cfgkeys_uint(ld, grp, "backlog", 1, INT_MAX, who, &backlog);
	sc->backlog = backlog;
	for (const struct keyspec *k = keys_service; k->name; k++)
		if (k->flags & KEY_PLAIN)	/* disabled, listen_fds */
			errors += cfgkeys_plain(ld, grp, k, who, sc);
	if (sc->peer_socket && !sc->per_peer) {
		cfgkeys_error(ld, config_setting_get_member(grp, "peer_socket"), who,
		    "peer_socket: for a UDP server with wait = false (a process "
		    "per peer)");
		errors++;
	}
	if (sc->listen_fds && !server) {
		cfgkeys_error(ld, config_setting_get_member(grp, "listen_fds"), who,
		    "listen_fds: for a server; a built-in has no descriptors to pass");
		errors++;
	}
	if ((e = cfgkeys_enum(ld, grp, "stderr", stderr_words, who)) >= 0)
		sc->stderr_to = e;
	errors += e == -2;
	return errors;
}

/* Parses one service group; returns the number of errors reported. */
unsigned
cfgservice_parse(struct loader *ld, const config_setting_t *grp, int index,
    struct svc_conf *sc)
{
	const char *name = cfgkeys_string(grp, "name");
	char who[CONFIG_NAME_MAX + 32];
	unsigned errors;

	memset(sc, 0, sizeof(*sc));
	sc->file = strdup(cfgkeys_file(ld, grp));
	sc->line = config_setting_source_line(grp);
	if (name && valid_name(name))
		snprintf(who, sizeof(who), "service \"%s\"", name);
	else
		snprintf(who, sizeof(who), "service #%d", index + 1);
	if (config_setting_type(grp) != CONFIG_TYPE_GROUP) {
		cfgkeys_error(ld, grp, who, "expected a group { ... }");
		return 1;
	}
	errors = cfgkeys_check(ld, grp, keys_service, keys_controls, who);
	errors += parse_identity(ld, grp, who, sc);
	errors += parse_handler(ld, grp, who, sc);
	errors += parse_mode(ld, grp, who, sc);
	errors += cfgcontrols_parse(ld, grp, who, sc);
	errors += cfgunix_parse(ld, grp, who, sc);
	if (errors == 0 && sc->server && sc->set_ids)
		errors += cfgcontrols_check_exec(ld,
		    config_setting_get_member(grp, "server"), who, sc);
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

/* A pair of services that may clash: b (or a itself) before a. */
struct clash {
	size_t a, b;
	bool self;
};

static const struct config *sort_cfg;	/* qsort() takes no argument */

static int
by_name(const void *x, const void *y)
{
	const struct svc_conf *a = &sort_cfg->svcs[*(const size_t *)x];
	const struct svc_conf *b = &sort_cfg->svcs[*(const size_t *)y];
	int c = strcmp(a->name ? a->name : "", b->name ? b->name : "");

	return c ? c : (a < b ? -1 : a > b);
}

static bool
by_name_equal(const struct config *cfg, size_t i, size_t j)
{
	const char *a = cfg->svcs[i].name, *b = cfg->svcs[j].name;

	return a && b && strcmp(a, b) == 0;
}

static int
by_port(const void *x, const void *y)
{
	const struct svc_conf *a = &sort_cfg->svcs[*(const size_t *)x];
	const struct svc_conf *b = &sort_cfg->svcs[*(const size_t *)y];

	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return a < b ? -1 : a > b;
}

static int
by_report(const void *x, const void *y)
{
	const struct clash *a = x, *b = y;

	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	if (a->self != b->self)
		return a->self ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

static bool
clash_add(struct clash **v, size_t *n, size_t *cap, struct clash c)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct clash *p = realloc(*v, ncap * sizeof(*p));
		if (p == NULL)
			return false;
		*v = p;
		*cap = ncap;
	}
	(*v)[(*n)++] = c;
	return true;
}

/*
 * The pairs worth comparing: services of one name, and enabled services
 * of one protocol and port. Sorting finds them without comparing every
 * pair, so a file of thousands of services loads in a blink.
 */
static bool
find_clashes(const struct config *cfg, size_t *idx, struct clash **v,
    size_t *n)
{
	size_t cap = 0;

	sort_cfg = cfg;
	for (size_t i = 0; i < cfg->nsvcs; i++)
		idx[i] = i;
	qsort(idx, cfg->nsvcs, sizeof(*idx), by_name);
	for (size_t i = 0; i < cfg->nsvcs; i++)
		for (size_t j = i + 1; j < cfg->nsvcs && by_name_equal(cfg, idx[i], idx[j]); j++)
			if (!clash_add(v, n, &cap, (struct clash){ idx[j], idx[i], false }))
				return false;
	qsort(idx, cfg->nsvcs, sizeof(*idx), by_port);
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		const struct svc_conf *a = &cfg->svcs[idx[i]];
		if (a->disabled || a->port == 0)
			continue;
		if (!clash_add(v, n, &cap, (struct clash){ idx[i], idx[i], true }))
			return false;
		for (size_t j = i + 1; j < cfg->nsvcs; j++) {
			const struct svc_conf *b = &cfg->svcs[idx[j]];
			if (b->proto != a->proto || b->port != a->port)
				break;
			if (!b->disabled && !clash_add(v, n, &cap,
			    (struct clash){ idx[j], idx[i], false }))
				return false;
		}
	}
	return true;
}

/* Names and listening addresses must be unique among services. */
unsigned
cfgservice_check_unique(struct loader *ld)
{
	struct config *cfg = ld->cfg;
	size_t *idx = calloc(cfg->nsvcs + 1, sizeof(*idx)), n = 0;
	struct clash *v = NULL;
	unsigned errors = 0;

	if (idx == NULL || !find_clashes(cfg, idx, &v, &n)) {
		cfgerr_add(ld->err, cfg->path, 0, "out of memory");
		free(idx);
		free(v);
		return 1;
	}
	/* In the order of the file, as a walk over every pair would. */
	if (n > 0)
		qsort(v, n, sizeof(*v), by_report);
	for (size_t k = 0; k < n; k++) {
		struct svc_conf *a = &cfg->svcs[v[k].a], *b = &cfg->svcs[v[k].b];
		bool same = a->name && b->name && strcmp(a->name, b->name) == 0;
		size_t ai;
		if (v[k].self) {
			if (svcs_collide(a, a, &ai)) {
				report_collision(ld, a, ai, a);
				errors++;
			}
		} else if (same && (k == 0 || v[k - 1].a != v[k].a ||
		    v[k - 1].b != v[k].b || v[k - 1].self)) {
			cfgerr_add(ld->err, a->file, a->line,
			    "service \"%s\": duplicate name (first defined at %s:%d)",
			    a->name, b->file, b->line);
			errors++;
		} else if (!same && svcs_collide(a, b, &ai)) {
			report_collision(ld, a, ai, b);
			errors++;
		}
	}
	free(idx);
	free(v);
	return errors;
}

