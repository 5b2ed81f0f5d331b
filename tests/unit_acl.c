/* CIDR parsing and the most-specific-prefix rule of only_from/no_access. */
#include <stdlib.h>

#include "acl.h"
#include "testutil.h"

static struct acl
list(const char *a, const char *b, const char *c)
{
	const char *v[] = { a, b, c };
	struct acl l = { .set = true };

	l.v = calloc(3, sizeof(*l.v));
	for (int i = 0; i < 3 && v[i]; i++)
		ck_assert_int_eq(acl_parse(v[i], &l.v[l.n++]), 0);
	return l;
}

static bool
allows(const struct acl *from, const struct acl *deny, const char *ip)
{
	struct addr a;

	ck_assert_int_eq(addr_parse(ip, &a), 0);
	return acl_allows(from, deny, &a);
}

START_TEST(parse)
{
	struct cidr c;
	char buf[ADDR_STRLEN];

	ck_assert_int_eq(acl_parse("10.1.2.3/8", &c), 0);
	addr_format(&c.net, buf);
	ck_assert_str_eq(buf, "10.0.0.0");
	ck_assert_uint_eq(c.bits, 8);
	ck_assert_int_eq(acl_parse("::1", &c), 0);
	ck_assert_uint_eq(c.bits, 128);
	ck_assert_int_eq(acl_parse("2001:db8::/32", &c), 0);
	ck_assert_int_eq(acl_parse("::ffff:192.168.0.0/112", &c), 0);
	ck_assert_int_eq(c.net.family, AF_INET);
	ck_assert_uint_eq(c.bits, 16);
	ck_assert_int_eq(acl_parse("10.0.0.0/33", &c), -1);
	ck_assert_int_eq(acl_parse("10.0.0.0/", &c), -1);
	ck_assert_int_eq(acl_parse("10.0.0.0/-1", &c), -1);
	ck_assert_int_eq(acl_parse("example.org", &c), -1);
	ck_assert_int_eq(acl_parse("::/129", &c), -1);
}
END_TEST

START_TEST(match_v4_v6_mapped)
{
	struct acl from = list("10.0.0.0/8", "2001:db8::/32", NULL), none = { 0 };

	ck_assert(allows(&from, &none, "10.200.3.4"));
	ck_assert(!allows(&from, &none, "11.0.0.1"));
	ck_assert(allows(&from, &none, "2001:db8:1::5"));
	ck_assert(!allows(&from, &none, "2001:db9::5"));
	/* A client on a dual-stack socket reads as the IPv4 it carries. */
	ck_assert(allows(&from, &none, "::ffff:10.9.9.9"));
	ck_assert(!allows(&from, &none, "::ffff:11.9.9.9"));
	acl_free(&from);
}
END_TEST

START_TEST(most_specific_wins)
{
	struct acl from = list("10.1.2.0/24", "0.0.0.0/0", NULL);
	struct acl deny = list("10.0.0.0/8", "10.1.2.3", NULL), none = { 0 };

	ck_assert(!allows(&from, &deny, "10.5.5.5"));	/* /8 deny beats /0 */
	ck_assert(allows(&from, &deny, "10.1.2.4"));	/* /24 allow beats /8 */
	ck_assert(!allows(&from, &deny, "10.1.2.3"));	/* /32 deny beats /24 */
	ck_assert(allows(&from, &deny, "192.0.2.1"));	/* only /0 */
	/* No only_from: what matches nothing is allowed. */
	ck_assert(allows(&none, &deny, "192.0.2.1"));
	ck_assert(!allows(&none, &deny, "10.0.0.1"));
	/* An empty but present only_from admits nobody. */
	struct acl empty = { .set = true };
	ck_assert(!allows(&empty, &none, "127.0.0.1"));
	/* A tie goes to no_access. */
	struct acl same = list("10.0.0.0/8", NULL, NULL);
	ck_assert(!allows(&same, &same, "10.0.0.1"));
	acl_free(&from);
	acl_free(&deny);
	acl_free(&same);
}
END_TEST

Suite *
acl_suite(void)
{
	Suite *s = suite_create("acl");

	tu_tcase(s, "acl", NULL, NULL, 0, parse, match_v4_v6_mapped,
	    most_specific_wins, NULL);
	return s;
}
