/*
 * Per-client state: the key (IPv4 whole, IPv6 by prefix), counts that go
 * and come back, entries that vanish once empty and full again, and the
 * table growing past its first heads without losing one.
 */
#include <stdio.h>

#include "persource.h"
#include "testutil.h"

static struct addr
ip(const char *s)
{
	struct addr a;

	ck_assert_int_eq(addr_parse(s, &a), 0);
	return a;
}

START_TEST(ipv6_counts_by_prefix)
{
	struct persource ps;
	struct addr a = ip("2001:db8:1:2::5"), b = ip("2001:db8:1:2:ffff::9"),
	    c = ip("2001:db8:1:3::5");
	struct addr ka, kb, kc;

	persource_init(&ps, 64, 0, 0);
	ka = persource_key(&ps, &a);
	kb = persource_key(&ps, &b);
	kc = persource_key(&ps, &c);
	ck_assert(addr_equal(&ka, &kb));
	ck_assert(!addr_equal(&ka, &kc));
	ck_assert_ptr_eq(persource_get(&ps, &ka, 0), persource_get(&ps, &kb, 0));
	persource_free(&ps);
}
END_TEST

START_TEST(count_and_release)
{
	struct persource ps;
	struct addr k = ip("192.0.2.1");
	struct source *s;

	persource_init(&ps, 64, 0, 0);
	s = persource_get(&ps, &k, 0);
	s->count = 2;
	persource_release(&ps, &k, 0);
	ck_assert_ptr_eq(persource_get(&ps, &k, 0), s);
	ck_assert_uint_eq(s->count, 1);
	persource_release(&ps, &k, 0);
	ck_assert_uint_eq(ps.tab.n, 0);		/* empty, no bucket: gone */
	persource_free(&ps);
}
END_TEST

/* With source_rate, an entry outlives its children until its bucket is
 * full again: a client cannot reset its rate by reconnecting. */
START_TEST(bucket_keeps_entry)
{
	struct persource ps;
	struct addr k = ip("192.0.2.2");
	struct source *s;

	persource_init(&ps, 64, 1, 1);
	s = persource_get(&ps, &k, 1000);
	ck_assert(ratelimit_take(&s->bucket, 1000));
	s->count = 1;
	persource_release(&ps, &k, 1000);
	ck_assert_uint_eq(ps.tab.n, 1);
	s = persource_get(&ps, &k, 1000);
	ck_assert(!ratelimit_take(&s->bucket, 1000));
	persource_free(&ps);
}
END_TEST

START_TEST(grows_without_losing)
{
	struct persource ps;
	char name[32];

	persource_init(&ps, 64, 0, 0);
	for (int i = 0; i < 1000; i++) {
		struct addr k;
		snprintf(name, sizeof(name), "10.0.%d.%d", i / 256, i % 256);
		k = ip(name);
		persource_get(&ps, &k, 0)->count = 1;
	}
	ck_assert_uint_eq(ps.tab.n, 1000);
	for (int i = 0; i < 1000; i++) {
		struct addr k;
		snprintf(name, sizeof(name), "10.0.%d.%d", i / 256, i % 256);
		k = ip(name);
		ck_assert_uint_eq(persource_get(&ps, &k, 0)->count, 1);
	}
	ck_assert_uint_eq(ps.tab.n, 1000);
	persource_free(&ps);
}
END_TEST

Suite *
persource_suite(void)
{
	Suite *s = suite_create("persource");

	tu_tcase(s, "persource", NULL, NULL, 0, ipv6_counts_by_prefix,
	    count_and_release, bucket_keeps_entry, grows_without_losing, NULL);
	return s;
}
