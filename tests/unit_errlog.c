/*
 * Handler stderr into the log, through errlog's own interface: a real
 * loop, a service with just a name, and writers that are this process and
 * children forked here. Lines are read back from a captured stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "errlog.h"
#include "log.h"
#include "loop.h"
#include "service.h"
#include "testutil.h"

static int capfd;
static char logbuf[1 << 16];
static size_t loglen;
static struct loop lp;
static struct svc_conf sc = { .name = "svc" };
static struct service *svc;
static struct errlog *all, *el;
static struct timer tick;

static void
on_tick(struct timer *t)
{
	(void)t;
}

static void
setup(void)
{
	capfd = tu_capture_stderr();
	log_init(true, LOG_INFO);
	loglen = 0;
	ck_assert_int_eq(loop_init(&lp), 0);
	ck_assert_ptr_nonnull(svc = calloc(1, sizeof(*svc)));
	svc->conf = &sc;
	svc->refs = 1;		/* ours: the log's reference never frees it */
	all = NULL;
	ck_assert_ptr_nonnull(el = errlog_open(&lp, svc, &all));
	ck_assert_ptr_eq(all, el);
	tick = (struct timer){ .fn = on_tick };
}

static void
teardown(void)
{
	errlog_close_all(&all);
	ck_assert_ptr_null(all);
	ck_assert_uint_eq(svc->refs, 1);
	free(svc);
	loop_free(&lp);
}

static void
put(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* A child that writes s to the log and exits; reaped here. */
static pid_t
child_writes(const char *s)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		put(errlog_fd(el), s);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return pid;
}

static bool
logged(const char *text)
{
	loglen = tu_captured(capfd, logbuf, sizeof(logbuf), loglen);
	return strstr(logbuf, text) != NULL;
}

/* Runs the loop until text is logged; fails after 2 s. */
static void
wait_logged(const char *text)
{
	uint64_t end = loop_now_ms() + 2000;

	while (!logged(text)) {
		ck_assert_msg(loop_now_ms() < end, "not logged: %s\nlog:\n%s",
		    text, logbuf);
		/* The tick bounds each wait; the socket wakes it sooner. */
		if (!loop_timer_armed(&tick))
			ck_assert_int_eq(loop_timer_set(&lp, &tick, 10), 0);
		ck_assert_int_ge(loop_once(&lp), 0);
	}
}

static int
count(const char *text)
{
	int n = 0;

	for (const char *p = logbuf; (p = strstr(p, text)) != NULL; p++)
		n++;
	return n;
}

static const char *
line_of(pid_t pid, const char *text)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "service \"svc\": pid %ld: %s\n", (long)pid,
	    text);
	return buf;
}

START_TEST(partial_writes_joined)
{
	pid_t me = getpid();

	put(errlog_fd(el), "hel");
	put(errlog_fd(el), "lo wor");
	ck_assert_int_eq(loop_once(&lp), 1);	/* read: nothing complete yet */
	ck_assert(!logged("hel"));
	put(errlog_fd(el), "ld\nsecond\r\n");
	wait_logged(line_of(me, "second"));
	ck_assert(logged(line_of(me, "hello world")));
	ck_assert_int_eq(count("service \"svc\": pid "), 2);
}
END_TEST

START_TEST(writers_never_mix)
{
	int go[2], ack[2];
	pid_t me = getpid(), c1, c2;
	char ch;
	int status;

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(ack), 0);
	c1 = fork();
	ck_assert_int_ne(c1, -1);
	if (c1 == 0) {
		put(errlog_fd(el), "one-");
		put(ack[1], "x");
		if (read(go[0], &ch, 1) != 1)
			_exit(1);
		put(errlog_fd(el), "done\n");
		_exit(0);
	}
	ck_assert_int_eq(read(ack[0], &ch, 1), 1);
	/* In the socket now: c1 "one-", us "par", c2 "two\n", us "ent\n",
	 * c1 "done\n", unread till all are there. */
	put(errlog_fd(el), "par");
	c2 = child_writes("two\n");
	put(errlog_fd(el), "ent\n");
	put(go[1], "x");
	ck_assert_int_eq(waitpid(c1, &status, 0), c1);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	wait_logged(line_of(c1, "one-done"));
	ck_assert(logged(line_of(me, "parent")));
	ck_assert(logged(line_of(c2, "two")));
	ck_assert_int_eq(count("service \"svc\": pid "), 3);
}
END_TEST

