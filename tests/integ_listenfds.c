/*
 * listen_fds: a handler written to sd_listen_fds(3) (the probe's sdlisten
 * mode) finds its socket on fd 3, LISTEN_FDS=1, LISTEN_PID equal to its
 * own pid and LISTEN_FDNAMES, in a wait service (the listening socket,
 * named after the service) and per connection ("connection").
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

static char buf[4096];

static struct daemon *
start(uint16_t port, bool wait)
{
	return it_start(tu_write("sockd.conf", "services = ( { name = \"sd.%s\"; "
	    "protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;\n"
	    "  wait = %s; listen_fds = true; server = \"%s\";\n"
	    "  args = [\"probe\", \"sdlisten\"]; } );\n", wait ? "w" : "c", port,
	    wait ? "true" : "false", it_probe()));
}

static void
report(struct daemon *d, uint16_t port)
{
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	shutdown(fd, SHUT_WR);
	tu_read_until(fd, buf, sizeof(buf), "\nend\n", IT_WAIT);
	close(fd);
	ck_assert_msg(strstr(buf, "\nend\n"), "no report: \"%s\"\n%s", buf,
	    it_tail(d->log));
	ck_assert_msg(it_has_line(buf, "pid_ok=1"), "%s", buf);
	ck_assert(it_has_line(buf, "fds=1"));
}

START_TEST(wait_service_listening_socket)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start(port, true);

	report(d, port);
	ck_assert(it_has_line(buf, "names=sd.w"));
	ck_assert(it_has_line(buf, "listening=1"));
	it_stop(d);
}
END_TEST

START_TEST(per_connection_socket)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start(port, false);

	for (int i = 0; i < 3; i++) {
		report(d, port);
		ck_assert(it_has_line(buf, "names=connection"));
		ck_assert(it_has_line(buf, "listening=0"));
	}
	it_stop(d);
}
END_TEST

/* Without it, a handler finds none of it (and fd 3 closed). */
START_TEST(off_by_default)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "services = ( { "
	    "name = \"c\"; protocol = \"tcp\"; address = \"127.0.0.1\"; "
	    "port = %u;\n  server = \"%s\"; args = [\"probe\", \"env\"]; } );\n",
	    port, it_probe()));
	int fd = tu_connect(port);

	shutdown(fd, SHUT_WR);
	tu_read_until(fd, buf, sizeof(buf), "\nend\n", IT_WAIT);
	close(fd);
	ck_assert(strstr(buf, "\nend\n"));
	ck_assert_ptr_null(strstr(buf, "LISTEN_"));
	ck_assert(!it_has_line(buf, "fd:3"));
	it_stop(d);
}
END_TEST

START_TEST(builtin_refused)
{
	char out[4096];
	const char *conf = tu_write("sockd.conf", "services = ( { name = \"e\"; "
	    "protocol = \"tcp\"; port = 7;\n  builtin = \"echo\"; "
	    "listen_fds = true; } );\n");

	int status = tu_run(out, sizeof(out), "-t", "-f", conf, NULL);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "%s", out);
	ck_assert_msg(strstr(out, "sockd.conf:2: service \"e\": listen_fds: for "
	    "a server"), "%s", out);
}
END_TEST

Suite *
listenfds_suite(void)
{
	Suite *s = suite_create("listen_fds");
	TCase *tc = tcase_create("listen_fds");

	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_test(tc, wait_service_listening_socket);
	tcase_add_test(tc, per_connection_socket);
	tcase_add_test(tc, off_by_default);
	tcase_add_test(tc, builtin_refused);
	suite_add_tcase(s, tc);
	return s;
}
