/*
 * Per-service controls through a real daemon: who may connect, how many,
 * how fast, as whom, and over IPv6. The handler is tests/probe-controls.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "integ_util.h"

static uint16_t port;
static char buf[16384];

static void
setup(void)
{
	it_setup();
	port = tu_free_port();
}

/* Starts sockd with one TCP service on port; body adds its keys. */
static struct daemon *
start(const char *global, const char *body)
{
	return it_start(tu_write("sockd.conf",
	    "sockd = { %s };\n"
	    "services = ( { name = \"probe\"; protocol = \"tcp\"; port = %u;\n"
	    "  server = \"%s\";\n  %s%s } );\n",
	    global, port, it_path("tests/probe-controls.sh"),
	    strstr(body, "address") ? "" : "address = \"127.0.0.1\"; ", body));
}

/* Connects from src to dst:port and reads the probe's report (to END). */
static const char *
report_from(struct daemon *d, const char *src, const char *dst)
{
	int fd = tu_connect_from(src, dst, port);

	ck_assert_msg(fd >= 0, "connect %s: %s", dst, strerror(errno));
	tu_read_until(fd, buf, sizeof(buf), "END", 5000);
	close(fd);
	ck_assert_msg(strstr(buf, "END"), "no report from the probe: \"%s\"\n%s",
	    buf, it_tail(d->log));
	return buf;
}

static const char *
report(struct daemon *d)
{
	return report_from(d, NULL, "127.0.0.1");
}

/* A connection the "hold" probe keeps open; its pid in *pid. */
static int
hold_from(struct daemon *d, const char *src, pid_t *pid)
{
	char line[256];
	int fd = tu_connect_from(src, "127.0.0.1", port);

	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, line, sizeof(line), "started", 5000);
	ck_assert_msg(strstr(line, "started"), "handler did not start: \"%s\"\n%s",
	    line, it_tail(d->log));
	if (pid)
		*pid = atol(strstr(line, "pid=") + 4);
	return fd;
}

/* Reads what a refused client gets: the message, then EOF. */
static void
expect_refused(const char *src, const char *msg)
{
	int fd = tu_connect_from(src, "127.0.0.1", port);
	char got[256];

	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, got, sizeof(got), NULL, 3000);
	close(fd);
	ck_assert_msg(strcmp(got, msg) == 0, "got \"%s\", wanted \"%s\"", got, msg);
}

START_TEST(user_nobody)
{
	struct daemon *d = start("", "user = \"nobody\";");
	report(d);
	ck_assert_msg(strstr(buf, "Uid:\t65534\t65534\t65534\t65534\n"), "%s", buf);
	ck_assert_msg(strstr(buf, "Gid:\t65534\t65534\t65534\t65534\n"), "%s", buf);
	ck_assert_msg(strstr(buf, "Groups:\t65534 \n") ||
	    strstr(buf, "Groups:\t65534\n"), "%s", buf);
	ck_assert_msg(tu_wait_log(d, "will run as root", 0) == false,
	    "warned about a service that drops root:\n%s", d->log);
}
END_TEST

START_TEST(root_warning)
{
	struct daemon *d = start("", "");
	ck_assert(tu_wait_log(d, "service \"probe\": ", 1000));
	ck_assert_msg(tu_wait_log(d, "will run as root", 1000), "%s", d->log);
}
END_TEST

/* Rewrites sockd.conf with services probe and other (keys in body),
 * sends SIGHUP and waits until the nth reload is logged. */
static void
reload_with(struct daemon *d, const char *body, int n)
{
	static uint16_t other_port;

	if (n == 1)
		other_port = tu_free_port();
	tu_write("sockd.conf",
	    "services = ( { name = \"probe\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;\n"
	    "  server = \"%s\"; },\n"
	    "  { name = \"other\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;\n"
	    "  server = \"%s\"; %s } );\n", port, it_path("tests/probe-controls.sh"),
	    other_port, it_path("tests/probe-controls.sh"), body);
	kill(d->pid, SIGHUP);
	it_wait_log_count(d, "reloaded:", n, IT_WAIT);
	ck_assert_msg(it_count(d->log, "reloaded:") == n, "%s", it_tail(d->log));
}

