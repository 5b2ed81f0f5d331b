/*
 * Compares two configurations of a service, key by key, for the lines a
 * reload logs (events.c). Lists compare as sets where their order means
 * nothing (addresses, access lists) and as sequences where it does
 * (args, env). Knows the svc_conf fields and their key names; decides
 * nothing about sockets (reload_pairs() does).
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "confdiff.h"
#include "jail.h"
#include "sockopt.h"

/* Appends to a value, cutting it with "..." when it is full. */
static void __attribute__((format(printf, 2, 3)))
vput(char *v, const char *fmt, ...)
{
	size_t at = strlen(v);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v + at, CONFDIFF_VALUE_MAX - at, fmt, ap);
	va_end(ap);
	if (n >= 0 && at + n >= CONFDIFF_VALUE_MAX)
		strcpy(v + CONFDIFF_VALUE_MAX - 4, "...");
}

/* A new entry for key, its values empty; NULL when d is full. */
static struct confdiff_key *
add(struct confdiff *d, const char *key)
{
	struct confdiff_key *k;

	if (d->n == CONFDIFF_MAX)
		return NULL;
	k = &d->k[d->n++];
	k->key = key;
	k->old[0] = k->new[0] = '\0';
	return k;
}

static void
diff_uint(struct confdiff *d, const char *key, unsigned a, unsigned b)
{
	struct confdiff_key *k;

	if (a != b && (k = add(d, key)) != NULL) {
		vput(k->old, "%u", a);
		vput(k->new, "%u", b);
	}
}

static void
diff_bool(struct confdiff *d, const char *key, bool a, bool b)
{
	struct confdiff_key *k;

	if (a != b && (k = add(d, key)) != NULL) {
		vput(k->old, "%s", a ? "true" : "false");
		vput(k->new, "%s", b ? "true" : "false");
	}
}

static void
str_value(char *v, const char *s)
{
	if (s)
		vput(v, "\"%s\"", s);
	else
		vput(v, "unset");
}

static void
diff_str(struct confdiff *d, const char *key, const char *a, const char *b)
{
	struct confdiff_key *k;

	if ((a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0))
		return;
	if ((k = add(d, key)) != NULL) {
		str_value(k->old, a);
		str_value(k->new, b);
	}
}

static void
strv_value(char *v, char *const *sv)
{
	if (sv == NULL) {
		vput(v, "unset");
		return;
	}
	vput(v, "[");
	for (size_t i = 0; sv[i]; i++)
		vput(v, "%s\"%s\"", i ? ", " : "", sv[i]);
	vput(v, "]");
}

static bool
strv_equal(char *const *a, char *const *b)
{
	size_t i = 0;

	if (a == NULL || b == NULL)
		return a == b;
	while (a[i] && b[i] && strcmp(a[i], b[i]) == 0)
		i++;
	return a[i] == NULL && b[i] == NULL;
}

static void
diff_strv(struct confdiff *d, const char *key, char *const *a, char *const *b)
{
	struct confdiff_key *k;

	if (!strv_equal(a, b) && (k = add(d, key)) != NULL) {
		strv_value(k->old, a);
		strv_value(k->new, b);
	}
}

static bool
has_addr(const struct svc_conf *sc, const struct addr *a)
{
	for (size_t i = 0; i < sc->naddrs; i++)
		if (addr_equal(&sc->addrs[i], a))
			return true;
	return false;
}

static void
addrs_value(char *v, const struct svc_conf *sc)
{
	char ip[ADDR_STRLEN];

	for (size_t i = 0; i < sc->naddrs; i++) {
		addr_format(&sc->addrs[i], ip);
		vput(v, "%s%s", i ? ", " : "", ip);
	}
}

static void
diff_addrs(struct confdiff *d, const struct svc_conf *a,
    const struct svc_conf *b)
{
	struct confdiff_key *k;
	bool same = a->naddrs == b->naddrs;

	for (size_t i = 0; same && i < a->naddrs; i++)
		same = has_addr(b, &a->addrs[i]);
	if (!same && (k = add(d, "address")) != NULL) {
		addrs_value(k->old, a);
		addrs_value(k->new, b);
	}
}

static bool
has_cidr(const struct acl *l, const struct cidr *c)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].bits == c->bits && addr_equal(&l->v[i].net, &c->net))
			return true;
	return false;
}

