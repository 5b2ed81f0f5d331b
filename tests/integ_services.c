/*
 * Integration: the shipped handlers and the built-in services, spoken to
 * over loopback through a real sockd.
 */
#include <arpa/inet.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "integ_util.h"

/* RFC 868 counts from 1900, Unix from 1970. */
#define EPOCH_1900 2208988800UL
#define CTIME_RE "(Mon|Tue|Wed|Thu|Fri|Sat|Sun) " \
    "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) " \
    "[ 123][0-9] [012][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{4}"

static void
setup(void)
{
	/* Local time as the handlers see it: they get no TZ variable. */
	unsetenv("TZ");
	tzset();
	it_setup();
}

static bool
matches(const char *re, const char *s)
{
	regex_t r;
	bool ok;

	ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

/* A config with one service of a shipped handler on 127.0.0.1. */
static struct daemon *
start_server(const char *name, const char *proto, uint16_t port,
    const char *extra)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "services/%s", name);
	return it_start(tu_write("sockd.conf",
	    "services = (\n"
	    "  { name = \"%s\"; protocol = \"%s\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; %s }\n"
	    ");\n", name, proto, port, it_path(rel), extra ? extra : ""));
}

/* A config with one built-in service on 127.0.0.1. */
static struct daemon *
start_builtin(const char *builtin, const char *proto, uint16_t port)
{
	return it_start(tu_write("sockd.conf",
	    "services = (\n"
	    "  { name = \"%s-%s\"; protocol = \"%s\"; port = %u; address = \"127.0.0.1\";\n"
	    "    builtin = \"%s\"; }\n"
	    ");\n", builtin, proto, proto, port, builtin));
}

static void
expect_reply(int fd, const char *send_text, const char *reply)
{
	char buf[4096];

	it_send(fd, send_text);
	tu_read_until(fd, buf, sizeof(buf), reply, IT_WAIT);
	ck_assert_str_eq(buf, reply);
}

static void
expect_welcome(int fd)
{
	char buf[256];

	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_str_eq(buf, "Welcome!\n");
}

/* The exchange of the README's Python example, sent without newlines. */
START_TEST(hello_tutorial)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_server("hello-tcp", "tcp", port, NULL);
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	expect_welcome(fd);
	expect_reply(fd, "Michael", "Hello, Michael!\n");
	expect_reply(fd, "Tracy", "Hello, Tracy!\n");
	expect_reply(fd, "Sarah", "Hello, Sarah!\n");
	it_send(fd, "exit");
	ck_assert_msg(it_wait_eof(fd, IT_WAIT),
	    "\"exit\" did not end the session");
	close(fd);
	ck_assert(tu_wait_log(d, IT_LOG_EXIT "0", IT_WAIT));
	it_stop(d);
}
END_TEST

START_TEST(hello_line_framing)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_server("hello-tcp", "tcp", port, NULL);
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	expect_welcome(fd);
	expect_reply(fd, "a\nb\r\n", "Hello, a!\nHello, b!\n");
	/* End of file ends the session as well. */
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	it_stop(d);
}
END_TEST

START_TEST(hello_two_sessions)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_server("hello-tcp", "tcp", port, NULL);
	int a = tu_connect(port), b = tu_connect(port);

	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(b, 0);
	expect_welcome(a);
	expect_welcome(b);
	expect_reply(b, "Bob\n", "Hello, Bob!\n");
	expect_reply(a, "Alice\n", "Hello, Alice!\n");
	it_send(a, "exit\n");
	ck_assert(it_wait_eof(a, IT_WAIT));
	/* b's session is its own. */
	expect_reply(b, "still here\n", "Hello, still here!\n");
	close(a);
	close(b);
	it_stop(d);
}
END_TEST