/* How many root warnings named service name (one line names them all). */
static int
root_warnings(struct daemon *d, const char *name)
{
	char quoted[128];
	int n = 0;

	snprintf(quoted, sizeof(quoted), "\"%s\"", name);
	for (const char *l = d->log; (l = strstr(l, "will run as root")) != NULL;
	    l++) {
		const char *start = l;
		while (start > d->log && start[-1] != '\n')
			start--;
		const char *hit = strstr(start, quoted);
		n += hit != NULL && hit < l;
	}
	return n;
}

/* The root warnings come once: a reload repeats them only for a service
 * that is new or whose user changed. */
START_TEST(root_warning_once)
{
	struct daemon *d = start("", "");
	ck_assert_msg(tu_wait_log(d, "will run as root", 1000), "%s", d->log);
	reload_with(d, "", 1);		/* other is new */
	ck_assert_msg(root_warnings(d, "probe") == 1 && root_warnings(d, "other") == 1,
	    "%s", d->log);
	reload_with(d, "", 2);		/* nothing changed */
	reload_with(d, "user = \"nobody\";", 3);
	reload_with(d, "", 4);		/* other back to root */
	ck_assert_msg(root_warnings(d, "probe") == 1 && root_warnings(d, "other") == 2,
	    "%s", d->log);
}
END_TEST

START_TEST(per_source)
{
	int a, b, c;

	struct daemon *d = start("",
	    "args = [\"probe\", \"hold\"]; per_source = 2;\n"
	    "refuse_message = \"too many\\n\";");
	a = hold_from(d, "127.0.0.1", NULL);
	b = hold_from(d, "127.0.0.1", NULL);
	expect_refused("127.0.0.1", "too many\n");
	c = hold_from(d, "127.0.0.2", NULL);
	ck_assert_msg(tu_wait_log(d, "refused 127.0.0.1 port ", 2000), "%s", d->log);
	ck_assert(tu_wait_log(d, "per_source limit reached", 0));
	close(a);
	close(b);
	close(c);
}
END_TEST

START_TEST(refusal_flood_is_summarized)
{
	int a;

	struct daemon *d = start("",
	    "args = [\"probe\", \"hold\"]; per_source = 1;");
	a = hold_from(d, NULL, NULL);
	for (int i = 0; i < 5; i++)
		expect_refused(NULL, "");
	/* One line for the first, then one summary for the rest. */
	ck_assert_msg(tu_wait_log(d, "4 more refusals (per_source limit reached) "
	    "suppressed", 5000), "%s", d->log);
	const char *first = strstr(d->log, "per_source limit reached");
	ck_assert_ptr_null(strstr(first + 1, "refused 127.0.0.1"));
	close(a);
}
END_TEST

START_TEST(source_rate)
{
	int a, b;

	/* One new connection per second per client, burst 1. */
	struct daemon *d = start("",
	    "args = [\"probe\", \"hold\"]; source_rate = 1;\n"
	    "refuse_message = \"slow down\\n\";");
	a = hold_from(d, "127.0.0.1", NULL);
	expect_refused("127.0.0.1", "slow down\n");
	b = hold_from(d, "127.0.0.2", NULL);	/* another client has its own bucket */
	ck_assert_msg(tu_wait_log(d, "source_rate exceeded", 2000), "%s", d->log);
	close(a);
	close(b);
	/* A token later, the first client is served again. */
	usleep(1100000);
	a = hold_from(d, "127.0.0.1", NULL);
	close(a);
}
END_TEST

START_TEST(per_source_slot_freed_on_sigkill)
{
	pid_t pid;
	int a, b;

	struct daemon *d = start("",
	    "args = [\"probe\", \"hold\"]; per_source = 1;");
	a = hold_from(d, NULL, &pid);
	expect_refused(NULL, "");
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_msg(tu_wait_log(d, "killed by signal 9", 5000), "%s", d->log);
	b = hold_from(d, NULL, NULL);
	close(a);
	close(b);
}
END_TEST

