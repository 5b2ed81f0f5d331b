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

/* name, protocol, port, the handler, wait, disabled; false: not served. */
static bool
put_identity(FILE *f, const struct xinetd_svc *s, const struct xinetd_svc *d)
{
	const char *id = value(s, d, "id"), *type = value(s, d, "type");
	const char *st = value(s, d, "socket_type"), *proto = value(s, d, "protocol");
	const char *port = value(s, d, "port"), *server = value(s, d, "server");
	const struct xinetd_attr *args = attr(s, d, "server_args");
	const char *wait = value(s, d, "wait"), *dis = value(s, d, "disable");
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
	if (dis && strcmp(dis, "yes") == 0)
		fputs("    disabled = true;\n", f);
	return true;
}

static bool
is_identity(const char *key)
{
	static const char *const keys[] = { "id", "type", "socket_type",
	    "protocol", "port", "server", "server_args", "wait", "disable",
	    "enabled", NULL };

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
	if (n > 0)
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
	else if (!strcmp(k, "env") || !strcmp(k, "passenv"))
		put_list(f, k, a->values, NULL);
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

/* The controls of block b that the service does not set itself (own). */
static void
put_controls(FILE *f, FILE *lim, const struct xinetd_svc *b,
    const struct xinetd_svc *own)
{
	for (size_t i = 0; b && i < b->nattrs; i++) {
		const struct xinetd_attr *a = &b->attrs[i];
		if (is_identity(a->key) || xinetd_attr(b, a->key) != a ||
		    (own && xinetd_attr(own, a->key)))
			continue;
		put_control(f, lim, a);
	}
}

static void
put_xinetd(FILE *out, const struct xinetd_svc *s, const struct xinetd_svc *d,
    bool *first)
{
	char *body = NULL, *lims = NULL;
	size_t blen = 0, llen = 0;
	FILE *f = open_memstream(&body, &blen), *lim = open_memstream(&lims, &llen);
	bool served;

	if (f == NULL || lim == NULL)
		return;
	served = put_identity(f, s, d);
	if (served) {
		put_controls(f, lim, d, s);
		put_controls(f, lim, s, NULL);
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
}

static int
convert_xinetd(const char *path, FILE *out, FILE *err)
{
	struct xinetd_conf xc = { 0 };
	struct cfgerr e = { 0 };
	const struct xinetd_svc *d = NULL;
	bool first = true;
	unsigned errors;

	xinetd_read(&xc, path, &e);
	for (size_t i = 0; i < xc.nsvcs; i++)
		if (xc.svcs[i].name == NULL)
			d = &xc.svcs[i];
	fprintf(out, "# sockd.conf converted by sockd --convert from %s\n", path);
	for (size_t i = 0; d && i < d->nattrs; i++)
		if (!is_identity(d->attrs[i].key))
			fprintf(out, "# defaults, line %d: applied to each service "
			    "below\n", d->attrs[i].line);
	fputs("services = (\n", out);
	for (size_t i = 0; i < xc.nsvcs; i++)
		if (xc.svcs[i].name)
			put_xinetd(out, &xc.svcs[i], d, &first);
	fputs("\n);\n", out);
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
convert_inetd(const char *path, FILE *in, FILE *out)
{
	char *line = NULL, *host = NULL, err[INETDCONF_ERRLEN];
	struct inetdconf_entry e;
	bool first = true;
	size_t cap = 0;
	int n = 0;

	fprintf(out, "# sockd.conf converted by sockd --convert from %s\n"
	    "services = (\n", path);
	while (getline(&line, &cap, in) != -1) {
		enum inetdconf_kind k;
		line[strcspn(line, "\n")] = '\0';
		n++;
		k = inetdconf_parse(line, host, &e, err);
		if (k == INETDCONF_ERROR)
			fprintf(out, "  # line %d not converted: %s\n  #   %s\n", n,
			    err, line);
		else if (k == INETDCONF_HOST) {
			free(host);
			host = e.host ? strdup(e.host) : NULL;
		} else if ((k == INETDCONF_SERVICE || k == INETDCONF_OFF) && e.service) {
			fprintf(out, "%s  # %s:%d\n", first ? "" : ",\n", path, n);
			put_inetd(out, &e, k == INETDCONF_OFF);
			first = false;
		}
		inetdconf_free(&e);
	}
	fputs("\n);\n", out);
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
	rc = convert_inetd(path, in, out);
	fclose(in);
	return rc;
}