static void
acl_value(char *v, const struct acl *l)
{
	char ip[ADDR_STRLEN];

	if (!l->set) {
		vput(v, "unset");
		return;
	}
	vput(v, "[");
	for (size_t i = 0; i < l->n; i++) {
		addr_format(&l->v[i].net, ip);
		vput(v, "%s%s/%u", i ? ", " : "", ip, l->v[i].bits);
	}
	vput(v, "]");
}

static void
diff_acl(struct confdiff *d, const char *key, const struct acl *a,
    const struct acl *b)
{
	struct confdiff_key *k;
	bool same = a->set == b->set && a->n == b->n;

	for (size_t i = 0; same && i < a->n; i++)
		same = has_cidr(b, &a->v[i]);
	if (!same && (k = add(d, key)) != NULL) {
		acl_value(k->old, a);
		acl_value(k->new, b);
	}
}

static void
rlimits_value(char *v, const struct svc_conf *sc)
{
	vput(v, "{");
	for (size_t i = 0; i < sc->nrlimits; i++)
		vput(v, "%s%d: %llu", i ? ", " : "", sc->rlimits[i].resource,
		    (unsigned long long)sc->rlimits[i].value);
	vput(v, "}");
}

static void
diff_rlimits(struct confdiff *d, const struct svc_conf *a,
    const struct svc_conf *b)
{
	struct confdiff_key *k;
	bool same = a->nrlimits == b->nrlimits;

	for (size_t i = 0; same && i < a->nrlimits; i++)
		same = a->rlimits[i].resource == b->rlimits[i].resource &&
		    a->rlimits[i].value == b->rlimits[i].value;
	if (!same && (k = add(d, "rlimits")) != NULL) {
		rlimits_value(k->old, a);
		rlimits_value(k->new, b);
	}
}

/* nice and umask are "unset" or a number. */
static void
diff_opt_int(struct confdiff *d, const char *key, bool aset, int a, bool bset,
    int b, const char *fmt)
{
	struct confdiff_key *k;

	if (aset == bset && (!aset || a == b))
		return;
	if ((k = add(d, key)) == NULL)
		return;
	if (aset)
		vput(k->old, fmt, a);
	else
		vput(k->old, "unset");
	if (bset)
		vput(k->new, fmt, b);
	else
		vput(k->new, "unset");
}

/* What sockd listens on and what it runs. */
static void
diff_identity(struct confdiff *d, const struct svc_conf *a,
    const struct svc_conf *b)
{
	static const char *const stderrs[] = { "log", "null", "inherit" };

	diff_str(d, "name", a->name, b->name);
	diff_str(d, "protocol", svc_proto_name(a->proto), svc_proto_name(b->proto));
	diff_addrs(d, a, b);
	diff_uint(d, "port", a->port, b->port);
	diff_bool(d, "v6only", a->v6only, b->v6only);
	diff_str(d, "server", a->server, b->server);
	diff_str(d, "builtin", a->builtin ? a->builtin->name : NULL,
	    b->builtin ? b->builtin->name : NULL);
	diff_strv(d, "args", a->argv, b->argv);
	diff_bool(d, "wait", a->wait, b->wait);
	diff_uint(d, "backlog", a->backlog, b->backlog);
	diff_str(d, "stderr", stderrs[a->stderr_to], stderrs[b->stderr_to]);
	diff_str(d, "user", a->set_ids ? a->user : NULL, b->set_ids ? b->user : NULL);
	diff_opt_int(d, "uid", a->set_ids, (int)a->uid, b->set_ids, (int)b->uid, "%d");
	diff_opt_int(d, "group", a->set_ids, (int)a->gid, b->set_ids, (int)b->gid,
	    "%d");
}

static bool
idlist_has(const struct idlist *l, unsigned id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == id)
			return true;
	return false;
}

static void
idlist_value(char *v, const struct idlist *l)
{
	if (!l->set) {
		vput(v, "unset");
		return;
	}
	for (size_t i = 0; i < l->n; i++)
		vput(v, "%s%u", i ? "," : "", l->v[i]);
}

/* Lists of uids or gids, as sets. */
static void
diff_idlist(struct confdiff *d, const char *key, const struct idlist *a,
    const struct idlist *b)
{
	struct confdiff_key *k;
	bool same = a->set == b->set && a->n == b->n;

	for (size_t i = 0; same && i < a->n; i++)
		same = idlist_has(b, a->v[i]);
	if (!same && (k = add(d, key)) != NULL) {
		idlist_value(k->old, a);
		idlist_value(k->new, b);
	}
}

