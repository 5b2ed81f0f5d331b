/*
 * Compares two configurations of a service, key by key, for the lines a
 * reload logs (events.c): the keys and how each compares are the
 * registry's (keys.h), so a key the loader reads is a key compared here.
 * Lists compare as sets where their order means nothing (addresses,
 * access lists) and as sequences where it does (args, env). Decides
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
#include "keys.h"
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

/*
 * Whether lists a and b (na and nb elements of size bytes) hold the same
 * elements, each as often (multisets): their order is no part of what
 * they do (sockets opened, the longest prefix matched, a uid found), but
 * a value given twice is the configuration's, so [a, a] -> [a, b] is a
 * change. Quadratic: the lists are short, and compared once a reload.
 */
static bool
same_multiset(const void *a, size_t na, const void *b, size_t nb,
    size_t size, bool (*eq)(const void *, const void *))
{
	const char *pa = a, *pb = b;

	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		size_t in_a = 0, in_b = 0;
		for (size_t j = 0; j < na; j++) {
			in_a += eq(pa + i * size, pa + j * size);
			in_b += eq(pa + i * size, pb + j * size);
		}
		if (in_a != in_b)
			return false;
	}
	return true;
}

static bool
addr_eq(const void *a, const void *b)
{
	return addr_equal(a, b);
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

	if (!same_multiset(a->addrs, a->naddrs, b->addrs, b->naddrs,
	    sizeof(*a->addrs), addr_eq) && (k = add(d, "address")) != NULL) {
		addrs_value(k->old, a);
		addrs_value(k->new, b);
	}
}

