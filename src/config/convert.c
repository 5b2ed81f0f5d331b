/*
 * The converter: xinetd's attributes and inetd.conf's fields mapped onto
 * sockd.conf keys, one service group each. It writes text only; the
 * result is for the administrator to read, check with sockd -t and keep.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "addr.h"
#include "builtin.h"
#include "convert.h"
#include "inetdconf.h"
#include "xinetd.h"

/* Attributes with no sockd key, and why. */
static const struct {
	const char *key, *why;
} unmapped[] = {
	{ "log_type", "sockd logs to its own log (sockd.conf(5) log)" },
	{ "log_on_success", "sockd logs every connection at debug level" },
	{ "log_on_failure", "sockd logs every refusal with its reason" },
	{ "redirect", "sockd does not forward connections" },
	{ "rlimit_rss", "sockd's rlimits have no rss (Linux ignores it)" },
	{ "rlimit_stack", "sockd's rlimits have no stack" },
	{ "libwrap", "sockd does not read hosts.allow; use only_from" },
	{ "access_times", "sockd has no time-of-day access" },
	{ "deny_time", "sockd has no deny_time" },
	{ "max_load", "sockd does not watch the load average" },
	{ "banner", "sockd has no banners; refuse_message is for refusals" },
	{ "banner_success", "sockd has no banners" },
	{ "banner_fail", "sockd has no banners; see refuse_message" },
	{ "flags", "xinetd's flags have no sockd equivalent" },
	{ "mdns", "sockd does not announce services" },
	{ "groups", "sockd sets the user's groups from the group database" },
	{ "rpc_version", "sockd serves no RPC services" },
	{ "rpc_number", "sockd serves no RPC services" },
	{ NULL, NULL }
};

static void
put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void
put_key(FILE *f, const char *key, const char *v)
{
	fprintf(f, "    %s = ", key);
	put_string(f, v);
	fputs(";\n", f);
}

static void
put_list(FILE *f, const char *key, char *const *v, const char *first)
{
	fprintf(f, "    %s = [ ", key);
	if (first) {
		put_string(f, first);
		if (*v)
			fputs(", ", f);
	}
	for (; *v; v++) {
		put_string(f, *v);
		fputs(v[1] ? ", " : "", f);
	}
	fputs(" ];\n", f);
}

static void
put_comment(FILE *f, const struct xinetd_attr *a, const char *why)
{
	fprintf(f, "    # %s %s=", a->key, a->op == '=' ? "" :
	    a->op == '+' ? "+" : "-");
	for (char **v = a->values; *v; v++)
		fprintf(f, " %s", *v);
	fprintf(f, ": %s\n", why);
}

/* The attribute of s, or of the defaults block d. */
static const struct xinetd_attr *
attr(const struct xinetd_svc *s, const struct xinetd_svc *d, const char *key)
{
	const struct xinetd_attr *a = xinetd_attr(s, key);

	return a ? a : d ? xinetd_attr(d, key) : NULL;
}

static const char *
value(const struct xinetd_svc *s, const struct xinetd_svc *d, const char *key)
{
	const struct xinetd_attr *a = attr(s, d, key);

	return a && a->values[0] ? a->values[0] : NULL;
}

static void
put_name(FILE *f, const char *name)
{
	char buf[CONFIG_NAME_MAX + 1];
	size_t n = 0;

	for (; *name && n < CONFIG_NAME_MAX; name++)
		buf[n++] = isalnum((unsigned char)*name) || strchr("._-", *name) ?
		    *name : '_';
	buf[n] = '\0';
	put_key(f, "name", buf);
}

/* Whether list key of block b names the service s (by name or id). */
static bool
listed(const struct xinetd_svc *b, const char *key, const struct xinetd_svc *s,
    const char *id)
{
	const struct xinetd_attr *a = b ? xinetd_attr(b, key) : NULL;

	for (char **v = a ? a->values : NULL; v && *v; v++)
		if (strcmp(*v, s->name) == 0 || (id && strcmp(*v, id) == 0))
			return true;
	return false;
}

/* disable = yes, or switched off by the defaults' disabled or enabled. */
static bool
is_off(const struct xinetd_svc *s, const struct xinetd_svc *d)
{
	const char *dis = value(s, d, "disable"), *id = value(s, NULL, "id");

	return (dis && strcmp(dis, "yes") == 0) || listed(d, "disabled", s, id) ||
	    (d && xinetd_attr(d, "enabled") && !listed(d, "enabled", s, id));
}