START_TEST(rate_spreads_connections)
{
	enum { N = 20 };
	int fds[N], served = 0;
	long t0 = tu_now_ms(), last = 0;

	struct daemon *d = start("", "args = [\"probe\"]; rate = 5;");
	for (int i = 0; i < N; i++)
		ck_assert_int_ge(fds[i] = tu_connect(port), 0);
	for (int i = 0; i < N; i++) {
		tu_read_until(fds[i], buf, sizeof(buf), "END", 8000);
		served += strstr(buf, "END") != NULL;
		last = tu_now_ms() - t0;
		close(fds[i]);
	}
	ck_assert_int_eq(served, N);
	/* A burst of 5, then one every 200 ms: about 3 s for the rest. */
	ck_assert_msg(last >= 2500 && last <= 5000, "20 connections in %ld ms", last);
	ck_assert_msg(!tu_wait_log(d, "refused", 0), "%s", d->log);
}
END_TEST

START_TEST(only_from)
{
	struct daemon *d = start("refuse_message = \"denied\\n\";",
	    "only_from = [\"127.0.0.2/32\"];");
	expect_refused("127.0.0.1", "denied\n");
	ck_assert_msg(tu_wait_log(d, "refused 127.0.0.1 port ", 2000), "%s", d->log);
	ck_assert(tu_wait_log(d, "access denied", 0));
	report_from(d, "127.0.0.2", "127.0.0.1");
	ck_assert(it_has_line(buf, "TCPREMOTEIP=127.0.0.2"));
}
END_TEST

START_TEST(no_access_most_specific)
{
	struct daemon *d = start("",
	    "no_access = \"127.0.0.0/8\"; only_from = [\"127.0.0.2\"];");
	expect_refused("127.0.0.1", "");
	report_from(d, "127.0.0.2", "127.0.0.1");
}
END_TEST

/* NULL when ::1 can be bound, else why the IPv6 tests are skipped. */
static const char *
ipv6_skip(void)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	int fd = socket(AF_INET6, SOCK_STREAM, 0), ok;

	sin6.sin6_addr = in6addr_loopback;
	ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	if (fd >= 0)
		close(fd);
	return ok ? NULL : "no ::1 on this host";
}

START_TEST(ipv6_loopback)
{
	struct daemon *d = start("", "address = \"::1\";");
	report_from(d, NULL, "::1");
	ck_assert_msg(it_has_line(buf, "TCPREMOTEIP=::1"), "%s", buf);
	ck_assert(it_has_line(buf, "TCPLOCALIP=::1"));
	ck_assert(tu_connect(port) == -1);
}
END_TEST

/* The wildcards in a network of their own, whose addresses are the test's. */
START_TEST(ipv6_dual_stack)
{
	char line[64];
	struct daemon *d;

	it_private_net();
	d = start("",
	    "address = \"::\"; only_from = [\"127.0.0.0/8\", \"::1\"];");
	report_from(d, "127.0.0.2", "127.0.0.1");
	/* IPv4 clients read as plain dotted IPv4, never ::ffff:a.b.c.d. */
	ck_assert_msg(it_has_line(buf, "TCPREMOTEIP=127.0.0.2"), "%s", buf);
	ck_assert(it_has_line(buf, "TCPLOCALIP=127.0.0.1"));
	snprintf(line, sizeof(line), "TCPLOCALPORT=%u", port);
	ck_assert(it_has_line(buf, line));
	report_from(d, NULL, "::1");
	ck_assert(it_has_line(buf, "TCPREMOTEIP=::1"));
}
END_TEST

START_TEST(ipv6_only)
{
	struct daemon *d;

	it_private_net();
	d = start("",
	    "address = [\"::\", \"127.0.0.1\"]; v6only = true;");
	report_from(d, NULL, "::1");
	ck_assert(it_has_line(buf, "TCPREMOTEIP=::1"));
	report(d);
	ck_assert(it_has_line(buf, "TCPREMOTEIP=127.0.0.1"));
}
END_TEST

