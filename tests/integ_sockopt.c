/*
 * Socket options through a real configuration, read back with
 * getsockopt(2) by the probe handler: on the accepted connection (fd 0 of
 * a per-connection handler) and on the listening socket (fd 0 of a wait
 * service); a reload that changes them; and two daemons on one port with
 * reuseport.
 */
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "integ_util.h"

static char buf[8192];

/* The probe's report of fd 0's options, for one client that sends first. */
static const char *
sockopts_of(struct daemon *d, uint16_t port)
{
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	/* With defer_accept, the connection is not accepted before data. */
	it_send(fd, "x");
	tu_read_until(fd, buf, sizeof(buf), "\nend\n", IT_WAIT);
	close(fd);
	ck_assert_msg(strstr(buf, "\nend\n"), "no report: \"%s\"\n%s", buf,
	    it_tail(d->log));
	return buf;
}

static const char *
conf(const char *name, uint16_t port, const char *global, const char *keys,
    bool wait)
{
	return tu_write(name, "sockd = { %s };\nservices = ( { name = \"s\"; "
	    "protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;\n"
	    "  wait = %s; server = \"%s\"; args = [\"probe\", \"sockopts\"];\n"
	    "  %s } );\n", global, port, wait ? "true" : "false", it_probe(),
	    keys);
}

/* Linux copies the listener's options to each connection it accepts. */
START_TEST(accepted_connection_options)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(conf("sockd.conf", port,
	    "keepalive = true; keepalive_idle = 30; nodelay = true;",
	    "keepalive_interval = 7; keepalive_count = 4; rcvbuf = 65536; "
	    "sndbuf = 32768;", false));

	sockopts_of(d, port);
	ck_assert_msg(it_has_line(buf, "keepalive=1"), "%s", buf);
	ck_assert(it_has_line(buf, "keepidle=30"));
	ck_assert(it_has_line(buf, "keepintvl=7"));
	ck_assert(it_has_line(buf, "keepcnt=4"));
	ck_assert(it_has_line(buf, "nodelay=1"));
	/* The kernel doubles a buffer size for its bookkeeping (socket(7)). */
	ck_assert(it_has_line(buf, "rcvbuf=131072"));
	ck_assert(it_has_line(buf, "sndbuf=65536"));
	it_stop(d);
}
END_TEST

/* Options of the listening socket itself, as a wait service sees it. */
START_TEST(listening_socket_options)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(conf("sockd.conf", port, "reuseport = true;",
	    "defer_accept = 5; fastopen = 16; freebind = true; "
	    "interface = \"lo\";", true));

	sockopts_of(d, port);
	/* The kernel counts defer_accept in SYN-ACK retransmissions and
	 * rounds up to the time they take: 5 s reads back as 7. */
	ck_assert_msg(it_line_num(buf, "defer_accept") >= 5, "%s", buf);
	ck_assert(it_has_line(buf, "fastopen=16"));
	ck_assert(it_has_line(buf, "reuseport=1"));
	ck_assert(it_has_line(buf, "freebind=1"));
	ck_assert(it_has_line(buf, "interface=lo"));
	ck_assert(it_has_line(buf, "keepalive=0"));
	ck_assert(it_has_line(buf, "nodelay=0"));
	it_stop(d);
}
END_TEST

/*
 * A reload sets what the kernel lets a kept socket change, and says which
 * change waits for a socket bound anew.
 */
START_TEST(reload_changes_kept_socket)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(conf("sockd.conf", port, "",
	    "keepalive = true; keepalive_idle = 30; nodelay = true;", true));

	sockopts_of(d, port);
	ck_assert(it_has_line(buf, "keepidle=30"));
	ck_assert(it_has_line(buf, "fastopen=0"));
	conf("sockd.conf", port, "", "keepalive = true; keepalive_idle = 45; "
	    "fastopen = 8; reuseport = true;", true);
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert(tu_wait_log(d, "reloaded:", IT_WAIT));
	ck_assert_msg(strstr(d->log, "service \"s\": the new reuseport setting "
	    "needs a socket bound anew"), "%s", it_tail(d->log));
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", 1, IT_WAIT));
	sockopts_of(d, port);
	ck_assert_msg(it_has_line(buf, "keepidle=45"), "%s", buf);
	ck_assert(it_has_line(buf, "fastopen=8"));
	ck_assert(it_has_line(buf, "nodelay=0"));
	ck_assert(it_has_line(buf, "reuseport=0"));
	it_stop(d);
}
END_TEST

/*
 * Two daemons with reuseport on one port: the second binds, and the
 * kernel spreads connections over both (by a hash of the client's
 * address and port, so 64 clients all on one is 2^-63 likely).
 */
START_TEST(reuseport_two_daemons)
{
	uint16_t port = tu_free_port();
	const char *c = tu_write("sockd.conf", "services = ( { name = \"e\"; "
	    "protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u; "
	    "builtin = \"echo\"; reuseport = true; } );\n", port);
	struct daemon *a = it_start(c), *b = it_start(c);

	for (int i = 0; i < 64; i++) {
		int fd = tu_connect(port);
		ck_assert_int_ge(fd, 0);
		it_send(fd, "x\n");
		ck_assert_uint_eq(it_read_n(fd, buf, 2, IT_WAIT), 2);
		close(fd);
	}
	ck_assert(it_wait_log_count(a, "exited with status 0", 1, IT_WAIT));
	ck_assert(it_wait_log_count(b, "exited with status 0", 1, IT_WAIT));
	/* Both logs read until every connection's line is in (or the wait
	 * ends): one may still be in a pipe when the other's are counted. */
	for (long until = tu_now_ms() + IT_WAIT; it_count(a->log, IT_LOG_CONN) +
	    it_count(b->log, IT_LOG_CONN) < 64 && tu_now_ms() < until;) {
		tu_drain_log(a);
		tu_drain_log(b);
		(void)poll(NULL, 0, 10);
	}
	ck_assert_int_eq(it_count(a->log, IT_LOG_CONN) +
	    it_count(b->log, IT_LOG_CONN), 64);
	it_stop(a);
	it_stop(b);
}
END_TEST

Suite *
sockopt_suite(void)
{
	Suite *s = suite_create("sockopt");
	TCase *tc = tcase_create("sockopt");

	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_test(tc, accepted_connection_options);
	tcase_add_test(tc, listening_socket_options);
	tcase_add_test(tc, reload_changes_kept_socket);
	tcase_add_test(tc, reuseport_two_daemons);
	suite_add_tcase(s, tc);
	return s;
}