/* protocol "unix": the socket file and who may connect. */
static void
diff_unix(struct confdiff *d, const struct svc_conf *a, const struct svc_conf *b)
{
	diff_str(d, "address", a->unix_path, b->unix_path);
	diff_opt_int(d, "socket_mode", a->unix_mode != -1, a->unix_mode,
	    b->unix_mode != -1, b->unix_mode, "%04o");
	diff_opt_int(d, "socket_user", a->unix_uid != (uid_t)-1, (int)a->unix_uid,
	    b->unix_uid != (uid_t)-1, (int)b->unix_uid, "%d");
	diff_opt_int(d, "socket_group", a->unix_gid != (gid_t)-1, (int)a->unix_gid,
	    b->unix_gid != (gid_t)-1, (int)b->unix_gid, "%d");
	diff_idlist(d, "only_users", &a->only_users, &b->only_users);
	diff_idlist(d, "no_users", &a->no_users, &b->no_users);
	diff_idlist(d, "only_groups", &a->only_groups, &b->only_groups);
	diff_idlist(d, "no_groups", &a->no_groups, &b->no_groups);
}

/* Socket options and the PROXY protocol. */
static void
diff_sockets(struct confdiff *d, const struct svc_conf *a,
    const struct svc_conf *b)
{
	const struct sockopts *x = &a->so, *y = &b->so;

	diff_bool(d, "keepalive", x->keepalive, y->keepalive);
	diff_uint(d, "keepalive_idle", x->keepidle, y->keepidle);
	diff_uint(d, "keepalive_interval", x->keepintvl, y->keepintvl);
	diff_uint(d, "keepalive_count", x->keepcnt, y->keepcnt);
	diff_bool(d, "nodelay", x->nodelay, y->nodelay);
	diff_uint(d, "defer_accept", x->defer_accept, y->defer_accept);
	diff_uint(d, "fastopen", x->fastopen, y->fastopen);
	diff_uint(d, "rcvbuf", x->rcvbuf, y->rcvbuf);
	diff_uint(d, "sndbuf", x->sndbuf, y->sndbuf);
	diff_bool(d, "reuseport", x->reuseport, y->reuseport);
	diff_bool(d, "freebind", x->freebind, y->freebind);
	diff_str(d, "interface", x->interface[0] ? x->interface : NULL,
	    y->interface[0] ? y->interface : NULL);
	diff_bool(d, "listen_fds", a->listen_fds, b->listen_fds);
	diff_uint(d, "proxy_protocol", a->proxy_protocol, b->proxy_protocol);
	diff_acl(d, "proxy_from", &a->proxy_from, &b->proxy_from);
	diff_uint(d, "proxy_timeout", a->proxy_timeout, b->proxy_timeout);
	diff_uint(d, "proxy_pending", a->proxy_pending, b->proxy_pending);
}

static bool
binds_equal(const struct jail_conf *a, const struct jail_conf *b)
{
	if (a->nbinds != b->nbinds)
		return false;
	for (size_t i = 0; i < a->nbinds; i++)
		if (strcmp(a->binds[i].src, b->binds[i].src) != 0 ||
		    strcmp(a->binds[i].dst, b->binds[i].dst) != 0 ||
		    a->binds[i].rw != b->binds[i].rw)
			return false;
	return true;
}

static bool
hides_equal(const struct jail_conf *a, const struct jail_conf *b)
{
	if (a->nhide != b->nhide)
		return false;
	for (size_t i = 0; i < a->nhide; i++)
		if (strcmp(a->hide[i], b->hide[i]) != 0)
			return false;
	return true;
}

/* What a jail isolates, as its configuration says. */
static bool
jail_equal(const struct jail_conf *a, const struct jail_conf *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->clone_flags == b->clone_flags && a->proc == b->proc &&
	    a->tmp == b->tmp && strcmp(a->root ? a->root : "",
	    b->root ? b->root : "") == 0 && binds_equal(a, b) &&
	    hides_equal(a, b) && strcmp(a->tmp_opts, b->tmp_opts) == 0 &&
	    a->own_ids == b->own_ids &&
	    a->no_new_privs == b->no_new_privs && a->caps == b->caps &&
	    a->no_sockets == b->no_sockets && a->filter_len == b->filter_len &&
	    (a->filter_len == 0 || memcmp(a->filter, b->filter,
	    a->filter_len * sizeof(*a->filter)) == 0);
}

