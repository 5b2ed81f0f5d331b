/*
 * The "tls" group, a control the sockd section may default: its values,
 * and its files read now, as the user sockd runs as, so that -t and a
 * reload name what is wrong with them (unreadable or unparsable, a key
 * that does not match, an expired certificate, a key others may read, an
 * unknown cipher) at the key that names it. Builds a context to check and
 * frees it: the running service builds its own (tls.h). Both through the
 * TLS module (tlsmod.h), which the first TLS service loads.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfgload.h"
#include "tlsmod.h"

static const struct keyspec tls_keys[] = {
	{ KEY("certificate", K_STRING) },
	{ KEY("key", K_STRING) },
	{ KEY("ca", K_STRING) },
	{ KEY("verify_client", K_STRING) },
	{ KEY("min_protocol", K_STRING) },
	{ KEY("ciphers", K_STRING) },
	{ KEY("ciphersuites", K_STRING) },
	{ KEY("alpn", K_ONE_OR_MORE) },
	{ KEY("handshake_timeout", K_INT) },
	{ KEY("sni", K_LIST) },
	{ KEY("session_tickets", K_BOOL) },
	{ KEY("starttls", K_BOOL) },
	{ .name = NULL }
};

/* An entry of the sni list. */
static const struct keyspec sni_keys[] = {
	{ KEY("name", K_STRING) },
	{ KEY("certificate", K_STRING) },
	{ KEY("key", K_STRING) },
	{ .name = NULL }
};

void
cfgtls_free(struct tls_conf *t)
{
	if (t == NULL)
		return;
	free(t->certificate);
	free(t->key);
	free(t->ca);
	free(t->ciphers);
	free(t->ciphersuites);
	free(t->alpn);
	for (size_t i = 0; i < t->nsni; i++) {
		free(t->sni[i].name);
		free(t->sni[i].certificate);
		free(t->sni[i].key);
	}
	free(t->sni);
	free(t);
}

/* A host name, or "*." and one: letters, digits, hyphens and dots. */
static bool
valid_sni_name(const char *n)
{
	if (strncmp(n, "*.", 2) == 0)
		n += 2;
	if (*n == '\0' || *n == '.' || strlen(n) > 253)
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		    (*n >= '0' && *n <= '9') || *n == '-' || *n == '.'))
			return false;
	return true;
}

/* The sni list: per entry a name and its certificate and key. */
static unsigned
parse_sni(struct loader *ld, const config_setting_t *s, const char *who,
    struct tls_conf *t)
{
	int n = s ? config_setting_length(s) : 0;
	unsigned errors = 0;

	if (n == 0 || (t->sni = calloc(n, sizeof(*t->sni))) == NULL)
		return 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		struct tls_sni *x = &t->sni[t->nsni];
		const char *name;

		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			cfgkeys_error(ld, cfgkeys_elem_at(s, i), who, "sni: expected "
			    "groups { name; certificate; key; }");
			errors++;
			continue;
		}
		if (cfgkeys_check(ld, e, sni_keys, NULL, who) != 0 ||
		    cfgkeys_missing(ld, e, "name", who) ||
		    cfgkeys_missing(ld, e, "certificate", who) ||
		    cfgkeys_missing(ld, e, "key", who)) {
			errors++;
			continue;
		}
		if (!valid_sni_name(name = cfgkeys_string(e, "name"))) {
			cfgkeys_error(ld, config_setting_get_member(e, "name"), who,
			    "sni: \"%s\" is not a host name or \"*.\" and one", name);
			errors++;
			continue;
		}
		x->name = strdup(name);
		x->certificate = cfgkeys_path(ld, e, "certificate");
		x->key = cfgkeys_path(ld, e, "key");
		t->nsni++;
	}
	return errors;
}

/* ALPN's wire format: each name after its length, 1 to 255 bytes. */
static unsigned
parse_alpn(struct loader *ld, const config_setting_t *s, const char *who,
    struct tls_conf *t)
{
	int n = s ? cfgkeys_one_or_more_len(s) : -1;
	size_t at = 0;

	if (n <= 0) {
		if (n == 0)
			cfgkeys_error(ld, s, who, "alpn: the list is empty");
		return n == 0;
	}
	for (int i = 0; i < n; i++)
		t->alpn_len += 1 + strlen(cfgkeys_one_or_more_elem(s, i));
	if ((t->alpn = malloc(t->alpn_len)) == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		const char *p = cfgkeys_one_or_more_elem(s, i);
		size_t len = strlen(p);
		if (len == 0 || len > 255) {
			cfgkeys_error(ld, cfgkeys_elem_at(s, i), who, "alpn: \"%s\": a "
			    "protocol name is 1 to 255 bytes", p);
			return 1;
		}
		t->alpn[at++] = (unsigned char)len;
		memcpy(t->alpn + at, p, len);
		at += len;
	}
	return 0;
}