START_TEST(environment)
{
	setenv("SOCKD_TEST_PASS", "passed through", 1);
	setenv("SOCKD_TEST_SECRET", "leaked", 1);
	struct daemon *d = start("env = [\"FROM_GLOBAL=1\"];",
	    "env = [\"FOO=bar baz\"]; passenv = [\"SOCKD_TEST_PASS\", \"UNSET_X\"];");
	report(d);
	ck_assert_msg(it_has_line(buf, "FOO=bar baz"), "%s", buf);
	ck_assert(it_has_line(buf, "SOCKD_TEST_PASS=passed through"));
	ck_assert(it_has_line(buf, "PATH=/usr/local/bin:/usr/bin:/bin"));
	ck_assert(it_has_line(buf, "SOCKD_SERVICE=probe"));
	ck_assert(it_has_line(buf, "PROTO=TCP"));
	ck_assert(it_has_line(buf, "TCPCONNNUM=1"));
	ck_assert(it_has_line(buf, "TCPREMOTEIP=127.0.0.1"));
	/* The service's env replaces the global default; nothing else leaks. */
	ck_assert(strstr(buf, "FROM_GLOBAL") == NULL);
	ck_assert(strstr(buf, "SOCKD_TEST_SECRET") == NULL);
	ck_assert(strstr(buf, "UNSET_X") == NULL);
	ck_assert(strstr(buf, "\nHOME=") == NULL);
}
END_TEST

/* The number of the connection hold_from(d, src) made, from its handler. */
static int
held_connnum(int fd)
{
	char line[256];
	const char *p;

	tu_read_until(fd, line, sizeof(line), "started", 5000);
	ck_assert_msg((p = strstr(line, " conn=")) != NULL, "%s", line);
	return atoi(p + 6);
}

/* TCPCONNNUM counts the live connections from the client's address, as
 * s6-tcpserver does, not those of the whole service. */
START_TEST(connnum_counts_live_children)
{
	pid_t pid;
	int a, b, c, e;

	struct daemon *d = start("", "args = [\"probe\", \"hold\"];");
	a = hold_from(d, NULL, &pid);
	b = tu_connect(port);
	ck_assert_int_ge(b, 0);
	ck_assert_int_eq(held_connnum(b), 2);
	c = tu_connect_from("127.0.0.2", "127.0.0.1", port);
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(held_connnum(c), 1);
	/* Once a's handler is gone, 127.0.0.1 has one connection left. */
	kill(pid, SIGKILL);
	close(a);
	for (long end = tu_now_ms() + 5000; kill(pid, 0) == 0 && tu_now_ms() < end;)
		usleep(10000);
	ck_assert(tu_wait_log(d, "killed by signal", 5000));
	e = tu_connect(port);
	ck_assert_int_ge(e, 0);
	ck_assert_int_eq(held_connnum(e), 2);
	close(b);
	close(c);
	close(e);
}
END_TEST

START_TEST(process_setup)
{
	/* The handler is /bin/sh, never sanitized, so an address-space cap is
	 * safe here even when sockd itself runs under ASan. */
	struct daemon *d = start("",
	    "rlimits = { nofile = 64; core = 0; cpu = 10; as = 268435456; };\n"
	    "nice = 5; umask = \"027\"; chdir = \"/tmp\";");
	report(d);
	ck_assert_msg(it_has_line(buf, "umask=0027"), "%s", buf);
	ck_assert(it_has_line(buf, "cwd=/tmp"));
	ck_assert(it_has_line(buf, "nice=5"));
	ck_assert(strstr(buf, "Max open files 64 64 files"));
	ck_assert(strstr(buf, "Max core file size 0 0 bytes"));
	ck_assert(strstr(buf, "Max cpu time 10 10 seconds"));
	ck_assert(strstr(buf, "Max address space 268435456 268435456 bytes"));
}
END_TEST