/* name, protocol, port, the handler, wait, disabled; false: not served. */
static bool
put_identity(FILE *f, const struct xinetd_svc *s, const struct xinetd_svc *d)
{
	const char *id = value(s, d, "id"), *type = value(s, d, "type");
	const char *st = value(s, d, "socket_type"), *proto = value(s, d, "protocol");
	const char *port = value(s, d, "port"), *server = value(s, d, "server");
	const struct xinetd_attr *args = attr(s, d, "server_args");
	const char *wait = value(s, d, "wait");
	bool udp = (proto && strcmp(proto, "udp") == 0) ||
	    (!proto && st && strcmp(st, "dgram") == 0);
	bool internal = type && strstr(type, "INTERNAL");
	struct servent *se;

	if ((type && strstr(type, "RPC")) || (st && strcmp(st, "stream") &&
	    strcmp(st, "dgram"))) {
		fprintf(f, "    # not converted: %s\n", type && strstr(type, "RPC") ?
		    "sockd serves no RPC services" :
		    "sockd serves stream and dgram sockets only");
		return false;
	}
	put_name(f, id ? id : s->name);
	put_key(f, "protocol", udp ? "udp" : "tcp");
	if (port)
		fprintf(f, "    port = %d;\n", atoi(port));
	else if ((se = getservbyname(s->name, udp ? "udp" : "tcp")) != NULL)
		fprintf(f, "    port = %u;\n", ntohs(se->s_port));
	else
		fprintf(f, "    # port: \"%s\" is not in /etc/services; set it\n",
		    s->name);
	if (internal)
		put_key(f, "builtin", s->name);
	else if (server) {
		const char *base = strrchr(server, '/');
		put_key(f, "server", server);
		if (args)
			put_list(f, "args", args->values, base ? base + 1 : server);
		if (wait)
			fprintf(f, "    wait = %s;\n", strcmp(wait, "yes") == 0 ?
			    "true" : "false");
	}
	if (is_off(s, d))
		fputs("    disabled = true;\n", f);
	return true;
}

static bool
is_identity(const char *key)
{
	static const char *const keys[] = { "id", "type", "socket_type",
	    "protocol", "port", "server", "server_args", "wait", "disable",
	    "disabled", "enabled", NULL };

	for (int i = 0; keys[i]; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

/* only_from, no_access: addresses and prefixes; names stay comments. */
static void
put_acl(FILE *f, const struct xinetd_attr *a)
{
	char *ok[64];
	size_t n = 0;

	for (char **v = a->values; *v && n < 63; v++) {
		char buf[80];
		struct addr ad;
		snprintf(buf, sizeof(buf), "%s", *v);
		buf[strcspn(buf, "/")] = '\0';
		if (addr_parse(buf, &ad) == 0)
			ok[n++] = *v;
		else
			fprintf(f, "    # %s: \"%s\" dropped: sockd takes addresses "
			    "and prefixes, not names\n", a->key, *v);
	}
	ok[n] = NULL;
	/* xinetd lets no client in with an empty only_from; so does sockd. */
	if (n > 0 || strcmp(a->key, "only_from") == 0)
		put_list(f, a->key, ok, NULL);
}

/* "8M", "512K", "UNLIMITED" or a number, as sockd's rlimits take it. */
static void
put_rlimit(FILE *lim, const char *name, const char *v)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);

	if (strcasecmp(v, "UNLIMITED") == 0) {
		fprintf(lim, " %s = \"unlimited\";", name);
		return;
	}
	if (*end == 'K' || *end == 'k')
		n <<= 10;
	else if (*end == 'M' || *end == 'm')
		n <<= 20;
	fprintf(lim, " %s = %llu;", name, n);
}

