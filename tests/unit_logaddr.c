/* log_addresses: what the log shows of a client address. */
#include "logaddr.h"
#include "testutil.h"

static const char *
shown(enum log_addresses mode, const char *ip)
{
	static char buf[LOGADDR_STRLEN];
	struct addr a;

	ck_assert_int_eq(addr_parse(ip, &a), 0);
	logaddr_set(mode);
	logaddr_format(&a, buf);
	logaddr_set(LOG_ADDRESSES_FULL);
	return buf;
}

START_TEST(full)
{
	ck_assert_str_eq(shown(LOG_ADDRESSES_FULL, "192.0.2.77"), "192.0.2.77");
	ck_assert_str_eq(shown(LOG_ADDRESSES_FULL, "2001:db8:1:2::7"), "2001:db8:1:2::7");
}
END_TEST

START_TEST(truncated)
{
	ck_assert_str_eq(shown(LOG_ADDRESSES_TRUNCATED, "192.0.2.77"), "192.0.2.0/24");
	ck_assert_str_eq(shown(LOG_ADDRESSES_TRUNCATED, "2001:db8:1:2::7"),
	    "2001:db8:1::/48");
	ck_assert_str_eq(shown(LOG_ADDRESSES_TRUNCATED,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "ffff:ffff:ffff::/48");
}
END_TEST

START_TEST(none)
{
	ck_assert_str_eq(shown(LOG_ADDRESSES_NONE, "192.0.2.77"), "-");
	ck_assert_str_eq(shown(LOG_ADDRESSES_NONE, "::1"), "-");
}
END_TEST

Suite *
logaddr_suite(void)
{
	Suite *s = suite_create("logaddr");
	TCase *tc = tcase_create("logaddr");

	tcase_add_test(tc, full);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, none);
	suite_add_tcase(s, tc);
	return s;
}
