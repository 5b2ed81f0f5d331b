/* IP address literals: parsing, comparison and formatting. */
#ifndef SOCKD_ADDR_H
#define SOCKD_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_STRLEN INET6_ADDRSTRLEN

struct addr {
	sa_family_t family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
};

int addr_parse(const char *, struct addr *);
bool addr_is_any(const struct addr *);
bool addr_equal(const struct addr *, const struct addr *);
bool addr_overlap(const struct addr *, const struct addr *);
socklen_t addr_sockaddr(const struct addr *, uint16_t port, struct sockaddr_storage *);
void addr_format(const struct addr *, char buf[ADDR_STRLEN]);
int addr_from_sockaddr(const struct sockaddr *, struct addr *, uint16_t *port);
/* Clears all but the first bits of the address. */
void addr_mask(struct addr *, unsigned bits);
/* Broadcast (255.255.255.255) or multicast, IPv4 or IPv6. */
bool addr_is_group(const struct addr *);

#endif
