/*
 * The socket option keys of a service, or their defaults from the "sockd"
 * section, into struct sockopts. Checks at load time what the kernel
 * would refuse later: ranges, a network interface that does not exist,
 * keepalive timings without keepalive, TCP options on a UDP service.
 * Never touches a socket (sockopt.c does).
 */
#include <net/if.h>
#include <stddef.h>
#include <string.h>

#include "cfgload.h"

/* The integer keys; min and max are what the kernel takes. */
static const struct {
	const char *key;
	long long min, max;
	size_t off;
	bool tcp;
} ints[] = {
	{ "keepalive_idle", 1, 32767, offsetof(struct sockopts, keepidle), true },
	{ "keepalive_interval", 1, 32767, offsetof(struct sockopts, keepintvl), true },
	{ "keepalive_count", 1, 127, offsetof(struct sockopts, keepcnt), true },
	{ "defer_accept", 0, 3600, offsetof(struct sockopts, defer_accept), true },
	{ "fastopen", 0, 65535, offsetof(struct sockopts, fastopen), true },
	{ "rcvbuf", 1024, 1 << 30, offsetof(struct sockopts, rcvbuf), false },
	{ "sndbuf", 1024, 1 << 30, offsetof(struct sockopts, sndbuf), false },
};

static const struct {
	const char *key;
	size_t off;
	bool tcp;
} bools[] = {
	{ "keepalive", offsetof(struct sockopts, keepalive), true },
	{ "nodelay", offsetof(struct sockopts, nodelay), true },
	{ "reuseport", offsetof(struct sockopts, reuseport), false },
	{ "freebind", offsetof(struct sockopts, freebind), false },
};

/*
 * A TCP option on a UDP service: an error where the service sets it, and
 * nothing where it is the global default. True when the key is skipped.
 */
static bool
not_for_udp(struct loader *ld, const config_setting_t *grp, const char *key,
    const char *who, const struct svc_conf *sc, unsigned *errors)
{
	if (sc->proto == PROTO_TCP || grp == NULL ||
	    config_setting_get_member(grp, key) == NULL)
		return sc->proto != PROTO_TCP;
	cfgkeys_error(ld, config_setting_get_member(grp, key), who,
	    "%s: a TCP option, and the service is UDP", key);
	(*errors)++;
	return true;
}

static unsigned
unix_key(struct loader *ld, const config_setting_t *grp, const char *key,
    const char *who)
{
	const config_setting_t *s = config_setting_get_member(grp, key);

	if (s == NULL)
		return 0;
	cfgkeys_error(ld, s, who, "%s: a socket option for TCP and UDP, and "
	    "the service is unix", key);
	return 1;
}

/*
 * A UNIX-domain service takes none of these: an error where the service
 * sets one, nothing where it is the global default.
 */
static unsigned
not_for_unix(struct loader *ld, const config_setting_t *grp, const char *who)
{
	unsigned errors = 0;

	for (size_t i = 0; grp && i < sizeof(ints) / sizeof(ints[0]); i++)
		errors += unix_key(ld, grp, ints[i].key, who);
	for (size_t i = 0; grp && i < sizeof(bools) / sizeof(bools[0]); i++)
		errors += unix_key(ld, grp, bools[i].key, who);
	return grp ? errors + unix_key(ld, grp, "interface", who) : 0;
}

static unsigned
parse_interface(struct loader *ld, const config_setting_t *grp,
    const char *who, struct sockopts *so)
{
	const config_setting_t *from = cfgkeys_holder(ld, grp, "interface");
	const char *name = cfgkeys_string(from, "interface");

	if (name == NULL)
		return 0;
	if (name[0] == '\0' || strlen(name) >= IFNAMSIZ ||
	    if_nametoindex(name) == 0) {
		cfgkeys_error(ld, config_setting_get_member(from, "interface"), who,
		    "interface \"%s\": no such network interface", name);
		return 1;
	}
	strcpy(so->interface, name);
	return 0;
}

unsigned
cfgsockopt_parse(struct loader *ld, const config_setting_t *grp,
    const char *who, struct svc_conf *sc)
{
	struct sockopts *so = &sc->so;
	const config_setting_t *from;
	unsigned errors = 0;

	if (sc->proto == PROTO_UNIX)
		return not_for_unix(ld, grp, who);
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		if (ints[i].tcp && not_for_udp(ld, grp, ints[i].key, who, sc,
		    &errors))
			continue;
		errors += cfgkeys_uint(ld, cfgkeys_holder(ld, grp,
		    ints[i].key), ints[i].key, ints[i].min, ints[i].max, who,
		    (unsigned *)((char *)so + ints[i].off));
	}
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (!bools[i].tcp || !not_for_udp(ld, grp, bools[i].key, who,
		    sc, &errors))
			cfgkeys_bool(cfgkeys_holder(ld, grp, bools[i].key),
			    bools[i].key, (bool *)((char *)so + bools[i].off));
	errors += parse_interface(ld, grp, who, so);
	if (!so->keepalive && (so->keepidle || so->keepintvl || so->keepcnt)) {
		const char *key = so->keepidle ? "keepalive_idle" :
		    so->keepintvl ? "keepalive_interval" : "keepalive_count";
		from = cfgkeys_holder(ld, grp, key);
		cfgkeys_error(ld, config_setting_get_member(from, key), who,
		    "%s: set keepalive = true too", key);
		errors++;
	}
	return errors;
}