static void
diff_jail(struct confdiff *d, const struct svc_conf *a, const struct svc_conf *b)
{
	struct confdiff_key *k;

	if (!jail_equal(a->jail, b->jail) && (k = add(d, "jail")) != NULL) {
		vput(k->old, "%s", a->jail ? "set" : "unset");
		vput(k->new, "%s", b->jail ? (a->jail ? "changed" : "set") : "unset");
	}
}

static bool
str_equal(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool
sni_equal(const struct tls_conf *a, const struct tls_conf *b)
{
	if (a->nsni != b->nsni)
		return false;
	for (size_t i = 0; i < a->nsni; i++)
		if (!str_equal(a->sni[i].name, b->sni[i].name) ||
		    !str_equal(a->sni[i].certificate, b->sni[i].certificate) ||
		    !str_equal(a->sni[i].key, b->sni[i].key))
			return false;
	return true;
}

/* The tls group's values; files with the same names may hold new
 * certificates, which each reload reads anyway (service.c). */
static bool
tls_equal(const struct tls_conf *a, const struct tls_conf *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return str_equal(a->certificate, b->certificate) &&
	    str_equal(a->key, b->key) && str_equal(a->ca, b->ca) &&
	    a->verify == b->verify && a->min_protocol == b->min_protocol &&
	    str_equal(a->ciphers, b->ciphers) &&
	    str_equal(a->ciphersuites, b->ciphersuites) &&
	    a->alpn_len == b->alpn_len && (a->alpn_len == 0 ||
	    memcmp(a->alpn, b->alpn, a->alpn_len) == 0) &&
	    a->handshake_timeout == b->handshake_timeout &&
	    a->session_tickets == b->session_tickets &&
	    a->starttls == b->starttls && sni_equal(a, b);
}

static void
diff_tls(struct confdiff *d, const struct svc_conf *a, const struct svc_conf *b)
{
	struct confdiff_key *k;

	if (!tls_equal(a->tls, b->tls) && (k = add(d, "tls")) != NULL) {
		vput(k->old, "%s", a->tls ? "set" : "unset");
		vput(k->new, "%s", b->tls ? (a->tls ? "changed" : "set") : "unset");
	}
}

size_t
confdiff_services(const struct svc_conf *a, const struct svc_conf *b,
    struct confdiff *d)
{
	d->n = 0;
	diff_identity(d, a, b);
	diff_uint(d, "instances", a->instances, b->instances);
	diff_uint(d, "per_source", a->per_source, b->per_source);
	diff_uint(d, "per_source_prefix6", a->per_source_prefix6,
	    b->per_source_prefix6);
	diff_uint(d, "rate", a->rate, b->rate);
	diff_uint(d, "rate_burst", a->rate_burst, b->rate_burst);
	diff_uint(d, "source_rate", a->source_rate, b->source_rate);
	diff_acl(d, "only_from", &a->only_from, &b->only_from);
	diff_acl(d, "no_access", &a->no_access, &b->no_access);
	diff_str(d, "refuse_message", a->refuse_message, b->refuse_message);
	diff_uint(d, "max_lifetime", a->max_lifetime, b->max_lifetime);
	diff_uint(d, "idle_timeout", a->idle_timeout, b->idle_timeout);
	diff_bool(d, "udp_loop_guard", a->udp_loop_guard, b->udp_loop_guard);
	diff_strv(d, "env", a->env, b->env);
	diff_rlimits(d, a, b);
	diff_opt_int(d, "nice", a->set_nice, a->nice, b->set_nice, b->nice, "%d");
	diff_opt_int(d, "umask", a->umask != -1, a->umask, b->umask != -1, b->umask,
	    "%03o");
	diff_str(d, "chdir", a->chdir, b->chdir);
	diff_unix(d, a, b);
	diff_sockets(d, a, b);
	diff_jail(d, a, b);
	diff_tls(d, a, b);
	return d->n;
}

size_t
confdiff_global(const struct global_conf *a, const struct global_conf *b,
    struct confdiff *d)
{
	d->n = 0;
	diff_str(d, "control", a->control, b->control);
	diff_uint(d, "control_group", a->control_gid, b->control_gid);
	return d->n;
}

void
confdiff_keys(const struct confdiff *d, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->n && at < len; i++)
		at += snprintf(buf + at, len - at, "%s%s", i ? "," : "", d->k[i].key);
}

void
confdiff_text(const struct confdiff *d, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->n && at < len; i++)
		at += snprintf(buf + at, len - at, "%s%s %s -> %s", i ? ", " : "",
		    d->k[i].key, d->k[i].old, d->k[i].new);
}
