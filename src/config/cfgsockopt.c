/*
 * The socket option keys of a service (KEY_SOCKOPT in keys_controls), or
 * their defaults from the "sockd" section, into struct sockopts. Checks at load time what the kernel
 * would refuse later: ranges, a network interface that does not exist,
 * keepalive timings without keepalive, TCP options on a UDP service.
 * Never touches a socket (sockopt.c does).
 */
#include <net/if.h>
#include <string.h>

#include "cfgload.h"

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

	for (const struct keyspec *k = keys_controls; grp && k->name; k++)
		if (k->flags & KEY_SOCKOPT)
			errors += unix_key(ld, grp, k->name, who);
	return errors;
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
	for (const struct keyspec *k = keys_controls; k->name; k++) {
		if ((k->flags & (KEY_PLAIN | KEY_SOCKOPT)) !=
		    (KEY_PLAIN | KEY_SOCKOPT) || ((k->flags & KEY_TCP) &&
		    not_for_udp(ld, grp, k->name, who, sc, &errors)))
			continue;
		errors += cfgkeys_plain(ld, cfgkeys_holder(ld, grp, k->name), k,
		    who, sc);
	}
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
