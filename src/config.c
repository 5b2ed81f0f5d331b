#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "config.h"

/* libconfig's own include nesting limit; deeper is surely a loop. */
#define INCLUDE_DEPTH_MAX 10

enum ktype { K_STRING, K_INT, K_BOOL, K_STRINGS, K_GROUP, K_LIST };

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
	{ NULL, 0 }
};

static const struct keyspec service_keys[] = {
	{ "name", K_STRING },
	{ "protocol", K_STRING },
	{ "port", K_INT },
	{ "address", K_STRING },
	{ "server", K_STRING },
	{ "builtin", K_STRING },
	{ "args", K_STRINGS },
	{ "wait", K_BOOL },
	{ "instances", K_INT },
	{ "backlog", K_INT },
	{ "disabled", K_BOOL },
	{ NULL, 0 }
};

/* State of one config_load() call. */
struct loader {
	struct config *cfg;
	struct cfgerr *err;
	char *dir;		/* absolute directory of the main file */
	struct bigint *bigints;	/* integer literals libconfig would truncate */
	size_t nbigints;
};

static unsigned scan_file(struct loader *, const char *, int);
static bool bigint_check(struct loader *, const config_setting_t *, const char *,
    const char *, long long, long long);

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

static void __attribute__((format(printf, 4, 5)))
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
	const char *f = config_setting_source_file(s);

	return f ? f : ld->cfg->path;
}

