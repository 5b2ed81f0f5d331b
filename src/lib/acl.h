/*
 * Access lists: CIDR prefixes and the most-specific-match rule that
 * decides between only_from and no_access.
 */
#ifndef SOCKD_ACL_H
#define SOCKD_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct cidr {
	struct addr net;	/* host bits cleared; IPv4-mapped stored as IPv4 */
	unsigned bits;
};

struct acl {
	struct cidr *v;
	size_t n;
	bool set;		/* present in the configuration, even if empty */
};

/* "10.0.0.0/8", "::1", "2001:db8::/32"; returns -1 when malformed. */
int acl_parse(const char *, struct cidr *);
bool acl_match(const struct cidr *, const struct addr *);
/*
 * Whether a client may connect: the longest matching prefix of either
 * list decides (no_access wins a tie); a client matching neither is
 * allowed only when only_from is not set.
 */
bool acl_allows(const struct acl *only_from, const struct acl *no_access,
    const struct addr *);
void acl_free(struct acl *);

#endif
