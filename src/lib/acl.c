/*
 * Access lists: a prefix's match against an address, and the most
 * specific rule of only_from and no_access that decides. Pure: no
 * sockets, no logging.
 */
#include <stdlib.h>
#include <string.h>

#include "acl.h"

/* IPv4-mapped IPv6 (::ffff:a.b.c.d) compares as the IPv4 address it carries. */
static void
unmap(struct addr *a, unsigned *bits)
{
	if (a->family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&a->u.v6))
		return;
	struct in_addr v4;
	memcpy(&v4, &a->u.v6.s6_addr[12], 4);
	a->family = AF_INET;
	a->u.v4 = v4;
	if (bits)
		*bits = *bits > 96 ? *bits - 96 : 0;
}

int
acl_parse(const char *s, struct cidr *c)
{
	char buf[ADDR_STRLEN + 8], *slash, *end;
	unsigned max;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (addr_parse(buf, &c->net) == -1)
		return -1;
	max = c->net.family == AF_INET ? 32 : 128;
	c->bits = max;
	if (slash) {
		unsigned long b = strtoul(slash, &end, 10);
		if (*slash < '0' || *slash > '9' || *end != '\0' || b > max)
			return -1;
		c->bits = b;
	}
	if (c->net.family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&c->net.u.v6) &&
	    c->bits < 96)
		return -1;	/* half IPv4-mapped, half not: surely a typo */
	unmap(&c->net, &c->bits);
	addr_mask(&c->net, c->bits);
	return 0;
}

bool
acl_match(const struct cidr *c, const struct addr *client)
{
	struct addr a = *client;

	unmap(&a, NULL);
	if (a.family != c->net.family)
		return false;
	addr_mask(&a, c->bits);
	return addr_equal(&a, &c->net);
}

/* The longest prefix in l matching a, or -1. */
static int
longest(const struct acl *l, const struct addr *a)
{
	int best = -1;

	for (size_t i = 0; i < l->n; i++)
		if ((int)l->v[i].bits > best && acl_match(&l->v[i], a))
			best = l->v[i].bits;
	return best;
}

bool
acl_allows(const struct acl *only_from, const struct acl *no_access,
    const struct addr *a)
{
	int allow = longest(only_from, a), deny = longest(no_access, a);

	if (allow < 0 && deny < 0)
		return !only_from->set;
	return allow > deny;
}

void
acl_free(struct acl *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}