/* One attribute that is not the identity; rlimits gather in lim. */
static void
put_control(FILE *f, FILE *lim, const struct xinetd_attr *a)
{
	static const char *const rl[][2] = { { "rlimit_as", "as" },
	    { "rlimit_cpu", "cpu" }, { "rlimit_data", "data" },
	    { "rlimit_files", "nofile" } };
	const char *k = a->key, *v = a->values[0] ? a->values[0] : "";

	for (size_t i = 0; i < sizeof(rl) / sizeof(rl[0]); i++)
		if (strcmp(k, rl[i][0]) == 0) {
			put_rlimit(lim, rl[i][1], v);
			return;
		}
	if (!strcmp(k, "user") || !strcmp(k, "group") || !strcmp(k, "umask"))
		put_key(f, k, v);
	else if (!strcmp(k, "bind") || !strcmp(k, "interface"))
		put_key(f, "address", v);
	else if (!strcmp(k, "only_from") || !strcmp(k, "no_access"))
		put_acl(f, a);
	else if (!strcmp(k, "env") || !strcmp(k, "passenv")) {
		if (a->values[0])
			put_list(f, k, a->values, NULL);
	}
	else if ((!strcmp(k, "instances") || !strcmp(k, "per_source")) &&
	    strcasecmp(v, "UNLIMITED") != 0)
		fprintf(f, "    %s = %d;\n", k, atoi(v));
	else if (!strcmp(k, "instances") || !strcmp(k, "per_source"))
		return;
	else if (!strcmp(k, "nice"))
		fprintf(f, "    nice = %d;\n", atoi(v));
	else if (!strcmp(k, "cps")) {
		fprintf(f, "    rate = %d;\n", atoi(v) > 0 ? atoi(v) : 1);
		if (a->values[0] && a->values[1])
			put_comment(f, a, "past the rate sockd makes clients wait "
			    "in the listen queue instead of pausing the service");
	} else {
		size_t i;
		for (i = 0; unmapped[i].key && strcmp(unmapped[i].key, k); i++)
			;
		put_comment(f, a, unmapped[i].key ? unmapped[i].why :
		    "no sockd equivalent");
	}
}