START_TEST(max_lifetime)
{
	long t0;
	int fd;

	struct daemon *d = start("",
	    "args = [\"probe\", \"hold\"]; max_lifetime = 1;");
	t0 = tu_now_ms();
	fd = hold_from(d, NULL, NULL);
	tu_read_until(fd, buf, sizeof(buf), NULL, 5000);	/* to EOF */
	close(fd);
	ck_assert_msg(tu_now_ms() - t0 < 3000, "lived %ld ms", tu_now_ms() - t0);
	ck_assert_msg(tu_wait_log(d, "outlived max_lifetime", 1000), "%s", d->log);
	ck_assert(tu_wait_log(d, "killed by signal 15", 1000));
}
END_TEST

START_TEST(max_lifetime_sigkill)
{
	int fd;

	struct daemon *d = start("",
	    "args = [\"probe\", \"stubborn\"]; max_lifetime = 1;");
	fd = hold_from(d, NULL, NULL);
	ck_assert_msg(tu_wait_log(d, "outlived max_lifetime", 3000), "%s", d->log);
	ck_assert_msg(tu_wait_log(d, "ignored SIGTERM, killing", 7000), "%s", d->log);
	ck_assert(tu_wait_log(d, "killed by signal 9", 2000));
	close(fd);
}
END_TEST

static struct daemon *
start_udp_echo(const char *extra)
{
	return it_start(tu_write("sockd.conf",
	    "services = ( { name = \"echo\"; protocol = \"udp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; builtin = \"echo\"; %s } );\n", port, extra));
}

START_TEST(udp_loop_guard)
{
	char got[64];

	struct daemon *d = start_udp_echo("");
	ck_assert_int_eq(tu_udp_ask(port, 0, "hi", 2, got, sizeof(got), 2000), 2);
	ck_assert_int_eq(tu_udp_ask(port, 1023, "hi", 2, got, sizeof(got), 500), -1);
	it_stop(d);
	d = start_udp_echo("udp_loop_guard = false;");
	ck_assert_int_eq(tu_udp_ask(port, 1023, "hi", 2, got, sizeof(got), 2000), 2);
}
END_TEST

START_TEST(udp_builtin_access)
{
	char got[64];

	start_udp_echo("no_access = \"127.0.0.1\";");
	ck_assert_int_eq(tu_udp_ask(port, 0, "hi", 2, got, sizeof(got), 500), -1);
}
END_TEST

START_TEST(not_root_named_user)
{
	const char *conf = tu_write("sockd.conf",
	    "services = ( { name = \"probe\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;\n"
	    "  server = \"%s\"; user = \"root\"; } );\n", port,
	    tu_path("tests/probe-controls.sh"));
	/* As nobody, a service naming root cannot start, and -t says so. */
	char out[4096];
	pid_t pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		chmod(tu_tmpdir(), 0755);
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(3);
		if (tu_run(out, sizeof(out), "-t", "-f", conf, NULL) == 0 ||
		    strstr(out, "only root can run handlers") == NULL)
			_exit(1);
		_exit(tu_run(out, sizeof(out), "-F", "-f", conf, NULL) != 0 &&
		    strstr(out, "only root can run handlers") ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

Suite *
controls_suite(void)
{
	Suite *s = suite_create("controls");
	TCase *tc;

	tc = tu_tcase(s, "controls", setup, it_teardown, IT_TIMEOUT, per_source,
	    source_rate, refusal_flood_is_summarized,
	    per_source_slot_freed_on_sigkill, rate_spreads_connections,
	    only_from, no_access_most_specific, environment,
	    connnum_counts_live_children, process_setup, max_lifetime,
	    max_lifetime_sigkill, udp_builtin_access, NULL);
	tu_add_test(tc, user_nobody, tu_nobody_skip());
	tu_add_test(tc, root_warning, tu_root_skip());
	tu_add_test(tc, root_warning_once, tu_root_skip());
	tu_add_test(tc, ipv6_loopback, ipv6_skip());
	tu_add_test(tc, ipv6_dual_stack, ipv6_skip() ? ipv6_skip() : it_private_net_skip());
	tu_add_test(tc, ipv6_only, ipv6_skip() ? ipv6_skip() : it_private_net_skip());
	tu_add_test(tc, udp_loop_guard,
	    geteuid() == 0 ? NULL : "binding source port 1023 needs root");
	tu_add_test(tc, not_root_named_user, tu_nobody_skip());
	return s;
}
