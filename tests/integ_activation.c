/*
 * Socket activation: the test plays systemd (the probe's activate mode
 * binds the sockets, puts them on fds 3 and up with LISTEN_FDS, LISTEN_PID
 * and LISTEN_FDNAMES, and execs sockd). sockd binding any of those
 * addresses itself would fail (they are taken), so serving on them shows
 * that it adopted them.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "integ_util.h"

static char buf[4096];

/*
 * A wrapper that runs sockd with the sockets of spec passed to it; its
 * path in a buffer of its own, as tu_write() reuses one.
 */
static const char *
systemd(const char *spec)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s", tu_write("activate.sh", "#!/bin/sh\n"
	    "exec '%s' activate '%s' \"$@\"\n", it_probe(), spec));
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

static void
echo_ok(uint16_t port)
{
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	it_send(fd, "ping\n");
	ck_assert_uint_eq(it_read_n(fd, buf, 5, IT_WAIT), 5);
	ck_assert(memcmp(buf, "ping\n", 5) == 0);
	close(fd);
}

/* By name (tcp) and by address (udp, unnamed); a reload keeps both. */
START_TEST(adopted_by_name_and_address)
{
	uint16_t pt = tu_free_port(), pu = tu_free_port();
	char spec[64];
	struct daemon *d = it_daemon();
	const char *conf;

	snprintf(spec, sizeof(spec), "tcp:%u:web,udp:%u:", pt, pu);
	const char *wrapper = systemd(spec);
	conf = tu_write("sockd.conf", "services = (\n"
	    "{ name = \"web\"; protocol = \"tcp\"; address = \"127.0.0.1\"; "
	    "port = %u; builtin = \"echo\"; keepalive = true; },\n"
	    "{ name = \"u\"; protocol = \"udp\"; address = \"127.0.0.1\"; "
	    "port = %u; builtin = \"echo\"; } );\n", pt, pu);
	ck_assert_msg(tu_start_via(d, wrapper, conf, NULL) == 0, "%s",
	    it_tail(d->log));
	echo_ok(pt);
	ck_assert_int_eq(tu_udp_ask(pu, -1, "hi", 2, buf, sizeof(buf), IT_WAIT),
	    2);
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert(tu_wait_log(d, "reloaded:", IT_WAIT));
	echo_ok(pt);
	ck_assert_int_eq(tu_udp_ask(pu, -1, "hi", 2, buf, sizeof(buf), IT_WAIT),
	    2);
	ck_assert_ptr_null(strstr(d->log, "cannot bind"));
	it_stop(d);
}
END_TEST

/* sockd refuses to start with the sockets of spec passed; want is logged. */
static void
expect_refused(uint16_t port, const char *spec, const char *want)
{
	struct daemon *d = it_daemon();
	const char *wrapper = systemd(spec);
	char conf[256];

	snprintf(conf, sizeof(conf), "services = ( { name = \"web\"; "
	    "protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u; "
	    "builtin = \"echo\"; } );\n", port);
	ck_assert_int_eq(tu_start_via(d, wrapper, tu_write("sockd.conf", "%s",
	    conf), NULL), -1);
	ck_assert_msg(tu_wait_log(d, want, IT_WAIT), "%s", it_tail(d->log));
}

/* A passed socket that no service takes is an error at startup. */
START_TEST(unmatched_socket_refused)
{
	uint16_t pt = tu_free_port(), stray = tu_free_port();
	char spec[64], want[128];

	snprintf(spec, sizeof(spec), "tcp:%u:web,tcp:%u:stray", pt, stray);
	snprintf(want, sizeof(want), "startup: LISTEN_FDS: socket 4 \"stray\" "
	    "(tcp 127.0.0.1 port %u) matches no service", stray);
	expect_refused(pt, spec, want);
}
END_TEST

/* The socket named after a service is of another kind: an error. */
START_TEST(wrong_kind_refused)
{
	uint16_t pt = tu_free_port();
	char spec[64], want[160];

	snprintf(spec, sizeof(spec), "udp:%u:web", pt);
	snprintf(want, sizeof(want), "LISTEN_FDS: socket 3 \"web\" (udp 127.0.0.1 "
	    "port %u) is named after the service but is not this socket", pt);
	expect_refused(pt, spec, want);
}
END_TEST

/* An echo service "other" at po, and "web" at pt if web. */
static const char *
services(bool web, uint16_t pt, uint16_t po)
{
	char line[160] = "";

	if (web)
		snprintf(line, sizeof(line), "{ name = \"web\"; protocol = \"tcp\"; "
		    "address = \"127.0.0.1\"; port = %u; builtin = \"echo\"; },\n", pt);
	return tu_write("sockd.conf", "services = (\n%s{ name = \"other\"; "
	    "protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u; "
	    "builtin = \"echo\"; } );\n", line, po);
}

/*
 * A daemon started with a socket from systemd upgrades in place: the new
 * image keeps that socket for its life as the old one did. The test holds
 * a copy, as systemd does, so a service a reload drops and then adds back
 * can only be served on the passed socket (binding one is refused).
 */
START_TEST(upgrade_keeps_passed_socket)
{
	uint16_t pt = tu_free_port(), po = tu_free_port();
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(pt),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int held = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct daemon *d = it_daemon();
	char spec[64];
	const char *conf;

	ck_assert_int_ge(held, 0);
	ck_assert_int_eq(setsockopt(held, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)), 0);
	ck_assert_int_eq(bind(held, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(held, 64), 0);
	snprintf(spec, sizeof(spec), "fd:%d:web", held);
	const char *wrapper = systemd(spec);
	conf = services(true, pt, po);
	ck_assert_msg(tu_start_via(d, wrapper, conf, NULL) == 0, "%s",
	    it_tail(d->log));
	echo_ok(pt);
	ck_assert_int_eq(kill(d->pid, SIGUSR2), 0);
	ck_assert_msg(tu_wait_log(d, "upgraded in place", IT_WAIT), "%s",
	    it_tail(d->log));
	echo_ok(pt);
	(void)services(false, pt, po);
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert(it_wait_log_count(d, "reloaded:", 1, IT_WAIT));
	(void)services(true, pt, po);
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert_msg(it_wait_log_count(d, "reloaded:", 2, IT_WAIT), "%s",
	    it_tail(d->log));
	echo_ok(pt);
	ck_assert_ptr_null(strstr(d->log, "cannot bind"));
	it_stop(d);
	close(held);
}
END_TEST

Suite *
activation_suite(void)
{
	Suite *s = suite_create("activation");
	TCase *tc = tcase_create("activation");

	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_test(tc, adopted_by_name_and_address);
	tcase_add_test(tc, unmatched_socket_refused);
	tcase_add_test(tc, wrong_kind_refused);
	tcase_add_test(tc, upgrade_keeps_passed_socket);
	suite_add_tcase(s, tc);
	return s;
}
