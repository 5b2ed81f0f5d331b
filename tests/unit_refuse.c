/*
 * Refusals: the client gets the message and a closed connection; the log
 * gets at most one line per reason per second, and the count of the rest.
 * The clock is the now argument.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "refuse.h"
#include "testutil.h"

static int capfd;
static char logbuf[65536];
static size_t loglen;
static struct addr client;

static void
setup(void)
{
	capfd = tu_capture_stderr();
	log_init(true, LOG_INFO);
	loglen = 0;
	ck_assert_int_eq(addr_parse("192.0.2.7", &client), 0);
}

static size_t from;

/* How often text occurs in what new_lines() last read. */
static int
count_since(const char *text)
{
	int n = 0;

	for (const char *p = logbuf + from; (p = strstr(p, text)) != NULL; p++)
		n++;
	return n;
}

/* Reads what was logged since the last call; how often text occurs in it. */
static int
new_lines(const char *text)
{
	from = loglen;
	loglen = tu_captured(capfd, logbuf, sizeof(logbuf), loglen);
	return count_since(text);
}

/* A refusal of a fresh client; checks what the client saw. */
static void
refuse_one(struct refuse_log *rl, enum refuse_reason r, int64_t now,
    const char *msg)
{
	char buf[256];
	int sv[2];
	ssize_t n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	refuse(rl, "svc", sv[0], msg, &client, 4242, r, now);
	/* Our end is closed: no other descriptor was opened since. */
	errno = 0;
	ck_assert_int_eq(fcntl(sv[0], F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	n = recv(sv[1], buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (msg) {
		ck_assert_int_eq(n, (ssize_t)strlen(msg));
		buf[n] = '\0';
		ck_assert_str_eq(buf, msg);
		n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	}
	ck_assert_int_eq(n, 0);		/* EOF, not EAGAIN */
	close(sv[1]);
}

START_TEST(message_sent_and_closed)
{
	struct refuse_log rl = { 0 };

	refuse_one(&rl, REFUSE_ACCESS, 5000, "go away\r\n");
	ck_assert_int_eq(new_lines("service \"svc\": refused 192.0.2.7 port 4242: "
	    "access denied\n"), 1);
	refuse_one(&rl, REFUSE_PAUSED, 5000, NULL);
	ck_assert_int_eq(new_lines("refused 192.0.2.7 port 4242: service "
	    "paused after failures\n"), 1);
	{
		/* A copy elsewhere (a child being forked) keeps the socket
		 * open; the client still sees the end at once. */
		char buf[16];
		int sv[2], copy;
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		ck_assert_int_ne(copy = dup(sv[0]), -1);
		refuse(&rl, "svc", sv[0], "bye\n", &client, 1, REFUSE_PAUSED, 5000);
		ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 4);
		ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 0);
		close(copy);
		close(sv[1]);
	}
	ck_assert_str_eq(refuse_reason_name(REFUSE_SOURCE_RATE), "source_rate");
	ck_assert_str_eq(refuse_reason_name(REFUSE_NREASONS), "?");
}
END_TEST

START_TEST(one_line_per_second_then_flush)
{
	struct refuse_log rl = { 0 };
	int64_t t = 1000000;

	refuse_one(&rl, REFUSE_ACCESS, t, "no\n");
	ck_assert_int_eq(new_lines("access denied"), 1);
	for (int i = 1; i <= 5; i++)
		refuse_one(&rl, REFUSE_ACCESS, t + i * 199, "no\n");	/* to t+995 */
	refuse_one(&rl, REFUSE_ACCESS, t + 999, "no\n");
	ck_assert_int_eq(new_lines("refused"), 0);
	/* The next second logs again, with the count so far. */
	refuse_one(&rl, REFUSE_ACCESS, t + 1000, "no\n");
	ck_assert_int_eq(new_lines("access denied (6 more suppressed)\n"), 1);
	ck_assert_int_eq(count_since("refused"), 1);
	ck_assert(!refuse_flush(&rl, "svc"));
	ck_assert_int_eq(new_lines("svc"), 0);
	/* Suppressed again, then flushed: the count, once. */
	refuse_one(&rl, REFUSE_ACCESS, t + 1500, "no\n");
	refuse_one(&rl, REFUSE_ACCESS, t + 1999, "no\n");
	ck_assert_int_eq(new_lines("refused"), 0);
	ck_assert(refuse_flush(&rl, "svc"));
	ck_assert_int_eq(new_lines("service \"svc\": 2 more refusals (access "
	    "denied) suppressed\n"), 1);
	ck_assert(!refuse_flush(&rl, "svc"));
	ck_assert_int_eq(new_lines("svc"), 0);
	/* After a flush the next refusal is logged, without a stale count. */
	refuse_one(&rl, REFUSE_ACCESS, t + 2100, "no\n");
	ck_assert_int_eq(new_lines("access denied\n"), 1);
	ck_assert_int_eq(count_since("suppressed"), 0);
}
END_TEST

START_TEST(reasons_throttled_apart)
{
	struct refuse_log rl = { 0 };
	int64_t t = 50000;

	for (int r = 0; r < REFUSE_NREASONS; r++)
		refuse_one(&rl, r, t, NULL);
	ck_assert_int_eq(new_lines("refused 192.0.2.7"), REFUSE_NREASONS);
	/* In that second: 1 more per_source, 3 more paused, 2 more source_rate. */
	refuse_one(&rl, REFUSE_PER_SOURCE, t + 10, NULL);
	for (int i = 0; i < 3; i++)
		refuse_one(&rl, REFUSE_PAUSED, t + 20 + i, "paused\n");
	refuse_one(&rl, REFUSE_SOURCE_RATE, t + 500, NULL);
	refuse_one(&rl, REFUSE_SOURCE_RATE, t + 999, NULL);
	ck_assert_int_eq(new_lines("refused"), 0);
	ck_assert(refuse_flush(&rl, "svc"));
	{
		const char *p = logbuf + loglen;
		ck_assert_int_eq(new_lines("suppressed\n"), 3);
		ck_assert_ptr_nonnull(strstr(p, "1 more refusals (per_source limit "
		    "reached) suppressed\n"));
		ck_assert_ptr_nonnull(strstr(p, "3 more refusals (service paused "
		    "after failures) suppressed\n"));
		ck_assert_ptr_nonnull(strstr(p, "2 more refusals (source_rate "
		    "exceeded) suppressed\n"));
	}
	/* Flushed: each reason logs its next refusal at once. */
	for (int r = 0; r < REFUSE_NREASONS; r++)
		refuse_one(&rl, r, t + 1001, NULL);
	ck_assert_int_eq(new_lines("port 4242: "), REFUSE_NREASONS);
	ck_assert_int_eq(count_since("more"), 0);
}
END_TEST

START_TEST(fresh_reason_logged_in_busy_second)
{
	struct refuse_log rl = { 0 };

	refuse_one(&rl, REFUSE_ACCESS, 7000, NULL);
	refuse_one(&rl, REFUSE_ACCESS, 7001, NULL);
	ck_assert_int_eq(new_lines("access denied"), 1);
	refuse_one(&rl, REFUSE_PAUSED, 7002, NULL);
	ck_assert_int_eq(new_lines("service paused after failures\n"), 1);
}
END_TEST

Suite *
refuse_suite(void)
{
	Suite *s = suite_create("refuse");
	TCase *tc = tcase_create("throttle");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, message_sent_and_closed);
	tcase_add_test(tc, one_line_per_second_then_flush);
	tcase_add_test(tc, reasons_throttled_apart);
	tcase_add_test(tc, fresh_reason_logged_in_busy_second);
	suite_add_tcase(s, tc);
	return s;
}
