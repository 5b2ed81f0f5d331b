#include <arpa/inet.h>
#include <string.h>

#include "addr.h"
#include "testutil.h"

START_TEST(parse_and_format)
{
	struct addr a;
	char buf[ADDR_STRLEN];

	ck_assert_int_eq(addr_parse("127.0.0.1", &a), 0);
	ck_assert_int_eq(a.family, AF_INET);
	addr_format(&a, buf);
	ck_assert_str_eq(buf, "127.0.0.1");
	ck_assert_int_eq(addr_parse("::1", &a), 0);
	ck_assert_int_eq(a.family, AF_INET6);
	addr_format(&a, buf);
	ck_assert_str_eq(buf, "::1");
	ck_assert_int_eq(addr_parse("localhost", &a), -1);
	ck_assert_int_eq(addr_parse("1.2.3", &a), -1);
	ck_assert_int_eq(addr_parse("", &a), -1);
}
END_TEST

START_TEST(overlap)
{
	struct addr any4, any6, lo, lo2, lo6;

	addr_parse("0.0.0.0", &any4);
	addr_parse("::", &any6);
	addr_parse("127.0.0.1", &lo);
	addr_parse("127.0.0.2", &lo2);
	addr_parse("::1", &lo6);
	ck_assert(addr_overlap(&lo, &lo));
	ck_assert(!addr_overlap(&lo, &lo2));
	ck_assert(addr_overlap(&any4, &lo2));
	ck_assert(addr_overlap(&lo, &any4));
	ck_assert(!addr_overlap(&lo, &lo6));
	ck_assert(addr_overlap(&any6, &lo));	/* dual-stack wildcard */
	ck_assert(addr_overlap(&lo, &any6));
	ck_assert(!addr_overlap(&any4, &lo6));
}
END_TEST

START_TEST(mapped_peer_reads_as_ipv4)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(4242) };
	struct addr a;
	uint16_t port;
	char buf[ADDR_STRLEN];

	inet_pton(AF_INET6, "::ffff:10.1.2.3", &sin6.sin6_addr);
	ck_assert_int_eq(addr_from_sockaddr((struct sockaddr *)&sin6, &a, &port), 0);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_uint_eq(port, 4242);
	addr_format(&a, buf);
	ck_assert_str_eq(buf, "10.1.2.3");
}
END_TEST

START_TEST(sockaddr_roundtrip)
{
	struct sockaddr_storage ss;
	struct addr a, b;
	uint16_t port;

	addr_parse("fe80::1", &a);
	ck_assert_uint_eq(addr_sockaddr(&a, 99, &ss), sizeof(struct sockaddr_in6));
	addr_from_sockaddr((struct sockaddr *)&ss, &b, &port);
	ck_assert(addr_equal(&a, &b));
	ck_assert_uint_eq(port, 99);
}
END_TEST

Suite *
addr_suite(void)
{
	Suite *s = suite_create("addr");

	tu_tcase(s, "addr", NULL, NULL, 0, parse_and_format, overlap,
	    mapped_peer_reads_as_ipv4, sockaddr_roundtrip, NULL);
	return s;
}