static unsigned
parse_values(struct loader *ld, const config_setting_t *s, const char *who,
    struct tls_conf *t)
{
	static const char *const verify[] = { "none", "optional", "require", NULL };
	static const char *const protos[] = { "TLSv1.2", "TLSv1.3", NULL };
	const char *str;
	unsigned errors = 0;
	int r;

	t->certificate = cfgkeys_path(ld, s, "certificate");
	t->key = cfgkeys_path(ld, s, "key");
	t->ca = cfgkeys_path(ld, s, "ca");
	if (cfgkeys_missing(ld, s, "certificate", who) ||
	    cfgkeys_missing(ld, s, "key", who))
		errors++;
	if ((r = cfgkeys_enum(ld, s, "verify_client", verify, who)) >= 0)
		t->verify = (enum tls_verify)r;
	errors += r == -2;
	t->min_protocol = TLS_PROTO_1_2;
	if ((r = cfgkeys_enum(ld, s, "min_protocol", protos, who)) == 1)
		t->min_protocol = TLS_PROTO_1_3;
	errors += r == -2;
	if (t->verify != TLS_VERIFY_NONE && t->ca == NULL) {
		cfgkeys_error(ld, config_setting_get_member(s, "verify_client"), who,
		    "verify_client: set 'ca', the authorities client certificates "
		    "are checked against");
		errors++;
	}
	if ((str = cfgkeys_string(s, "ciphers")) != NULL)
		t->ciphers = strdup(str);
	if ((str = cfgkeys_string(s, "ciphersuites")) != NULL)
		t->ciphersuites = strdup(str);
	t->handshake_timeout = CONFIG_DEFAULT_TLS_HANDSHAKE_TIMEOUT;
	errors += cfgkeys_uint(ld, s, "handshake_timeout", 1, 3600, who,
	    &t->handshake_timeout);
	errors += parse_alpn(ld, config_setting_get_member(s, "alpn"), who, t);
	t->session_tickets = true;
	cfgkeys_bool(s, "session_tickets", &t->session_tickets);
	cfgkeys_bool(s, "starttls", &t->starttls);
	errors += parse_sni(ld, config_setting_get_member(s, "sni"), who, t);
	return errors;
}

/* Expired (an error) or expiring soon (a warning): the leaf, first in the
 * certificate file; its dates as the context read them. */
static unsigned
check_expiry(struct loader *ld, const config_setting_t *s, const char *who,
    const char *path, long long not_before, long long not_after)
{
	long long now = (long long)time(NULL);

	if (not_after == 0)
		return 0;
	if (not_after <= now) {
		cfgkeys_error(ld, s, who, "certificate \"%s\" has expired", path);
		return 1;
	}
	if (not_before > now) {
		cfgkeys_error(ld, s, who, "certificate \"%s\" is not valid yet",
		    path);
		return 1;
	}
	if (not_after <= now + CONFIG_TLS_EXPIRY_WARN_DAYS * 86400LL)
		cfgkeys_warning(ld, s, who, "certificate \"%s\" expires within "
		    "%d days", path, CONFIG_TLS_EXPIRY_WARN_DAYS);
	return 0;
}

/* The group that names a failed file: tls, or the sni entry. */
static const config_setting_t *
file_group(const config_setting_t *s, int sni)
{
	return sni < 0 ? s : config_setting_get_elem(
	    config_setting_get_member(s, "sni"), (unsigned)sni);
}

/* What a context could not take, at the key that names it. */
static void
report(struct loader *ld, const config_setting_t *s, const char *who,
    const struct tls_conf *t, enum tls_failed failed, int sni, const char *why)
{
	static const char *const keys[] = { [TLS_FAILED_CERTIFICATE] = "certificate",
	    [TLS_FAILED_KEY] = "key", [TLS_FAILED_MATCH] = "key",
	    [TLS_FAILED_CA] = "ca", [TLS_FAILED_CIPHERS] = "ciphers",
	    [TLS_FAILED_CIPHERSUITES] = "ciphersuites",
	    [TLS_FAILED_OTHER] = "min_protocol" };
	const config_setting_t *g = failed <= TLS_FAILED_MATCH ?
	    file_group(s, sni) : s;
	const config_setting_t *at = config_setting_get_member(g, keys[failed]);
	const char *cert = sni < 0 ? t->certificate : t->sni[sni].certificate;
	const char *key = sni < 0 ? t->key : t->sni[sni].key;
	const char *file = failed == TLS_FAILED_CERTIFICATE ? cert :
	    failed == TLS_FAILED_KEY ? key : failed == TLS_FAILED_CA ? t->ca : NULL;

	if (failed == TLS_FAILED_MATCH)
		cfgkeys_error(ld, at, who, "key \"%s\" does not match certificate "
		    "\"%s\"", key, cert);
	else if (file)
		cfgkeys_error(ld, at ? at : g, who, "%s \"%s\": %s", keys[failed],
		    file, why);
	else
		cfgkeys_error(ld, at ? at : g, who, "%s: %s", keys[failed], why);
}

