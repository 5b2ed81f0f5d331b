/*
 * inetd_conf: a classic inetd.conf served beside sockd.conf's services,
 * re-read on SIGHUP, and a port both files claim refused with both lines.
 */
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

static const char *
me(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return pw ? pw->pw_name : "root";
}

static void
expect_udp(uint16_t port, const char *msg, const char *reply)
{
	char buf[256];
	ssize_t n = tu_udp_ask(port, 0, msg, strlen(msg), buf, sizeof(buf) - 1,
	    IT_WAIT);

	ck_assert_msg(n >= 0, "no reply to \"%s\"", msg);
	buf[n] = '\0';
	ck_assert_str_eq(buf, reply);
}

/* inetd.conf with hello-tcp on a, echo-udp on u, and b as the caller says. */
static void
write_inetd(uint16_t a, uint16_t u, uint16_t b, bool a_on, bool b_on)
{
	char la[512] = "", lb[512];

	if (a_on)
		snprintf(la, sizeof(la), "127.0.0.1:%u stream tcp4 nowait %s %s "
		    "hello-tcp\n", a, me(), it_path("services/hello-tcp"));
	snprintf(lb, sizeof(lb), "%s127.0.0.1:%u\tstream\ttcp4\tnowait.600\t%s\t%s\n",
	    b_on ? "" : "#<off># ", b, me(), it_path("services/hello-tcp"));
	tu_write("inetd.conf", "# written by the test\n\n%s"
	    "127.0.0.1:%u dgram udp4 wait %s %s echo-udp 1\n%s", la, u, me(),
	    it_path("services/echo-udp"), lb);
}

START_TEST(inetd_conf_served_and_reloaded)
{
	uint16_t a = tu_free_port(), u = tu_free_port(), b = tu_free_port(),
	    own = tu_free_port();
	const char *conf;
	struct daemon *d;

	write_inetd(a, u, b, true, false);
	conf = tu_write("sockd.conf", "sockd = { inetd_conf = \"inetd.conf\"; };\n"
	    "services = ({ name = \"own\"; protocol = \"tcp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; server = \"%s\"; });\n", own,
	    it_path("services/hello-tcp"));
	d = it_start(conf);
	ck_assert(it_hello(a, "inetd"));
	ck_assert(it_hello(own, "sockd"));
	expect_udp(u, "Michael", "Echo: Michael!");
	/* Switched off by update-inetd: not served. */
	ck_assert_int_eq(tu_connect(b), -1);
	ck_assert_ptr_nonnull(strstr(d->log, "127.0.0.1-"));

	/* update-inetd --enable b, a's line removed, then SIGHUP. */
	write_inetd(a, u, b, false, true);
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert_msg(tu_wait_log(d, "reloaded: 3 services", 10000), "%s",
	    it_tail(d->log));
	ck_assert(it_hello(b, "enabled"));
	ck_assert_int_eq(tu_connect(a), -1);
	ck_assert(it_hello(own, "kept"));
	it_stop(d);
}
END_TEST

/* The internal services on their /etc/services ports: root binds those. */
START_TEST(inetd_conf_internal)
{
	const char *conf;
	struct daemon *d;
	char buf[128];
	int fd;

	tu_write("inetd.conf", "127.0.0.1:daytime stream tcp4 nowait root internal\n"
	    "127.0.0.1:time dgram udp4 wait root internal\n");
	conf = tu_write("sockd.conf", "sockd = { inetd_conf = \"inetd.conf\"; };\n");
	d = it_start(conf);
	ck_assert_int_ge(fd = tu_connect(13), 0);
	ck_assert_int_gt(tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT), 10);
	close(fd);
	ck_assert_int_eq(tu_udp_ask(37, 0, "", 0, buf, sizeof(buf), IT_WAIT), 4);
	it_stop(d);
}
END_TEST

START_TEST(inetd_conf_port_clash)
{
	uint16_t p = tu_free_port();
	const char *conf;
	char out[4096];
	int status;

	tu_write("inetd.conf", "#\n%u stream tcp nowait %s %s hello-tcp\n", p, me(),
	    it_path("services/hello-tcp"));
	conf = tu_write("sockd.conf", "sockd = { inetd_conf = \"inetd.conf\"; };\n"
	    "services = (\n{ name = \"mine\"; protocol = \"tcp\"; port = %u;\n"
	    "  server = \"%s\"; });\n", p, it_path("services/hello-tcp"));
	status = tu_run(out, sizeof(out), "-t", "-f", conf, NULL);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	ck_assert_msg(strstr(out, "inetd.conf:2: ") && strstr(out, "sockd.conf:3)")
	    && strstr(out, "\"mine\""), "%s", out);
}
END_TEST

Suite *
inetd_suite(void)
{
	Suite *s = suite_create("inetd");
	TCase *tc;

	tc = tu_tcase(s, "inetd", it_setup, it_teardown, IT_TIMEOUT,
	    inetd_conf_served_and_reloaded, inetd_conf_port_clash, NULL);
	tu_add_test(tc, inetd_conf_internal, tu_root_skip());
	return s;
}
