/*
 * The key schema and the typed getters. Checks each group against its
 * table of keys (unknown keys get a "did you mean"), then reads values
 * whose types are known to be right. Owns the FILE:LINE of every setting
 * error; never decides what a value means for a service.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "cfgload.h"

const char *
cfgkeys_file(struct loader *ld, const config_setting_t *s)
{
	const char *f = cfgscan_name(&ld->scan, config_setting_source_file(s));

	if (f == NULL && ld->origin_file && config_setting_source_line(s) == 0)
		return ld->origin_file;
	return f ? f : ld->cfg->path;
}

/*
 * One report, an error or a warning, about setting s: muted for the
 * defaults each service re-reads, placed at s's line or, for a setting a
 * loader made up (an inetd.conf line), at the line it stands for.
 */
static void
report(struct loader *ld, struct cfgerr *list, const char *prefix,
    const config_setting_t *s, const char *who, const char *fmt, va_list ap)
{
	char msg[900];
	int line;

	if (ld->mute_global)
		for (const config_setting_t *p = s; p; p = config_setting_parent(p))
			if (p == ld->global)
				return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	line = config_setting_source_line(s);
	if (line == 0 && ld->origin_file)
		line = ld->origin_line;
	cfgerr_add(list, cfgkeys_file(ld, s), line, "%s%s%s%s", prefix,
	    who ? who : "", who ? ": " : "", msg);
}

void
cfgkeys_error(struct loader *ld, const config_setting_t *s, const char *who,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(ld, ld->err, "", s, who, fmt, ap);
	va_end(ap);
}

/* A warning: the configuration loads, and -t and the log say it. */
void
cfgkeys_warning(struct loader *ld, const config_setting_t *s, const char *who,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(ld, &ld->cfg->warnings, "warning: ", s, who, fmt, ap);
	va_end(ap);
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

bool
cfgkeys_matches(enum ktype t, const config_setting_t *s)
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

unsigned
cfgkeys_check(struct loader *ld, const config_setting_t *grp,
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
				cfgkeys_error(ld, s, who, "unknown key '%s' (did you mean '%s'?)",
				    name, hint);
			else
				cfgkeys_error(ld, s, who, "unknown key '%s'", name);
			errors++;
		} else if (!cfgkeys_matches(k->type, s)) {
			cfgkeys_error(ld, s, who, "%s: expected %s", name, ktype_name(k->type));
			errors++;
		}
	}
	return errors;
}

/* A member of grp, or NULL when grp is NULL. */
static config_setting_t *
member(const config_setting_t *grp, const char *key)
{
	return grp ? config_setting_get_member(grp, key) : NULL;
}

bool
cfgkeys_missing(struct loader *ld, const config_setting_t *grp,
    const char *key, const char *who)
{
	if (member(grp, key) != NULL)
		return false;
	cfgkeys_error(ld, grp, who, "missing key '%s'", key);
	return true;
}

const char *
cfgkeys_string(const config_setting_t *grp, const char *key)
{
	config_setting_t *s = member(grp, key);

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
		return NULL;
	return config_setting_get_string(s);
}

void
cfgkeys_bool(const config_setting_t *grp, const char *key, bool *out)
{
	config_setting_t *s = member(grp, key);

	if (s && config_setting_type(s) == CONFIG_TYPE_BOOL)
		*out = config_setting_get_bool(s);
}

/*
 * Integers are read as 64-bit and range-checked here: libconfig 1.5 would
 * silently truncate a 64-bit literal read as int (4294967303 becomes 7).
 */
int
cfgkeys_int(struct loader *ld, const config_setting_t *s, const char *key,
    long long min, long long max, const char *who, long long *out)
{
	const char *big;
	long long v;

	if (s == NULL || (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64))
		return 0;
	if (cfgscan_bigint(&ld->scan, cfgkeys_file(ld, s),
	    config_setting_source_line(s), key, &big)) {
		cfgkeys_error(ld, s, who, "%s: %s is out of range (from %lld to %lld)",
		    key, big, min, max);
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		cfgkeys_error(ld, s, who, "%s: %lld is out of range (from %lld to %lld)",
		    key, v, min, max);
		return -1;
	}
	*out = v;
	return 1;
}

int
cfgkeys_enum(struct loader *ld, const config_setting_t *grp, const char *key,
    const char *const words[], const char *who)
{
	const char *v = cfgkeys_string(grp, key);
	char list[256] = "";

	if (v == NULL)
		return -1;
	for (int i = 0; words[i]; i++) {
		if (strcmp(v, words[i]) == 0)
			return i;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
		    i ? (words[i + 1] ? ", " : " or ") : "", words[i]);
	}
	cfgkeys_error(ld, config_setting_get_member(grp, key), who,
	    "%s \"%s\": expected %s", key, v, list);
	return -2;
}

unsigned
cfgkeys_uint(struct loader *ld, const config_setting_t *grp, const char *key,
    long long min, long long max, const char *who, unsigned *out)
{
	long long v;
	int r = cfgkeys_int(ld, member(grp, key), key, min, max, who, &v);

	if (r == 1)
		*out = v;
	return r == -1;
}

