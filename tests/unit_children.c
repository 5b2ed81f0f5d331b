#include <stdlib.h>

#include "children.h"
#include "testutil.h"

static struct child *
add(struct children *c, pid_t pid)
{
	struct child *ch = calloc(1, sizeof(*ch));

	ck_assert_ptr_nonnull(ch);
	ch->pid = pid;
	ck_assert_int_eq(children_reserve(c), 0);
	children_add(c, ch);
	return ch;
}

START_TEST(add_take_many)
{
	struct children c = { 0 };
	static struct child *rec[6000];
	struct child *ch;

	/* Pids in a clustered range exercise probing and backward shifts. */
	for (pid_t p = 1000; p < 6000; p++)
		rec[p] = add(&c, p);
	ck_assert_uint_eq(c.count, 5000);
	ck_assert_ptr_null(children_take(&c, 999));
	ck_assert_ptr_null(children_find(&c, 6000));
	for (pid_t p = 1000; p < 6000; p += 2) {
		ck_assert_ptr_eq(children_find(&c, p), rec[p]);
		ch = children_take(&c, p);
		ck_assert_ptr_eq(ch, rec[p]);
		ck_assert_int_eq(ch->pid, p);
		ck_assert_ptr_null(children_take(&c, p));
		ck_assert_ptr_null(children_find(&c, p));
		free(ch);
	}
	ck_assert_uint_eq(c.count, 2500);
	/* The records that stayed are the same objects, however the table moved. */
	for (pid_t p = 1001; p < 6000; p += 2)
		ck_assert_ptr_eq(children_find(&c, p), rec[p]);
	for (pid_t p = 1001; p < 6000; p += 2) {
		ch = children_take(&c, p);
		ck_assert_ptr_eq(ch, rec[p]);
		free(ch);
	}
	ck_assert_uint_eq(c.count, 0);
	children_free(&c);
}
END_TEST

START_TEST(take_from_empty)
{
	struct children c = { 0 };

	ck_assert_ptr_null(children_take(&c, 1));
	ck_assert_ptr_null(children_find(&c, 1));
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