START_TEST(timestamp_format)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_server("timestamp", "tcp", port, NULL);
	int fd = tu_connect(port);
	char buf[512];
	time_t before = time(NULL), t;

	ck_assert_int_ge(fd, 0);
	it_send(fd, "hello world\n");
	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_msg(matches("^\\[" CTIME_RE "\\] hello world\n$", buf),
	    "bad timestamp reply \"%s\"", buf);
	t = it_parse_ctime(buf + 1);
	ck_assert_msg(t != -1 && t >= before - 3 && t <= time(NULL) + 3,
	    "timestamp %s is not now", buf);
	/* A message without a newline is a message too. */
	it_send(fd, "x");
	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_msg(matches("^\\[" CTIME_RE "\\] x\n$", buf),
	    "reply \"%s\"", buf);
	close(fd);
	it_stop(d);
}
END_TEST

static void
expect_udp(uint16_t port, const char *msg, const char *reply)
{
	char buf[2048];
	ssize_t n = tu_udp_ask(port, 0, msg, strlen(msg), buf, sizeof(buf) - 1,
	    IT_WAIT);

	ck_assert_msg(n >= 0, "no reply to \"%s\"", msg);
	buf[n] = '\0';
	ck_assert_int_eq(n, strlen(reply));
	ck_assert_str_eq(buf, reply);
}

/*
 * echo-udp answers, exits after its idle time (1 s here) and sockd takes
 * the socket back: the next datagram is answered by a new child.
 */
START_TEST(echo_udp_tutorial_and_takeback)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_server("echo-udp", "udp", port,
	    "wait = true; args = [ \"echo-udp\", \"1\" ];");
	long pids[4];

	expect_udp(port, "Michael", "Echo: Michael!");
	expect_udp(port, "Tracy", "Echo: Tracy!");
	expect_udp(port, "Sarah", "Echo: Sarah!");
	ck_assert(tu_wait_log(d, IT_LOG_TOOK, IT_WAIT));
	ck_assert_msg(tu_wait_log(d, IT_LOG_EXIT "0", 10000),
	    "echo-udp did not exit after 1 s idle:\n%s", it_tail(d->log));
	ck_assert_int_eq(it_count(d->log, IT_LOG_TOOK), 1);

	expect_udp(port, "Michael", "Echo: Michael!");
	ck_assert_msg(it_wait_log_count(d, IT_LOG_TOOK, 2, IT_WAIT),
	    "no second child took the socket:\n%s", it_tail(d->log));
	ck_assert_int_eq(it_log_pids(d, IT_LOG_TOOK, pids, 4), 2);
	ck_assert_int_gt(pids[0], 0);
	ck_assert_int_gt(pids[1], 0);
	ck_assert_int_ne(pids[0], pids[1]);
	it_stop(d);
}
END_TEST

/* --- TCP built-ins: one forked child per connection --- */

START_TEST(tcp_echo)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_builtin("echo", "tcp", port);
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	expect_reply(fd, "ping\r\n", "ping\r\n");
	expect_reply(fd, "no newline", "no newline");
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_msg(it_wait_eof(fd, IT_WAIT), "echo did not close at EOF");
	close(fd);
	ck_assert(tu_wait_log(d, IT_LOG_CONN, IT_WAIT));
	ck_assert(tu_wait_log(d, IT_LOG_EXIT "0", IT_WAIT));
	it_stop(d);
}
END_TEST

START_TEST(tcp_discard)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_builtin("discard", "tcp", port);
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	it_send(fd, "into the void\r\n");
	it_send(fd, "more\r\n");
	/* Nothing comes back, and the connection stays open. */
	ck_assert_msg(it_quiet(fd, 300), "discard answered or closed");
	it_send(fd, "still open\r\n");
	ck_assert(tu_wait_log(d, IT_LOG_CONN, IT_WAIT));
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert(tu_wait_log(d, IT_LOG_EXIT "0", IT_WAIT));
	it_stop(d);
}
END_TEST

