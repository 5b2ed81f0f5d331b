/*
 * The control protocol's request line (ctlreq.h): commands, arguments,
 * the json prefix, what is refused; and the seeds of
 * tests/fuzz/fuzz_ctlreq, ok-* accepted and bad-* refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlreq.h"
#include "testutil.h"

static int
parse(const char *s, struct ctlreq *r)
{
	const char *why = NULL;
	int rc = ctlreq_parse(s, strlen(s), r, &why);

	if (rc == -1)
		ck_assert_ptr_nonnull(why);
	return rc;
}

START_TEST(commands)
{
	struct ctlreq r;

	ck_assert_int_eq(parse("status", &r), 0);
	ck_assert_int_eq(r.cmd, CTLREQ_STATUS);
	ck_assert(!r.json);
	ck_assert_int_eq(parse("json  connections   web", &r), 0);
	ck_assert_int_eq(r.cmd, CTLREQ_CONNECTIONS);
	ck_assert(r.json);
	ck_assert_str_eq(r.arg, "web");
	ck_assert_int_eq(parse("connections", &r), 0);
	ck_assert_str_eq(r.arg, "");
	ck_assert_int_eq(parse("log-level debug\r", &r), 0);
	ck_assert_int_eq(r.cmd, CTLREQ_LOG_LEVEL);
	ck_assert_str_eq(r.arg, "debug");
	ck_assert(ctlreq_changes(CTLREQ_PAUSE) && !ctlreq_changes(CTLREQ_STATUS));
	ck_assert_str_eq(ctlreq_name(CTLREQ_LOG_LEVEL), "log-level");
}
END_TEST

START_TEST(refusals)
{
	static const char *const bad[] = { "", "json", "Status", "status x",
	    "reload now", "pause", "end", "pause a b", "stat\tus", "caf\xc3\xa9" };
	struct ctlreq r;
	char big[CTLREQ_MAX + 1];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i], &r) == -1, "%s", bad[i]);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "pause ", 6);
	ck_assert_int_eq(parse(big, &r), -1);
}
END_TEST

/* Counts of the ok and bad seeds, each checked as its name says. */
struct seeds {
	int ok, bad;
};

static void
one_seed(const char *name, const uint8_t *in, size_t len, void *arg)
{
	struct seeds *n = arg;
	struct ctlreq r;
	const char *why;

	if (strncmp(name, "bad-", 4) == 0) {
		ck_assert_msg(ctlreq_parse((const char *)in, len, &r, &why) == -1,
		    "%s", name);
		n->bad++;
	} else {
		ck_assert_msg(ctlreq_parse((const char *)in, len, &r, &why) == 0,
		    "%s: %s", name, why);
		n->ok++;
	}
}

START_TEST(fuzz_corpus)
{
	struct seeds n = { 0, 0 };

	(void)tu_corpus("tests/fuzz/corpus-ctl", one_seed, &n);
	ck_assert_int_gt(n.ok, 0);
	ck_assert_int_gt(n.bad, 0);
}
END_TEST

Suite *
ctlreq_suite(void)
{
	Suite *s = suite_create("ctlreq");
	TCase *tc = tcase_create("ctlreq");

	tcase_add_test(tc, commands);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, fuzz_corpus);
	suite_add_tcase(s, tc);
	return s;
}
