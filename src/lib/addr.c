/*
 * IP address literals and struct addr: parsing (with scope ids), prefix
 * comparison and formatting for logs and the environment. A leaf.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

int
addr_parse(const char *s, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->u.v4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->u.v6) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

bool
addr_is_any(const struct addr *a)
{
	if (a->family == AF_INET)
		return a->u.v4.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&a->u.v6);
}

bool
addr_equal(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->u.v4.s_addr == b->u.v4.s_addr;
	return IN6_ARE_ADDR_EQUAL(&a->u.v6, &b->u.v6);
}

/*
 * Whether two listening addresses on the same port would collide in bind():
 * the same address, or a wildcard of the same family, or the IPv6 wildcard
 * (which accepts IPv4 too unless IPV6_V6ONLY is set).
 */
bool
addr_overlap(const struct addr *a, const struct addr *b)
{
	if (a->family == b->family)
		return addr_equal(a, b) || addr_is_any(a) || addr_is_any(b);
	if (a->family == AF_INET6)
		return addr_is_any(a);
	return addr_is_any(b);
}

socklen_t
addr_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->u.v4;
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = a->u.v6;
	return sizeof(*sin6);
}

/* A unix peer's key (peercred.h) reads "uid N". */
void
addr_format(const struct addr *a, char buf[ADDR_STRLEN])
{
	if (a->family == AF_UNIX)
		snprintf(buf, ADDR_STRLEN, "uid %u", (unsigned)a->u.v4.s_addr);
	else if (inet_ntop(a->family, &a->u, buf, ADDR_STRLEN) == NULL)
		strcpy(buf, "?");
}

/* IPv4-mapped IPv6 peers come back as plain IPv4, so they read the same everywhere. */
int
addr_from_sockaddr(const struct sockaddr *sa, struct addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		a->family = AF_INET;
		a->u.v4 = sin->sin_addr;
		*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		*port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			a->family = AF_INET;
			memcpy(&a->u.v4, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			a->family = AF_INET6;
			a->u.v6 = sin6->sin6_addr;
		}
		return 0;
	}
	return -1;
}

void
addr_mask(struct addr *a, unsigned bits)
{
	uint8_t *p = a->family == AF_INET ? (uint8_t *)&a->u.v4 : a->u.v6.s6_addr;
	unsigned len = a->family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < len; i++, bits = bits > 8 ? bits - 8 : 0)
		if (bits < 8)
			p[i] &= (uint8_t)(0xff00 >> bits);
}

bool
addr_is_group(const struct addr *a)
{
	if (a->family == AF_INET)
		return a->u.v4.s_addr == htonl(INADDR_BROADCAST) ||
		    IN_MULTICAST(ntohl(a->u.v4.s_addr));
	return IN6_IS_ADDR_MULTICAST(&a->u.v6);
}