/* The attributes whose values are a set, which += and -= change. */
static bool
is_list(const char *key)
{
	static const char *const keys[] = { "only_from", "no_access", "env",
	    "passenv", "log_on_success", "log_on_failure", "groups", NULL };

	for (int i = 0; keys[i]; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

/*
 * Block b's attributes key, in their order, applied to the set v of n
 * values (room for max): "=" replaces it, "+=" adds, "-=" removes.
 */
static size_t
fold(const struct xinetd_svc *b, const char *key, char **v, size_t n,
    size_t max)
{
	for (size_t i = 0; b && i < b->nattrs; i++) {
		const struct xinetd_attr *a = &b->attrs[i];
		if (strcmp(a->key, key) != 0)
			continue;
		if (a->op == '=')
			n = 0;
		for (char **w = a->values; *w; w++) {
			size_t k = 0;
			while (k < n && strcmp(v[k], *w) != 0)
				k++;
			if (a->op == '-' && k < n)
				memmove(&v[k], &v[k + 1], (--n - k) * sizeof(*v));
			else if (a->op != '-' && k == n && n < max)
				v[n++] = *w;
		}
	}
	return n;
}

/*
 * The list a names as the service sees it: the defaults' (d), then the
 * service's own (s, NULL for the defaults alone) changing it, written as
 * one attribute.
 */
static void
put_merged(FILE *f, FILE *lim, const struct xinetd_attr *a,
    const struct xinetd_svc *d, const struct xinetd_svc *s)
{
	char *v[129];
	struct xinetd_attr m = *a;
	size_t n = fold(d, a->key, v, 0, 128);

	v[fold(s, a->key, v, n, 128)] = NULL;
	m.op = '=';
	m.values = v;
	put_control(f, lim, &m);
}

/* interface is xinetd's other name for bind: both are sockd's address. */
static bool
same_key(const char *a, const char *b)
{
	if (strcmp(a, "interface") == 0)
		a = "bind";
	if (strcmp(b, "interface") == 0)
		b = "bind";
	return strcmp(a, b) == 0;
}

/* The attribute key of b that decides: the last one, or for a value
 * that is not a list the last one set with "=". */
static const struct xinetd_attr *
deciding(const struct xinetd_svc *b, const char *key)
{
	const struct xinetd_attr *found = NULL;

	for (size_t i = 0; b && i < b->nattrs; i++)
		if (same_key(b->attrs[i].key, key) &&
		    (b->attrs[i].op == '=' || is_list(key)))
			found = &b->attrs[i];
	return found;
}

/*
 * The controls of block b (the defaults d, or the service s) that the
 * service does not set itself; a list once, as += and -= leave it. +=
 * and -= on another attribute, which xinetd refuses, are comments.
 */
static void
put_controls(FILE *f, FILE *lim, const struct xinetd_svc *b,
    const struct xinetd_svc *d, const struct xinetd_svc *s)
{
	for (size_t i = 0; b && i < b->nattrs; i++) {
		const struct xinetd_attr *a = &b->attrs[i];
		if (is_identity(a->key))
			continue;
		if (a->op != '=' && !is_list(a->key)) {
			if (b == s)
				put_comment(f, a, "xinetd takes += and -= on lists only");
		} else if (deciding(b, a->key) != a ||
		    (b == d && deciding(s, a->key)))
			continue;
		else if (is_list(a->key))
			put_merged(f, lim, a, d, b == d ? NULL : s);
		else
			put_control(f, lim, a);
	}
}

/* What a service became. */
enum converted { NOT_CONVERTED, DISABLED, SERVED };

/* One service, and what it became. */
static enum converted
put_xinetd(FILE *out, const struct xinetd_svc *s, const struct xinetd_svc *d,
    bool *first)
{
	char *body = NULL, *lims = NULL;
	size_t blen = 0, llen = 0;
	FILE *f = open_memstream(&body, &blen), *lim = open_memstream(&lims, &llen);
	bool served;

	if (f == NULL || lim == NULL)
		return NOT_CONVERTED;
	served = put_identity(f, s, d);
	if (served) {
		put_controls(f, lim, d, d, s);
		put_controls(f, lim, s, d, s);
	}
	fclose(lim);
	if (llen > 0)
		fprintf(f, "    rlimits = {%s };\n", lims);
	fclose(f);
	fprintf(out, "%s  # service %s, %s:%d\n", *first || !served ? "" : ",\n",
	    s->name, s->file, s->line);
	if (served) {
		fprintf(out, "  {\n%s  }", body);
		*first = false;
	} else
		fprintf(out, "%s", body);
	free(body);
	free(lims);
	return !served ? NOT_CONVERTED : is_off(s, d) ? DISABLED : SERVED;
}

/*
 * The head of the output, and, when no service of the input would be
 * served (n[] counts them by enum converted), a comment there and a
 * message on err: a converted file that serves nothing should not pass
 * for one that does.
 */
static void
put_head(FILE *out, FILE *err, const char *path, const size_t n[3])
{
	fprintf(out, "# sockd.conf converted by sockd --convert from %s\n", path);
	if (n[SERVED] > 0)
		return;
	if (n[DISABLED] == 0 && n[NOT_CONVERTED] == 0) {
		fputs("# no service in it: this file serves nothing\n", out);
		fprintf(err, "sockd: %s: no service to convert\n", path);
	} else if (n[NOT_CONVERTED] == 0) {
		fprintf(out, "# every service in it is disabled, and stays so below "
		    "(disabled = true):\n# this file serves nothing until one "
		    "is enabled\n");
		fprintf(err, "sockd: %s: every service (%zu) is disabled; they are "
		    "converted disabled\n", path, n[DISABLED]);
	} else {
		fprintf(out, "# no service in it is served: %zu disabled, %zu not "
		    "converted\n", n[DISABLED], n[NOT_CONVERTED]);
		fprintf(err, "sockd: %s: no service is served: %zu disabled, %zu "
		    "not converted\n", path, n[DISABLED], n[NOT_CONVERTED]);
	}
}

static int
convert_xinetd(const char *path, FILE *out, FILE *err)
{
	struct xinetd_conf xc = { 0 };
	struct cfgerr e = { 0 };
	const struct xinetd_svc *d = NULL;
	bool first = true;
	size_t n[3] = { 0, 0, 0 }, blen = 0;
	char *body = NULL;
	FILE *b = open_memstream(&body, &blen);
	unsigned errors;

	if (b == NULL)
		return 1;
	xinetd_read(&xc, path, &e);
	for (size_t i = 0; i < xc.nsvcs; i++)
		if (xc.svcs[i].name == NULL)
			d = &xc.svcs[i];
	for (size_t i = 0; d && i < d->nattrs; i++)
		if (!is_identity(d->attrs[i].key))
			fprintf(b, "# defaults, line %d: applied to each service "
			    "below\n", d->attrs[i].line);
	fputs("services = (\n", b);
	for (size_t i = 0; i < xc.nsvcs; i++)
		if (xc.svcs[i].name)
			n[put_xinetd(b, &xc.svcs[i], d, &first)]++;
	fputs("\n);\n", b);
	fclose(b);
	put_head(out, err, path, n);
	fputs(body, out);
	free(body);
	errors = e.count;
	if (e.text)
		fputs(e.text, err);
	xinetd_free(&xc);
	cfgerr_free(&e);
	return errors ? 1 : 0;
}

/* One inetd.conf entry as its service group. */
static void
put_inetd(FILE *out, const struct inetdconf_entry *e, bool off)
{
	char name[CONFIG_NAME_MAX + 1];
	unsigned rate, burst;

	inetdconf_name(e, name, sizeof(name));
	fprintf(out, "  {\n");
	put_key(out, "name", name);
	put_key(out, "protocol", e->udp ? "udp" : "tcp");
	fprintf(out, "    port = %u;\n", e->port);
	put_key(out, "address", e->host ? e->host :
	    e->family == INETDCONF_V4 ? "0.0.0.0" : "::");
	fprintf(out, "    v6only = %s;\n", e->family == INETDCONF_V6 ?
	    "true" : "false");
	if (e->program == NULL)
		put_key(out, "builtin", e->service);
	else {
		put_key(out, "server", e->program);
		put_list(out, "args", (char *const *)e->argv, NULL);
		fprintf(out, "    wait = %s;\n", e->wait ? "true" : "false");
	}
	put_key(out, "user", e->user);
	if (e->group)
		put_key(out, "group", e->group);
	if (e->max) {
		inetdconf_rate(e->max, &rate, &burst);
		fprintf(out, "    rate = %u;\n    rate_burst = %u;\n", rate, burst);
	}
	if (off)
		fputs("    disabled = true;\n", out);
	fputs("  }", out);
}

static int
convert_inetd(const char *path, FILE *in, FILE *out, FILE *errf)
{
	char *line = NULL, *host = NULL, err[INETDCONF_ERRLEN], *body = NULL;
	struct inetdconf_entry e;
	bool first = true;
	size_t cap = 0, count[3] = { 0, 0, 0 }, blen = 0;
	FILE *b = open_memstream(&body, &blen);
	int n = 0;

	if (b == NULL)
		return 1;
	fputs("services = (\n", b);
	while (getline(&line, &cap, in) != -1) {
		enum inetdconf_kind k;
		line[strcspn(line, "\n")] = '\0';
		n++;
		k = inetdconf_parse(line, host, &e, err);
		if (k == INETDCONF_ERROR)
			fprintf(b, "  # line %d not converted: %s\n  #   %s\n", n,
			    err, line);
		else if (k == INETDCONF_HOST) {
			free(host);
			host = e.host ? strdup(e.host) : NULL;
		} else if ((k == INETDCONF_SERVICE || k == INETDCONF_OFF) && e.service) {
			fprintf(b, "%s  # %s:%d\n", first ? "" : ",\n", path, n);
			put_inetd(b, &e, k == INETDCONF_OFF);
			first = false;
			count[k == INETDCONF_OFF ? DISABLED : SERVED]++;
		}
		inetdconf_free(&e);
	}
	fputs("\n);\n", b);
	fclose(b);
	put_head(out, errf, path, count);
	fputs(body, out);
	free(body);
	free(line);
	free(host);
	return 0;
}

/* xinetd's files open blocks; inetd.conf's lines never do. */
static bool
looks_xinetd(FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	bool x = false;

	while (!x && getline(&line, &cap, in) != -1) {
		const char *s = line + strspn(line, " \t");
		x = strncmp(s, "service", 7) == 0 || strncmp(s, "defaults", 8) == 0 ||
		    strncmp(s, "includedir", 10) == 0 || s[0] == '{';
	}
	free(line);
	rewind(in);
	return x;
}

int
convert_run(const char *path, FILE *out, FILE *err)
{
	struct stat st;
	FILE *in;
	int rc;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return convert_xinetd(path, out, err);
	if ((in = fopen(path, "re")) == NULL) {
		fprintf(err, "sockd: %s: %m\n", path);
		return 1;
	}
	if (looks_xinetd(in)) {
		fclose(in);
		return convert_xinetd(path, out, err);
	}
	rc = convert_inetd(path, in, out, err);
	fclose(in);
	return rc;
}
