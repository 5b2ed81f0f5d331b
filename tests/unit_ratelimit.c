/* The token bucket, driven by a fake clock. */
#include <arpa/inet.h>

#include "persource.h"
#include "ratelimit.h"
#include "testutil.h"

START_TEST(burst_then_rate)
{
	struct bucket b;
	int64_t t = 1000000;
	int got = 0;

	ratelimit_init(&b, 5, 0, t);
	for (int i = 0; i < 10; i++)
		got += ratelimit_take(&b, t);
	ck_assert_int_eq(got, 5);		/* burst defaults to rate */
	ck_assert_int_eq(ratelimit_wait(&b, t), 200);
	ck_assert(!ratelimit_take(&b, t + 199));
	ck_assert_int_eq(ratelimit_wait(&b, t + 199), 1);
	ck_assert(ratelimit_take(&b, t + 200));
	ck_assert(!ratelimit_take(&b, t + 200));
	/* A long quiet refills up to the burst and no further. */
	got = 0;
	for (int i = 0; i < 10; i++)
		got += ratelimit_take(&b, t + 60000);
	ck_assert_int_eq(got, 5);
}
END_TEST

START_TEST(explicit_burst_and_full)
{
	struct bucket b;

	ratelimit_init(&b, 2, 4, 0);
	ck_assert(ratelimit_full(&b, 0));
	for (int i = 0; i < 4; i++)
		ck_assert(ratelimit_take(&b, 0));
	ck_assert(!ratelimit_take(&b, 0));
	ck_assert(!ratelimit_full(&b, 1000));	/* 2 of 4 back */
	ck_assert(ratelimit_full(&b, 2000));
	/* The clock going backwards never mints tokens. */
	ratelimit_init(&b, 1, 1, 5000);
	ck_assert(ratelimit_take(&b, 5000));
	ck_assert(!ratelimit_take(&b, 4000));
}
END_TEST

START_TEST(unlimited)
{
	struct bucket b;

	ratelimit_init(&b, 0, 0, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert(ratelimit_take(&b, 0));
	ck_assert_int_eq(ratelimit_wait(&b, 0), 0);
}
END_TEST

START_TEST(persource_slots)
{
	struct persource ps;
	struct addr a, b, k1, k2;
	struct source *s;

	persource_init(&ps, 64, 0, 0);
	addr_parse("2001:db8:1:2::5", &a);
	addr_parse("2001:db8:1:2:ffff::9", &b);
	k1 = persource_key(&ps, &a);
	k2 = persource_key(&ps, &b);
	ck_assert(addr_equal(&k1, &k2));	/* one /64 */
	for (int i = 0; i < 300; i++) {
		struct addr v4 = { .family = AF_INET };
		v4.u.v4.s_addr = htonl(0x0a000000 + i);
		ck_assert_ptr_nonnull(s = persource_get(&ps, &v4, 0));
		s->count++;
	}
	ck_assert_uint_eq(ps.tab.n, 300);
	ck_assert_ptr_nonnull(s = persource_get(&ps, &k1, 0));
	s->count += 2;
	persource_release(&ps, &k2, 0);
	ck_assert_uint_eq(persource_get(&ps, &k1, 0)->count, 1);
	persource_release(&ps, &k1, 0);
	ck_assert_uint_eq(ps.tab.n, 300);		/* freed with its last child */
	persource_free(&ps);
}
END_TEST

Suite *
ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");

	tu_tcase(s, "ratelimit", NULL, NULL, 0, burst_then_rate,
	    explicit_burst_and_full, unlimited, persource_slots, NULL);
	return s;
}