unsigned
cfgkeys_uint_needed(struct loader *ld, const config_setting_t *grp,
    const char *key, long long min, long long max, const char *who,
    unsigned *out)
{
	if (cfgkeys_missing(ld, grp, key, who))
		return 1;
	return cfgkeys_uint(ld, grp, key, min, max, who, out);
}

unsigned
cfgkeys_mode(struct loader *ld, const config_setting_t *s, const char *key,
    const char *example, const char *who, int *out)
{
	const char *str;
	char *end;
	long v;

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
		return 0;
	str = config_setting_get_string(s);
	v = strtol(str, &end, 8);
	if (*str == '\0' || *end != '\0' || v < 0 || v > 0777 || strlen(str) > 4) {
		cfgkeys_error(ld, s, who, "%s: \"%s\" is not an octal mode like "
		    "\"%s\"", key, str, example);
		return 1;
	}
	*out = v;
	return 0;
}

int
cfgkeys_one_or_more_len(const config_setting_t *s)
{
	if (s == NULL || !cfgkeys_matches(K_ONE_OR_MORE, s))
		return -1;
	return config_setting_type(s) == CONFIG_TYPE_STRING ? 1 :
	    config_setting_length(s);
}

const char *
cfgkeys_one_or_more_elem(const config_setting_t *s, int i)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING ?
	    config_setting_get_string(s) : config_setting_get_string_elem(s, i);
}

char *
cfgkeys_path(struct loader *ld, const config_setting_t *grp, const char *key)
{
	const char *rel = cfgkeys_string(grp, key);
	char *p;

	if (rel == NULL)
		return NULL;
	if (rel[0] == '/')
		return strdup(rel);
	if (asprintf(&p, "%s/%s", ld->dir, rel) == -1)
		return NULL;
	return p;
}

/*
 * A user or group number: all digits and below (uid_t)-1. Names go to
 * usersdb.c, the one lookup of every key that names a user or a group.
 */
bool
cfgkeys_id_number(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return *s >= '0' && *s <= '9' && *end == '\0' && errno == 0 &&
	    *v < (unsigned)-1;
}


/*
 * Controls: keys a service sets or takes from the sockd section's
 * default, for cfgcontrols.c and the files of its keys (cfgproxy.c,
 * cfgsockopt.c), which all read them here.
 */
/*
 * The group that sets a control key for the service: grp when it holds
 * the key, or else the global section with its default (may be NULL).
 */
unsigned
cfgkeys_plain(struct loader *ld, const config_setting_t *grp,
    const struct keyspec *k, const char *who, void *base)
{
	if (k->type == K_BOOL) {
		cfgkeys_bool(grp, k->name, (bool *)((char *)base + k->off));
		return 0;
	}
	return cfgkeys_uint(ld, grp, k->name, k->min, k->max, who,
	    (unsigned *)((char *)base + k->off));
}

const config_setting_t *
cfgkeys_holder(struct loader *ld, const config_setting_t *grp,
    const char *key)
{
	if (grp && config_setting_get_member(grp, key))
		return grp;
	return ld->global;
}

/* A control key of the service, or else its default from the global
 * section. */
config_setting_t *
cfgkeys_pick(struct loader *ld, const config_setting_t *grp, const char *key)
{
	const config_setting_t *from = cfgkeys_holder(ld, grp, key);

	return from ? config_setting_get_member(from, key) : NULL;
}

/* The element i of s for error positions (list elements carry their line). */
const config_setting_t *
cfgkeys_elem_at(const config_setting_t *s, int i)
{
	const config_setting_t *e = config_setting_type(s) == CONFIG_TYPE_STRING ?
	    s : config_setting_get_elem(s, i);

	return e && config_setting_source_line(e) > 0 ? e : s;
}

static unsigned
parse_acl(struct loader *ld, const config_setting_t *s, const char *key,
    const char *who, struct acl *acl)
{
	int n = cfgkeys_one_or_more_len(s);
	unsigned errors = 0;

	if (n < 0)
		return 0;
	acl->set = true;
	if (n == 0 || (acl->v = calloc(n, sizeof(*acl->v))) == NULL)
		return 0;
	for (int i = 0; i < n; i++) {
		const char *a = cfgkeys_one_or_more_elem(s, i);
		if (acl_parse(a, &acl->v[acl->n]) == -1) {
			cfgkeys_error(ld, cfgkeys_elem_at(s, i), who,
			    "%s: \"%s\" is not an address or a prefix like "
			    "\"10.0.0.0/8\"", key, a);
			errors++;
		} else
			acl->n++;
	}
	return errors;
}

/* An access list key of the service, or else its global default. */
unsigned
cfgkeys_acl(struct loader *ld, const config_setting_t *grp,
    const char *key, const char *who, struct acl *acl)
{
	return parse_acl(ld, cfgkeys_pick(ld, grp, key), key, who, acl);
}