/* A key file's mode, and the certificate's dates (entry i of tls). */
static unsigned
check_pair(struct loader *ld, const config_setting_t *g, const char *who,
    const char *cert, const char *key, const struct tls *tls, size_t i)
{
	struct stat st;

	if (stat(key, &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
		cfgkeys_warning(ld, config_setting_get_member(g, "key"), who,
		    "key \"%s\" is readable by others than its owner (mode %03o)",
		    key, (unsigned)(st.st_mode & 0777));
	return check_expiry(ld, config_setting_get_member(g, "certificate"), who,
	    cert, tls->not_before[i], tls->not_after[i]);
}

/*
 * The files, as the service's contexts take them. A module that cannot be
 * loaded is said once per load, at the first TLS service.
 */
static unsigned
check_files(struct loader *ld, const config_setting_t *s, const char *who,
    const struct tls_conf *t)
{
	const struct tlsmod *m;
	enum tls_failed failed;
	char why[PATH_MAX + 256];
	int sni;
	struct tls *tls;
	unsigned errors;

	if ((m = tlsmod_load(why, sizeof(why))) == NULL) {
		if (!ld->tlsmod_said)
			cfgkeys_error(ld, s, who, "cannot load the TLS module: %s", why);
		ld->tlsmod_said = true;
		return 1;
	}
	if ((tls = m->tls_new(t, &failed, &sni, why, sizeof(why))) == NULL) {
		report(ld, s, who, t, failed, sni, why);
		return 1;
	}
	errors = check_pair(ld, s, who, t->certificate, t->key, tls, 0);
	for (size_t i = 0; i < t->nsni; i++)
		errors += check_pair(ld, file_group(s, (int)i), who,
		    t->sni[i].certificate, t->sni[i].key, tls, i + 1);
	m->tls_free(tls);
	return errors;
}

/* Whether id is in the user namespace's map at path ("inside outside
 * count" lines, /proc/self/uid_map); a map that cannot be read, as
 * without user namespaces, maps every id. */
static bool
id_mapped(const char *path, unsigned long id)
{
	unsigned long in, out, n;
	bool found = false;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return true;
	while (!found && fscanf(f, "%lu %lu %lu", &in, &out, &n) == 3)
		found = id >= in && id - in < n;
	fclose(f);
	return found;
}

/*
 * With root, each connection's relay runs as an id of jail_ids
 * (tlsrelay.c): a user namespace that maps no such id (a container given
 * 65536 ids) would fail every connection at its setuid(), so the loader
 * says so at once.
 */
static unsigned
check_relay_ids(struct loader *ld, const config_setting_t *s, const char *who)
{
	const struct global_conf *g = &ld->cfg->global;

	if (geteuid() != 0)
		return 0;
	for (int i = 0; i < 2; i++) {
		const char *map = i ? "/proc/self/gid_map" : "/proc/self/uid_map";
		if (!id_mapped(map, g->jail_ids_first) ||
		    !id_mapped(map, g->jail_ids_last)) {
			cfgkeys_error(ld, s, who, "the relay runs as an id of "
			    "jail_ids (%lu-%lu), which this user namespace does "
			    "not map (%s): set jail_ids to a range it maps",
			    (unsigned long)g->jail_ids_first,
			    (unsigned long)g->jail_ids_last, map);
			return 1;
		}
	}
	return 0;
}

/*
 * own: the service's own group, not the sockd section's default, which
 * applies to TCP services that run a server and does not wait.
 */
unsigned
cfgtls_parse(struct loader *ld, const config_setting_t *s, bool own,
    const char *svcwho, struct svc_conf *sc)
{
	char who[CONFIG_NAME_MAX + 48];
	struct tls_conf *t;
	unsigned errors;

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_GROUP)
		return 0;
	if (sc->proto != PROTO_TCP || sc->builtin || sc->wait) {
		if (!own)
			return 0;
		cfgkeys_error(ld, s, svcwho, "tls: only for a TCP service that runs "
		    "a server and does not wait");
		return 1;
	}
	snprintf(who, sizeof(who), "%s: tls", svcwho);
	if ((errors = cfgkeys_check(ld, s, tls_keys, NULL, who)) != 0)
		return errors;
	if ((t = sc->tls = calloc(1, sizeof(*t))) == NULL)
		return 1;
	if ((errors = parse_values(ld, s, who, t)) != 0 ||
	    (errors = check_relay_ids(ld, s, who)) != 0)
		return errors;
	return check_files(ld, s, who, t);
}