START_TEST(tcp_chargen)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_builtin("chargen", "tcp", port);
	int fd = tu_connect(port);
	char buf[148];
	long pid;

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(it_read_n(fd, buf, sizeof(buf), IT_WAIT),
	    sizeof(buf));
	for (int line = 0; line < 2; line++) {
		const char *l = buf + 74 * line;
		for (int i = 0; i < 72; i++)
			ck_assert_msg(l[i] >= ' ' && l[i] <= '~',
			    "line %d char %d is %#x", line, i, l[i]);
		ck_assert_int_eq(l[72], '\r');
		ck_assert_int_eq(l[73], '\n');
	}
	/* The second line is the first rotated by one character. */
	ck_assert_int_eq(memcmp(buf + 74, buf + 1, 71), 0);
	ck_assert_int_eq(buf[74 + 71], ' ' + (buf[71] - ' ' + 1) % 95);
	close(fd);
	/* The child notices the closed connection and is reaped. */
	ck_assert(tu_wait_log(d, IT_LOG_CONN, IT_WAIT));
	ck_assert_int_eq(it_log_pids(d, IT_LOG_CONN, &pid, 1), 1);
	ck_assert_msg(it_wait_reaped(d, "chargen-tcp", pid, IT_WAIT),
	    "chargen child not reaped:\n%s", it_tail(d->log));
	ck_assert(it_no_zombies(d->pid, 2000));
	it_stop(d);
}
END_TEST

START_TEST(tcp_daytime)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_builtin("daytime", "tcp", port);
	int fd = tu_connect(port);
	char buf[256];
	time_t before = time(NULL), t;

	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_msg(matches("^" CTIME_RE "\r\n$", buf),
	    "daytime \"%s\"", buf);
	t = it_parse_ctime(buf);
	ck_assert_msg(t != -1 && t >= before - 3 && t <= time(NULL) + 3,
	    "daytime %s is not now", buf);
	ck_assert_msg(it_wait_eof(fd, IT_WAIT), "daytime did not close");
	close(fd);
	it_stop(d);
}
END_TEST

static long
time_diff(const unsigned char b[4])
{
	uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	uint32_t now = (uint32_t)((unsigned long)time(NULL) + EPOCH_1900);

	return (int32_t)(v - now);
}

START_TEST(tcp_time)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_builtin("time", "tcp", port);
	int fd = tu_connect(port);
	unsigned char b[4];
	long diff;

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(it_read_n(fd, b, 4, IT_WAIT), 4);
	diff = time_diff(b);
	ck_assert_msg(diff >= -5 && diff <= 5, "time is %ld s off", diff);
	ck_assert_msg(it_wait_eof(fd, IT_WAIT), "time sent more than 4 bytes");
	close(fd);
	it_stop(d);
}
END_TEST

/* --- UDP built-ins: the master answers, no child --- */

static void
expect_no_child(struct daemon *d)
{
	tu_drain_log(d);
	ck_assert_msg(strstr(d->log, IT_LOG_TOOK) == NULL &&
	    strstr(d->log, IT_LOG_CONN) == NULL &&
	    strstr(d->log, "pid") == NULL,
	    "a child was started for a UDP built-in:\n%s", it_tail(d->log));
	ck_assert_int_eq(tu_count_children(d->pid), 0);
}

START_TEST(udp_echo)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_builtin("echo", "udp", port);

	expect_udp(port, "Michael", "Michael");
	expect_udp(port, "two\nlines\r\n", "two\nlines\r\n");
	/* Around the master's receive slot (1,536 bytes) and the largest. */
	static const size_t sizes[] = { 1535, 1536, 1537, 4000, 65507 };
	static char msg[65507], got[65536];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('a' + i * 7 % 26);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		ssize_t n = tu_udp_ask(port, 0, msg, sizes[k], got, sizeof(got),
		    IT_WAIT);
		ck_assert_msg(n == (ssize_t)sizes[k], "%zu bytes: answer %zd",
		    sizes[k], n);
		ck_assert(memcmp(got, msg, sizes[k]) == 0);
	}
	expect_no_child(d);
	it_stop(d);
}
END_TEST