static bool
cidr_eq(const void *a, const void *b)
{
	const struct cidr *x = a, *y = b;

	return x->bits == y->bits && addr_equal(&x->net, &y->net);
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

	if ((a->set != b->set || !same_multiset(a->v, a->n, b->v, b->n,
	    sizeof(*a->v), cidr_eq)) && (k = add(d, key)) != NULL) {
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

static bool
id_eq(const void *a, const void *b)
{
	return *(const unsigned *)a == *(const unsigned *)b;
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

/* Lists of uids or gids. */
static void
diff_idlist(struct confdiff *d, const char *key, const struct idlist *a,
    const struct idlist *b)
{
	struct confdiff_key *k;

	if ((a->set != b->set || !same_multiset(a->v, a->n, b->v, b->n,
	    sizeof(*a->v), id_eq)) && (k = add(d, key)) != NULL) {
		idlist_value(k->old, a);
		idlist_value(k->new, b);
	}
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

/* The field of k in the struct at base. */
#define FIELD(type, base, k) (*(type const *)((const char *)(base) + (k)->off))

static bool
ids_equal(const struct svc_conf *a, const struct svc_conf *b)
{
	return a->set_ids == b->set_ids && (!a->set_ids ||
	    (a->uid == b->uid && str_equal(a->user, b->user)));
}

static void
user_value(char *v, const struct svc_conf *sc)
{
	if (!sc->set_ids)
		vput(v, "unset");
	else
		vput(v, "\"%s\" (uid %d)", sc->user ? sc->user : "", (int)sc->uid);
}

static void
diff_user(struct confdiff *d, const char *key, const struct svc_conf *a,
    const struct svc_conf *b)
{
	struct confdiff_key *k;

	if (!ids_equal(a, b) && (k = add(d, key)) != NULL) {
		user_value(k->old, a);
		user_value(k->new, b);
	}
}

/* Where the service listens: its addresses, or its path for unix. */
static void
diff_address(struct confdiff *d, const char *key, const struct svc_conf *a,
    const struct svc_conf *b)
{
	if (a->proto == PROTO_UNIX || b->proto == PROTO_UNIX)
		diff_str(d, key, a->unix_path, b->unix_path);
	else
		diff_addrs(d, a, b);
}

/* A key whose value is more than one field of struct svc_conf. */
static void
diff_special(struct confdiff *d, const struct keyspec *k,
    const struct svc_conf *a, const struct svc_conf *b)
{
	static const char *const stderrs[] = { "log", "null", "inherit" };

	switch (k->cmp) {
	case KC_ADDRESS:
		diff_address(d, k->name, a, b);
		break;
	case KC_PROTOCOL:
		diff_str(d, k->name, svc_proto_name(a->proto),
		    svc_proto_name(b->proto));
		break;
	case KC_BUILTIN:
		diff_str(d, k->name, a->builtin ? a->builtin->name : NULL,
		    b->builtin ? b->builtin->name : NULL);
		break;
	case KC_STDERR:
		diff_str(d, k->name, stderrs[a->stderr_to], stderrs[b->stderr_to]);
		break;
	case KC_USER:
		diff_user(d, k->name, a, b);
		break;
	case KC_GROUP:
		diff_opt_int(d, k->name, a->set_ids, (int)a->gid, b->set_ids,
		    (int)b->gid, "%d");
		break;
	case KC_RLIMITS:
		diff_rlimits(d, a, b);
		break;
	case KC_JAIL:
		diff_jail(d, a, b);
		break;
	case KC_TLS:
		diff_tls(d, a, b);
		break;
	default:
		break;
	}
}

/* One key of a registry, its field at the same offset in a and b. */
static void
diff_key(struct confdiff *d, const struct keyspec *k, const void *a,
    const void *b)
{
	const char *n = k->name;

	switch (k->cmp) {
	case KC_UINT:
		diff_uint(d, n, FIELD(unsigned, a, k), FIELD(unsigned, b, k));
		break;
	case KC_U16:
		diff_uint(d, n, FIELD(uint16_t, a, k), FIELD(uint16_t, b, k));
		break;
	case KC_INT:
		diff_opt_int(d, n, true, FIELD(int, a, k), true, FIELD(int, b, k), "%d");
		break;
	case KC_BOOL:
		diff_bool(d, n, FIELD(bool, a, k), FIELD(bool, b, k));
		break;
	case KC_STR:
		diff_str(d, n, FIELD(char *, a, k), FIELD(char *, b, k));
		break;
	case KC_CHARS: {
		const char *x = (const char *)a + k->off, *y = (const char *)b + k->off;
		diff_str(d, n, x[0] ? x : NULL, y[0] ? y : NULL);
		break;
	}
	case KC_STRV:
		diff_strv(d, n, FIELD(char **, a, k), FIELD(char **, b, k));
		break;
	case KC_ACL:
		diff_acl(d, n, &FIELD(struct acl, a, k), &FIELD(struct acl, b, k));
		break;
	case KC_IDLIST:
		diff_idlist(d, n, &FIELD(struct idlist, a, k),
		    &FIELD(struct idlist, b, k));
		break;
	case KC_OPT:
		diff_opt_int(d, n, FIELD(int, a, k) != -1, FIELD(int, a, k),
		    FIELD(int, b, k) != -1, FIELD(int, b, k), k->fmt);
		break;
	case KC_OPT_SET:
		diff_opt_int(d, n, *(const bool *)((const char *)a + k->flag),
		    FIELD(int, a, k), *(const bool *)((const char *)b + k->flag),
		    FIELD(int, b, k), k->fmt);
		break;
	default:
		break;
	}
}

static void
diff_table(struct confdiff *d, const struct keyspec *t,
    const struct svc_conf *a, const struct svc_conf *b)
{
	for (const struct keyspec *k = t; k->name; k++)
		if (k->cmp >= KC_ADDRESS)
			diff_special(d, k, a, b);
		else
			diff_key(d, k, a, b);
}

size_t
confdiff_services(const struct svc_conf *a, const struct svc_conf *b,
    struct confdiff *d)
{
	d->n = 0;
	diff_table(d, keys_service, a, b);
	diff_table(d, keys_controls, a, b);
	return d->n;
}

size_t
confdiff_global(const struct global_conf *a, const struct global_conf *b,
    struct confdiff *d)
{
	d->n = 0;
	for (const struct keyspec *k = keys_global; k->name; k++)
		diff_key(d, k, a, b);
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
