/*
 * The loader's private interface, shared by config.c and the cfg*.c files
 * that fill struct config from libconfig settings. This is the only header
 * that brings in libconfig; the rest of sockd includes config.h alone.
 */
#ifndef SOCKD_CFGLOAD_H
#define SOCKD_CFGLOAD_H

#include <stdbool.h>

#include <libconfig.h>

#include "cfgscan.h"
#include "config.h"
#include "keys.h"

/* State of one config_load() call. */
struct loader {
	struct config *cfg;
	struct cfgerr *err;
	char *dir;		/* absolute directory of the main file */
	struct cfgscan scan;	/* the files libconfig reads, checked first */
	const config_setting_t *global;	/* the "sockd" group, or NULL */
	bool mute_global;	/* its errors were reported once already */
	bool checked;		/* a checking child loaded it: jails tried */
	bool tlsmod_said;	/* the TLS module's failure was reported */
	/* Settings written by the loader itself (cfginetd.c) carry no
	 * position: their errors point here instead. */
	const char *origin_file;
	int origin_line;
};

/* cfgkeys.c: the key schema (keys.h) and the typed getters. */

/* The file that setting s was read from, as the user named it. */
const char *cfgkeys_file(struct loader *, const config_setting_t *s);
/* An error about setting s, prefixed with who it belongs to (may be NULL). */
void cfgkeys_error(struct loader *, const config_setting_t *s, const char *who,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same as a warning, which does not fail the load. */
void cfgkeys_warning(struct loader *, const config_setting_t *s, const char *who,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Unknown keys and wrong types in a group; returns the error count. */
unsigned cfgkeys_check(struct loader *, const config_setting_t *grp,
    const struct keyspec *spec, const struct keyspec *extra, const char *who);
bool cfgkeys_matches(enum ktype, const config_setting_t *s);

/*
 * The getters read keys whose types cfgkeys_check() has already verified;
 * a key of the wrong type reads as absent, and a NULL group holds nothing.
 */
/* Whether grp lacks key, reported as an error when it does. */
bool cfgkeys_missing(struct loader *, const config_setting_t *grp,
    const char *key, const char *who);
const char *cfgkeys_string(const config_setting_t *grp, const char *key);
void cfgkeys_bool(const config_setting_t *grp, const char *key, bool *out);
/* An octal mode string ("027") into *out; returns the errors reported. */
unsigned cfgkeys_mode(struct loader *, const config_setting_t *s,
    const char *key, const char *example, const char *who, int *out);
/* A K_ONE_OR_MORE setting: its length (-1 when absent or mistyped), element i. */
int cfgkeys_one_or_more_len(const config_setting_t *s);
const char *cfgkeys_one_or_more_elem(const config_setting_t *s, int i);
/* A user or group number alone (names: usersdb.h). */
bool cfgkeys_id_number(const char *, unsigned long *);
/* The group that sets a control key for the service: grp, or the global
 * section (its default); and that key's setting, or NULL. */
const config_setting_t *cfgkeys_holder(struct loader *,
    const config_setting_t *grp, const char *key);
config_setting_t *cfgkeys_pick(struct loader *, const config_setting_t *grp,
    const char *key);
/* Element i of s (a string or a list), or s where it carries no line. */
const config_setting_t *cfgkeys_elem_at(const config_setting_t *s, int i);
/* An access list key (CIDRs) of the service or else its default. */
unsigned cfgkeys_acl(struct loader *, const config_setting_t *grp,
    const char *key, const char *who, struct acl *);
/* A string key as an absolute path, relative to the main file; malloc'd. */
char *cfgkeys_path(struct loader *, const config_setting_t *grp,
    const char *key);
/*
 * The integer setting s, named key in errors, within [min, max]. Returns 1
 * when set and valid, 0 when absent, -1 after reporting an error.
 */
int cfgkeys_int(struct loader *, const config_setting_t *s, const char *key,
    long long min, long long max, const char *who, long long *out);
/*
 * The integer key of grp into *out when it is within [min, max]; *out is
 * left alone when the key is absent. Returns the errors reported. The
 * _needed variant also reports an absent key.
 */
unsigned cfgkeys_uint(struct loader *, const config_setting_t *grp,
    const char *key, long long min, long long max, const char *who,
    unsigned *out);
/* A KEY_PLAIN key of grp into its field of base (a struct svc_conf). */
unsigned cfgkeys_plain(struct loader *, const config_setting_t *grp,
    const struct keyspec *, const char *who, void *base);
unsigned cfgkeys_uint_needed(struct loader *, const config_setting_t *grp,
    const char *key, long long min, long long max, const char *who,
    unsigned *out);
/*
 * A string key that must be one of words[]: returns the index, -1 when
 * absent, -2 after reporting an error.
 */
int cfgkeys_enum(struct loader *, const config_setting_t *grp,
    const char *key, const char *const words[], const char *who);

/* cfgtls.c: the "tls" group, a control: its files read and checked. */
unsigned cfgtls_parse(struct loader *, const config_setting_t *s, bool own,
    const char *who, struct svc_conf *);
void cfgtls_free(struct tls_conf *);

/* cfgcontrols.c: the per-service keys the global section may default
 * (keys_controls). */
unsigned cfgcontrols_parse(struct loader *, const config_setting_t *grp,
    const char *who, struct svc_conf *);
unsigned cfgcontrols_check_exec(struct loader *, const config_setting_t *s,
    const char *who, const struct svc_conf *);

/* cfgproxy.c: the PROXY protocol keys, read by cfgcontrols_parse(). */
unsigned cfgproxy_parse(struct loader *, const config_setting_t *grp,
    const char *who, struct svc_conf *);

/* cfgsockopt.c: the socket option keys, read by cfgcontrols_parse(). */
unsigned cfgsockopt_parse(struct loader *, const config_setting_t *grp,
    const char *who, struct svc_conf *);

/* cfgjail.c: the "jail" group, a control too. */
unsigned cfgjail_parse(struct loader *, const config_setting_t *s, bool own,
    const char *who, struct svc_conf *);
void cfgjail_free(struct jail_conf *);
/* cfgseccomp.c: a jail's "seccomp" group, compiled into j's filter. */
unsigned cfgseccomp_parse(struct loader *, const char *who,
    const config_setting_t *grp, struct jail_conf *j);

/* cfgservice.c: one service section, and the rules across services. */
unsigned cfgservice_parse(struct loader *, const config_setting_t *grp,
    int index, struct svc_conf *);
void cfgservice_free(struct svc_conf *);
unsigned cfgservice_check_unique(struct loader *);

/* cfgunix.c: the keys of protocol "unix" services. */
unsigned cfgunix_parse(struct loader *, const config_setting_t *grp,
    const char *who, struct svc_conf *);
unsigned cfgunix_check_unique(struct loader *);
void cfgunix_free(struct svc_conf *);

/* cfginetd.c: the services of inetd_conf; where is that key's setting. */
unsigned cfginetd_parse(struct loader *, const config_setting_t *where);

/* cfgglobal.c: the "sockd" section. */
unsigned cfgglobal_parse(struct loader *, const config_setting_t *grp);

#endif
