#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builtin.h"
#include "testutil.h"

START_TEST(find)
{
	ck_assert_ptr_nonnull(builtin_find("echo"));
	ck_assert_ptr_nonnull(builtin_find("time"));
	ck_assert_ptr_null(builtin_find("qotd"));
	ck_assert_ptr_null(builtin_find(""));
}
END_TEST

START_TEST(dgram_answers)
{
	char out[1024];
	const struct builtin *b;
	ssize_t n;

	b = builtin_find("echo");
	ck_assert_int_eq(b->dgram("abc", 3, out, sizeof(out)), 3);
	ck_assert_int_eq(memcmp(out, "abc", 3), 0);
	ck_assert_int_eq(b->dgram("", 0, out, sizeof(out)), 0);

	ck_assert_int_eq(builtin_find("discard")->dgram("x", 1, out, sizeof(out)), -1);

	n = builtin_find("time")->dgram("", 0, out, sizeof(out));
	ck_assert_int_eq(n, 4);
	unsigned long t = (unsigned long)(unsigned char)out[0] << 24 |
	    (unsigned char)out[1] << 16 | (unsigned char)out[2] << 8 | (unsigned char)out[3];
	ck_assert_uint_le(labs((long)(t - 2208988800UL - time(NULL))), 2);

	n = builtin_find("daytime")->dgram("", 0, out, sizeof(out));
	ck_assert_int_gt(n, 20);
	ck_assert_int_eq(memcmp(out + n - 2, "\r\n", 2), 0);

	n = builtin_find("chargen")->dgram("", 0, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, 512);
	ck_assert_int_eq(out[0], ' ');
	ck_assert_int_eq(out[74], '!');	/* the second line starts one further */
}
END_TEST

Suite *
builtin_suite(void)
{
	Suite *s = suite_create("builtin");

	tu_tcase(s, "builtin", NULL, NULL, 0, find, dgram_answers, NULL);
	return s;
}
