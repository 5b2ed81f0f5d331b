/* The pool of jailed handlers' own ids: each given once, next-fit. */
#include "idpool.h"
#include "testutil.h"

START_TEST(every_id_once)
{
	struct idpool p;
	uid_t seen[130];

	ck_assert_int_eq(idpool_init(&p, 5000, 5129), 0);
	for (int i = 0; i < 130; i++) {
		seen[i] = idpool_get(&p);
		ck_assert_uint_eq(seen[i], 5000 + i);
	}
	ck_assert_uint_eq(idpool_get(&p), 0);		/* all in use */
	idpool_put(&p, 5070);
	ck_assert_uint_eq(idpool_get(&p), 5070);
	ck_assert_uint_eq(idpool_get(&p), 0);
	idpool_free(&p);
}
END_TEST

/* An id given back is the last to be given again. */
START_TEST(next_fit)
{
	struct idpool p;

	ck_assert_int_eq(idpool_init(&p, 1000, 1999), 0);
	ck_assert_uint_eq(idpool_get(&p), 1000);
	idpool_put(&p, 1000);
	ck_assert_uint_eq(idpool_get(&p), 1001);
	ck_assert_uint_eq(idpool_get(&p), 1002);
	idpool_free(&p);
}
END_TEST

/* Ids taken (adopted, or found running) are skipped; outside ids ignored. */
START_TEST(taken_and_outside)
{
	struct idpool p;

	ck_assert_int_eq(idpool_init(&p, 1000, 1003), 0);
	ck_assert(idpool_take(&p, 1000));
	ck_assert(!idpool_take(&p, 1000));
	ck_assert(!idpool_take(&p, 999));
	ck_assert(idpool_take(&p, 1002));
	ck_assert_uint_eq(idpool_get(&p), 1001);
	ck_assert_uint_eq(idpool_get(&p), 1003);
	ck_assert_uint_eq(idpool_get(&p), 0);
	idpool_put(&p, 4000);
	idpool_put(&p, 1002);
	idpool_put(&p, 1002);				/* twice: once counted */
	ck_assert_uint_eq(idpool_get(&p), 1002);
	ck_assert_uint_eq(idpool_get(&p), 0);
	idpool_free(&p);
	ck_assert_int_eq(idpool_init(&p, 0, 10), -1);	/* 0 is root */
	ck_assert_int_eq(idpool_init(&p, 10, 9), -1);
}
END_TEST

Suite *
idpool_suite(void)
{
	Suite *s = suite_create("idpool");

	tu_tcase(s, "idpool", NULL, NULL, 0, every_id_once, next_fit,
	    taken_and_outside, NULL);
	return s;
}