/* An error about setting s, prefixed with who it belongs to. */
static void __attribute__((format(printf, 4, 5)))
error_at(struct loader *ld, const config_setting_t *s, const char *who,
    const char *fmt, ...)
{
	char msg[900];
	va_list ap;

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

static const char *
key_suggest(const struct keyspec *spec, const char *name)
{
	const char *best = NULL;
	size_t bestd = strlen(name) / 2 + 1;

	for (; spec->name; spec++) {
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
    const struct keyspec *spec, const char *who)
{
	unsigned errors = 0;

	for (int i = 0; i < config_setting_length(grp); i++) {
		config_setting_t *s = config_setting_get_elem(grp, i);
		const char *name = config_setting_name(s);
		const struct keyspec *k = key_find(spec, name);

		if (k == NULL) {
			const char *hint = key_suggest(spec, name);
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
get_int(struct loader *ld, const config_setting_t *grp, const char *key,
    long long min, long long max, const char *who, long long *out)
{
	config_setting_t *s = config_setting_get_member(grp, key);
	long long v;

	if (s == NULL || (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64))
		return 0;
	if (bigint_check(ld, s, key, who, min, max))
		return -1;
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		error_at(ld, s, who, "%s: %lld is out of range (%lld-%lld)", key,
		    v, min, max);
		return -1;
	}
	*out = v;
	return 1;
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
	if (args && config_setting_type(args) != CONFIG_TYPE_GROUP &&
	    ktype_matches(K_STRINGS, args)) {
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

/* Parses one service group; returns the number of errors reported. */
static unsigned
parse_service(struct loader *ld, const config_setting_t *grp, int index,
    struct svc_conf *sc)
{
	char who[CONFIG_NAME_MAX + 32];
	const char *name, *proto, *address, *server, *builtin;
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
	errors = check_keys(ld, grp, service_keys, who);

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

	address = get_string(grp, "address");
	if (address == NULL)
		addr_parse("0.0.0.0", &sc->addr);
	else if (addr_parse(address, &sc->addr) == -1) {
		error_at(ld, config_setting_get_member(grp, "address"), who,
		    "address \"%s\" is not an IP address literal", address);
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

	switch (get_int(ld, grp, "instances", 1, INT_MAX, who, &v)) {
	case 1:
		sc->instances = v;
		break;
	case -1:
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
	return errors;
}

static unsigned
parse_global(struct loader *ld, const config_setting_t *grp)
{
	struct global_conf *g = &ld->cfg->global;
	unsigned errors = check_keys(ld, grp, global_keys, "sockd");
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
	return errors;
}

/* Names and listening addresses must be unique among services. */
static unsigned
check_unique(struct loader *ld)
{
	struct config *cfg = ld->cfg;
	unsigned errors = 0;

	for (size_t i = 0; i < cfg->nsvcs; i++) {
		struct svc_conf *a = &cfg->svcs[i];
		for (size_t j = 0; j < i; j++) {
			struct svc_conf *b = &cfg->svcs[j];
			if (a->name && b->name && strcmp(a->name, b->name) == 0) {
				cfgerr_add(ld->err, a->file, a->line,
				    "service \"%s\": duplicate name (first defined at %s:%d)",
				    a->name, b->file, b->line);
				errors++;
			} else if (!a->disabled && !b->disabled &&
			    a->proto == b->proto && a->port == b->port &&
			    addr_overlap(&a->addr, &b->addr)) {
				char abuf[ADDR_STRLEN];
				addr_format(&a->addr, abuf);
				cfgerr_add(ld->err, a->file, a->line,
				    "service \"%s\": %s %s port %u is already used by "
				    "service \"%s\" (%s:%d)", a->name ? a->name : "?",
				    svc_proto_name(a->proto), abuf, a->port,
				    b->name ? b->name : "?", b->file, b->line);
				errors++;
			}
		}
	}
	return errors;
}

/*
 * An integer literal that libconfig 1.5 would store truncated: it reads a
 * plain literal with atoi(), so "port = 4294967303" arrives as 7. The text
 * is scanned for such literals first and get_int() reports them against
 * the setting they belong to.
 */
struct bigint {
	char *file;
	int line;
	char key[CONFIG_NAME_MAX + 1];
	char text[32];
	bool reported;
};

static void
bigint_add(struct loader *ld, const char *file, int line, const char *key,
    const char *text, size_t len)
{
	struct bigint *b = realloc(ld->bigints, (ld->nbigints + 1) * sizeof(*b));

	if (b == NULL)
		return;
	ld->bigints = b;
	b = &b[ld->nbigints++];
	memset(b, 0, sizeof(*b));
	b->file = strdup(file);
	b->line = line;
	snprintf(b->key, sizeof(b->key), "%s", key);
	snprintf(b->text, sizeof(b->text), "%.*s%s", (int)(len < 24 ? len : 24),
	    text, len > 24 ? "..." : "");
}

static bool
literal_fits(const char *p, size_t len)
{
	bool l64 = len > 0 && (p[len - 1] == 'L' || p[len - 1] == 'l');
	bool hex;
	char buf[64], *end;

	while (len > 0 && (p[len - 1] == 'L' || p[len - 1] == 'l'))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, p, len);
	buf[len] = '\0';
	hex = strstr(buf, "0x") || strstr(buf, "0X");
	errno = 0;
	if (hex) {
		unsigned long long u = strtoull(buf, &end, 16);
		return *end != '\0' || (errno == 0 && (l64 || u <= 0xffffffffULL));
	}
	long long v = strtoll(buf, &end, 10);
	/* Not wholly digits: a float, which libconfig parses itself. */
	return *end != '\0' || (errno == 0 && (l64 || (v >= INT_MIN && v <= INT_MAX)));
}

/* The @include on this line, if any; returns its errors. */
static unsigned
scan_include(struct loader *ld, const char *file, int lineno, const char *p,
    int depth)
{
	char name[4096], *path;
	const char *end;
	struct stat st;
	unsigned errors = 0;

	p += 8;
	p += strspn(p, " \t");
	if (*p++ != '"' || (end = strchr(p, '"')) == NULL ||
	    (size_t)(end - p) >= sizeof(name))
		return 0;	/* libconfig reports the syntax error */
	memcpy(name, p, end - p);
	name[end - p] = '\0';
	if ((path = path_join(ld->dir, name)) == NULL)
		return 1;
	if (stat(path, &st) == -1) {
		cfgerr_add(ld->err, file, lineno, "@include \"%s\": %s", name,
		    strerror(errno));
		errors++;
	} else if (!S_ISREG(st.st_mode)) {
		cfgerr_add(ld->err, file, lineno,
		    "@include \"%s\": not a regular file", name);
		errors++;
	} else if (depth >= INCLUDE_DEPTH_MAX) {
		cfgerr_add(ld->err, file, lineno, "@include \"%s\": nested too deeply",
		    name);
		errors++;
	} else
		errors += scan_file(ld, path, depth + 1);
	free(path);
	return errors;
}

/*
 * A light lexer over the raw text, run before libconfig sees it: libconfig
 * 1.5 calls exit() when an @include names a directory, and truncates big
 * integer literals. Returns the number of errors reported.
 */
static unsigned
scan_file(struct loader *ld, const char *file, int depth)
{
	char *text = NULL, key[CONFIG_NAME_MAX + 1] = "";
	size_t size = 0;
	FILE *fp = fopen(file, "r");
	unsigned errors = 0;
	int line = 1;
	bool line_start = true;

	if (fp == NULL)
		return 0;	/* libconfig reports unreadable files */
	if (getdelim(&text, &size, '\0', fp) == -1) {
		fclose(fp);
		free(text);
		return 0;
	}
	fclose(fp);
	for (const char *p = text; *p;) {
		if (*p == '\n') {
			line++;
			line_start = true;
			p++;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\r') {
			p++;
			continue;
		}
		if (line_start && strncmp(p, "@include", 8) == 0) {
			errors += scan_include(ld, file, line, p, depth);
			p += strcspn(p, "\n");
			continue;
		}
		line_start = false;
		if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
				line += *p == '\n';
			p += *p ? 2 : 0;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				line += *p == '\n';
				if (*p == '\\' && p[1])
					p++;
			}
			p += *p ? 1 : 0;
		} else if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '*') {
			size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_-*");
			snprintf(key, sizeof(key), "%.*s", (int)n, p);
			p += n;
		} else if ((*p >= '0' && *p <= '9') ||
		    ((*p == '-' || *p == '+') && p[1] >= '0' && p[1] <= '9')) {
			size_t n = 1 + strspn(p + 1, "0123456789abcdefABCDEFxXlL.+-");
			if (!literal_fits(p, n))
				bigint_add(ld, file, line, key, p, n);
			p += n;
		} else
			p++;
	}
	free(text);
	return errors;
}

/* Reports a scanned literal belonging to setting key; true if there was one. */
static bool
bigint_check(struct loader *ld, const config_setting_t *s, const char *key,
    const char *who, long long min, long long max)
{
	const char *file = setting_file(ld, s);
	int line = config_setting_source_line(s);

	for (size_t i = 0; i < ld->nbigints; i++) {
		struct bigint *b = &ld->bigints[i];
		if (b->line == line && strcmp(b->key, key) == 0 &&
		    strcmp(b->file, file) == 0) {
			error_at(ld, s, who, "%s: %s is out of range (%lld-%lld)", key,
			    b->text, min, max);
			b->reported = true;
			return true;
		}
	}
	return false;
}

/* Literals in keys that no getter read (unknown keys, wrong places). */
static unsigned
bigint_leftovers(struct loader *ld)
{
	unsigned errors = 0;

	for (size_t i = 0; i < ld->nbigints; i++) {
		struct bigint *b = &ld->bigints[i];
		if (!b->reported) {
			cfgerr_add(ld->err, b->file, b->line,
			    "%s: %s does not fit in a 32-bit integer", b->key, b->text);
			errors++;
		}
	}
	return errors;
}

static void
bigint_free(struct loader *ld)
{
	for (size_t i = 0; i < ld->nbigints; i++)
		free(ld->bigints[i].file);
	free(ld->bigints);
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

static unsigned
parse_root(struct loader *ld, config_t *lc)
{
	config_setting_t *root = config_root_setting(lc), *list, *g;
	unsigned errors = check_keys(ld, root, top_keys, NULL);
	struct config *cfg = ld->cfg;

	if ((g = config_setting_get_member(root, "sockd")) != NULL &&
	    config_setting_type(g) == CONFIG_TYPE_GROUP)
		errors += parse_global(ld, g);

	list = config_setting_get_member(root, "services");
	if (list == NULL) {
		cfgerr_add(ld->err, cfg->path, 1, "missing 'services' list");
		return errors + 1;
	}
	if (config_setting_type(list) != CONFIG_TYPE_LIST)
		return errors;
	cfg->nsvcs = config_setting_length(list);
	if ((cfg->svcs = calloc(cfg->nsvcs + 1, sizeof(*cfg->svcs))) == NULL) {
		cfg->nsvcs = 0;
		return errors + 1;
	}
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		errors += parse_service(ld, config_setting_get_elem(list, i), i,
		    &cfg->svcs[i]);
		if (!cfg->svcs[i].disabled)
			cfg->nenabled++;
	}
	errors += check_unique(ld);
	if (errors == 0 && cfg->nenabled == 0) {
		cfgerr_add(ld->err, setting_file(ld, list),
		    config_setting_source_line(list), "no enabled service");
		errors++;
	}
	return errors;
}

struct config *
config_load(const char *path, struct cfgerr *err)
{
	struct loader ld = { .err = err };
	struct config *cfg;
	struct stat st;
	config_t lc;
	unsigned errors;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (cfg->path = strdup(path)) == NULL) {
		free(cfg);
		cfgerr_add(err, path, 0, "out of memory");
		return NULL;
	}
	cfg->global.max_children = CONFIG_DEFAULT_MAX_CHILDREN;
	ld.cfg = cfg;

	if (stat(path, &st) == -1 || access(path, R_OK) == -1) {
		cfgerr_add(err, path, 0, "%s", strerror(errno));
		config_free(cfg);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		cfgerr_add(err, path, 0, "not a regular file");
		config_free(cfg);
		return NULL;
	}
	if ((ld.dir = abs_dir(path)) == NULL) {
		cfgerr_add(err, path, 0, "cannot resolve directory: %s", strerror(errno));
		config_free(cfg);
		return NULL;
	}
	if (scan_file(&ld, path, 0) > 0) {
		bigint_free(&ld);
		free(ld.dir);
		config_free(cfg);
		return NULL;
	}

	config_init(&lc);
	config_set_include_dir(&lc, ld.dir);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		const char *f = config_error_file(&lc);
		cfgerr_add(err, f ? f : path, config_error_line(&lc), "%s",
		    config_error_text(&lc));
		errors = 1;
	} else {
		errors = parse_root(&ld, &lc);
		errors += bigint_leftovers(&ld);
	}
	config_destroy(&lc);
	bigint_free(&ld);
	free(ld.dir);
	if (errors > 0 || err->count > 0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nsvcs; i++)
		svc_free(&cfg->svcs[i]);
	free(cfg->svcs);
	free(cfg->global.pidfile);
	free(cfg->path);
	free(cfg);
}
