/*
 * The PROXY protocol keys of a service, or their defaults from the "sockd"
 * section: proxy_protocol, proxy_from, proxy_timeout and proxy_pending.
 * Checks at load time that a service taking headers says whom from and
 * can take them (a TCP service that accepts); never reads a header
 * (proxywait.c does).
 */
#include <stddef.h>

#include "cfgload.h"
#include "proxyproto.h"

#define DEFAULT_TIMEOUT_S 5
/*
 * A balancer sends its header with its first bytes, so a few connections
 * wait for one at a time; the rest of the places are for a burst.
 */
#define DEFAULT_PENDING 256
#define MAX_PENDING 65536

static const char *const mode_words[] = { "off", "v1", "v2", "any", NULL };
static const unsigned mode_bits[] = { 0, PROXYPROTO_V1, PROXYPROTO_V2,
    PROXYPROTO_V1 | PROXYPROTO_V2 };

/*
 * A service that does not accept connections itself (UDP, wait) cannot
 * take headers: an error when it asks for them, nothing when the global
 * default does.
 */
static unsigned
check_kind(struct loader *ld, const config_setting_t *grp,
    const config_setting_t *from, const char *who, struct svc_conf *sc)
{
	if (sc->proto == PROTO_TCP && !sc->wait)
		return 0;
	if (grp == NULL || from != grp) {
		sc->proxy_protocol = 0;
		return 0;
	}
	cfgkeys_error(ld, config_setting_get_member(grp, "proxy_protocol"), who,
	    "proxy_protocol: only a TCP service with wait = false accepts "
	    "connections (and their headers) itself");
	return 1;
}

unsigned
cfgproxy_parse(struct loader *ld, const config_setting_t *grp,
    const char *who, struct svc_conf *sc)
{
	const config_setting_t *from = cfgkeys_holder(ld, grp,
	    "proxy_protocol");
	unsigned errors = 0, secs = DEFAULT_TIMEOUT_S;

	sc->proxy_pending = DEFAULT_PENDING;
	int mode = cfgkeys_enum(ld, from, "proxy_protocol", mode_words, who);

	errors += mode == -2;
	sc->proxy_protocol = mode >= 0 ? mode_bits[mode] : 0;
	errors += cfgkeys_acl(ld, grp, "proxy_from", who, &sc->proxy_from);
	errors += cfgkeys_uint(ld, cfgkeys_holder(ld, grp, "proxy_timeout"),
	    "proxy_timeout", 1, 3600, who, &secs);
	sc->proxy_timeout = secs * 1000;
	errors += cfgkeys_uint(ld, cfgkeys_holder(ld, grp, "proxy_pending"),
	    "proxy_pending", 1, MAX_PENDING, who, &sc->proxy_pending);
	if (errors || sc->proxy_protocol == 0)
		return errors;
	if ((errors = check_kind(ld, grp, from, who, sc)) != 0 ||
	    sc->proxy_protocol == 0)
		return errors;
	if (sc->proxy_from.n == 0) {
		cfgkeys_error(ld, config_setting_get_member(from, "proxy_protocol"),
		    who, "proxy_protocol: set proxy_from to the balancers' "
		    "addresses; a header is taken from them alone");
		return 1;
	}
	return 0;
}