START_TEST(udp_daytime)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_builtin("daytime", "udp", port);
	char buf[512];

	for (int i = 0; i < 2; i++) {
		/* An empty datagram first, then one with data. */
		ssize_t n = tu_udp_ask(port, 0, "x", i, buf, sizeof(buf) - 1,
		    IT_WAIT);
		ck_assert_msg(n > 0, "no daytime reply to a %s datagram",
		    i ? "non-empty" : "empty");
		buf[n] = '\0';
		ck_assert_msg(matches("^" CTIME_RE "\r\n$", buf),
		    "daytime \"%s\"", buf);
	}
	expect_no_child(d);
	it_stop(d);
}
END_TEST

START_TEST(udp_time)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_builtin("time", "udp", port);
	unsigned char b[64];

	for (int i = 0; i < 2; i++) {
		ssize_t n = tu_udp_ask(port, 0, "x", i, (char *)b, sizeof(b),
		    IT_WAIT);
		ck_assert_msg(n == 4,
		    "time reply of %zd bytes to a %s datagram", n,
		    i ? "non-empty" : "empty");
		long diff = time_diff(b);
		ck_assert_msg(diff >= -5 && diff <= 5, "time is %ld s off", diff);
	}
	expect_no_child(d);
	it_stop(d);
}
END_TEST

START_TEST(udp_chargen)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_builtin("chargen", "udp", port);
	char buf[2048];
	ssize_t n = tu_udp_ask(port, 0, "", 0, buf, sizeof(buf), IT_WAIT);

	ck_assert_msg(n > 0, "no chargen reply");
	ck_assert_int_le(n, 512);
	for (ssize_t i = 0; i < n; i++)
		ck_assert(buf[i] == '\r' || buf[i] == '\n' ||
		    (buf[i] >= ' ' && buf[i] <= '~'));
	expect_no_child(d);
	it_stop(d);
}
END_TEST

START_TEST(udp_discard)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_builtin("discard", "udp", port);
	char buf[512];

	ck_assert_int_eq(tu_udp_ask(port, 0, "hello", 5, buf, sizeof(buf),
	    300), -1);
	ck_assert_int_eq(tu_udp_ask(port, 0, "", 0, buf, sizeof(buf), 300), -1);
	expect_no_child(d);
	/* Still alive and still not answering. */
	ck_assert_int_eq(kill(d->pid, 0), 0);
	it_stop(d);
}
END_TEST

/* Several UDP built-ins in one daemon, next to a TCP service on the same port. */
START_TEST(udp_builtins_together)
{
	uint16_t pe = tu_free_port(), pt = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf",
	    "services = (\n"
	    "  { name = \"echo-u\"; protocol = \"udp\"; address = \"127.0.0.1\"; port = %u; builtin = \"echo\"; },\n"
	    "  { name = \"echo-t\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u; builtin = \"echo\"; },\n"
	    "  { name = \"time-u\"; protocol = \"udp\"; address = \"127.0.0.1\"; port = %u; builtin = \"time\"; }\n"
	    ");\n", pe, pe, pt));
	unsigned char b[16];
	int fd;

	expect_udp(pe, "one", "one");
	ck_assert_int_eq(tu_udp_ask(pt, 0, "", 0, (char *)b, sizeof(b),
	    IT_WAIT), 4);
	expect_udp(pe, "two", "two");
	expect_no_child(d);
	fd = tu_connect(pe);
	ck_assert_int_ge(fd, 0);
	expect_reply(fd, "tcp\n", "tcp\n");
	close(fd);
	it_stop(d);
}
END_TEST

Suite *
services_suite(void)
{
	Suite *s = suite_create("services");

	tu_tcase(s, "handlers", setup, it_teardown, IT_TIMEOUT, hello_tutorial,
	    hello_line_framing, hello_two_sessions, timestamp_format,
	    echo_udp_tutorial_and_takeback, NULL);
	tu_tcase(s, "tcp-builtins", setup, it_teardown, IT_TIMEOUT, tcp_echo,
	    tcp_discard, tcp_chargen, tcp_daytime, tcp_time, NULL);
	tu_tcase(s, "udp-builtins", setup, it_teardown, IT_TIMEOUT, udp_echo,
	    udp_daytime, udp_time, udp_chargen, udp_discard,
	    udp_builtins_together, NULL);
	return s;
}