START_TEST(unfinished_line_logged_when_ended)
{
	pid_t me = getpid(), c1, c2;

	c1 = child_writes("last words");
	/* Ours comes after c1's bytes: once it is logged, they were read. */
	put(errlog_fd(el), "marker\n");
	wait_logged(line_of(me, "marker"));
	ck_assert(!logged("last words"));
	errlog_ended(el, c1);
	ck_assert(logged(line_of(c1, "last words")));

	/* Reaped before its bytes are read: logged as soon as they are. */
	c2 = child_writes("late");
	errlog_ended(el, c2);
	wait_logged(line_of(c2, "late"));
	ck_assert_int_eq(count("service \"svc\": pid "), 3);
}
END_TEST

START_TEST(long_lines_cut)
{
	static char big[4000], want[1200];
	pid_t me = getpid();
	const char *p;
	size_t xs = 0;

	/* Exactly 1024 bytes is not cut. */
	memset(big, 'a', 1024);
	big[1024] = '\n';
	big[1025] = '\0';
	put(errlog_fd(el), big);
	/* 3000 bytes are: 1024 first, marked. */
	memset(big, 'x', 3000);
	strcpy(big + 3000, "\nend\n");
	put(errlog_fd(el), big);
	wait_logged(line_of(me, "end"));
	memset(want, 'a', 1024);
	want[1024] = '\0';
	ck_assert(logged(line_of(me, want)));
	memset(want, 'x', 1024);
	strcpy(want + 1024, " [cut]");
	ck_assert(logged(line_of(me, want)));
	/* No line longer, and nothing lost: the rest follows on lines of its own. */
	for (p = logbuf; (p = strstr(p, ": x")) != NULL; ) {
		size_t run = strspn(p + 2, "x");
		ck_assert_uint_le(run, 1024);
		xs += run;
		p += 2 + run;
	}
	ck_assert_uint_eq(xs, 3000);

	/* The same when the line comes in pieces, read apart. */
	memset(big, 'y', 600);
	big[600] = '\0';
	put(errlog_fd(el), big);
	ck_assert_int_eq(loop_once(&lp), 1);
	strcpy(big + 600, "\nfin\n");
	put(errlog_fd(el), big);
	wait_logged(line_of(me, "fin"));
	memset(want, 'y', 1024);
	strcpy(want + 1024, " [cut]");
	ck_assert(logged(line_of(me, want)));
	memset(want, 'y', 176);
	want[176] = '\0';
	ck_assert(logged(line_of(me, want)));

	/* Exactly 1024 bytes whose newline comes in a later read: not cut,
	 * and no empty line after it. */
	memset(big, 'w', 1024);
	big[1024] = '\0';
	put(errlog_fd(el), big);
	ck_assert_int_eq(loop_once(&lp), 1);
	put(errlog_fd(el), "\nnext\n");
	wait_logged(line_of(me, "next"));
	memset(want, 'w', 1024);
	want[1024] = '\0';
	ck_assert(logged(line_of(me, want)));
	ck_assert(!logged(line_of(me, "")));
}
END_TEST

START_TEST(unprintable_escaped)
{
	pid_t me = getpid();

	put(errlog_fd(el), "tab\there\x01\x7f\\ \xc3\xa9\n");
	wait_logged(line_of(me, "tab\\x09here\\x01\\x7f\\\\ \\xc3\\xa9"));
}
END_TEST

Suite *
errlog_suite(void)
{
	Suite *s = suite_create("errlog");
	TCase *tc = tcase_create("lines");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, partial_writes_joined);
	tcase_add_test(tc, writers_never_mix);
	tcase_add_test(tc, unfinished_line_logged_when_ended);
	tcase_add_test(tc, long_lines_cut);
	tcase_add_test(tc, unprintable_escaped);
	suite_add_tcase(s, tc);
	return s;
}
