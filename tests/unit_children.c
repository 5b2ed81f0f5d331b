#include "children.h"
#include "testutil.h"

START_TEST(add_take_many)
{
	struct children c = { 0 };
	struct child ch;
	struct service *tag = (struct service *)&c;

	/* Pids in a clustered range exercise probing and backward shifts. */
	for (pid_t p = 1000; p < 6000; p++)
		ck_assert_int_eq(children_add(&c, p, tag), 0);
	ck_assert_uint_eq(c.count, 5000);
	ck_assert(!children_take(&c, 999, &ch));
	for (pid_t p = 1000; p < 6000; p += 2) {
		ck_assert(children_take(&c, p, &ch));
		ck_assert_int_eq(ch.pid, p);
		ck_assert_ptr_eq(ch.svc, tag);
		ck_assert(!children_take(&c, p, &ch));
	}
	ck_assert_uint_eq(c.count, 2500);
	for (pid_t p = 1001; p < 6000; p += 2)
		ck_assert(children_take(&c, p, &ch));
	ck_assert_uint_eq(c.count, 0);
	children_free(&c);
}
END_TEST

START_TEST(take_from_empty)
{
	struct children c = { 0 };
	struct child ch;

	ck_assert(!children_take(&c, 1, &ch));
}
END_TEST

Suite *
children_suite(void)
{
	Suite *s = suite_create("children");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, add_take_many);
	tcase_add_test(tc, take_from_empty);
	suite_add_tcase(s, tc);
	return s;
}
