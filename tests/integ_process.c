/*
 * Integration: the process model. Children per connection, limits,
 * reaping, what a handler inherits, and what SIGTERM leaves behind.
 * Most handlers here are tests/probe, which reports what it was given.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

#define REPORT_MAX 65536

/* A config with one probe service on 127.0.0.1; args is the list's inside. */
static const char *
probe_conf(const char *name, const char *proto, uint16_t port, const char *args,
    const char *extra)
{
	return tu_write("sockd.conf",
	    "services = (\n"
	    "  { name = \"%s\"; protocol = \"%s\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; args = [ %s ]; %s }\n"
	    ");\n", name, proto, port, it_probe(), args, extra ? extra : "");
}

/*
 * Sets a disposition with the raw system call: glibc's sigaction() refuses
 * signals 32 and 33, which it reserves for itself.
 */
static void
raw_disposition(int sig, void (*handler)(int))
{
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} ksa = { .handler = handler };

	ck_assert_int_eq(syscall(SYS_rt_sigaction, sig, &ksa, NULL,
	    sizeof(ksa.mask)), 0);
}

/*
 * GNU make 4.3 runs recipes with signals 32 and 33 ignored; start every
 * environment test from the defaults so that only the test that means to
 * (reserved_signals_reset) depends on them.
 */
static void
env_setup(void)
{
	raw_disposition(32, SIG_DFL);
	raw_disposition(33, SIG_DFL);
	it_setup();
}

/* Reads a probe report up to its "end" line. */
static void
read_report(int fd, char *buf, size_t len)
{
	tu_read_until(fd, buf, len, "\nend\n", IT_WAIT);
	ck_assert_msg(strstr(buf, "\nend\n") != NULL,
	    "incomplete probe report:\n%s", buf);
}

/* Waits for the end of child pid and checks how it ended ("exited ... 0"). */
static void
expect_end(struct daemon *d, const char *svc, long pid, const char *want)
{
	const char *how = it_wait_reaped(d, svc, pid, IT_WAIT);

	ck_assert_msg(how != NULL, "service %s: pid %ld not reaped:\n%s", svc,
	    pid, it_tail(d->log));
	ck_assert_msg(strncmp(how, want, strlen(want)) == 0 &&
	    (how[strlen(want)] == '\0' || how[strlen(want)] == ' '),
	    "service %s: pid %ld %s, expected %s", svc, pid, how, want);
}

static long
read_hold_pid(int fd)
{
	char buf[128];

	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_msg(strncmp(buf, "pid=", 4) == 0, "probe said \"%s\"", buf);
	return strtol(buf + 4, NULL, 10);
}

/* Every "env:" line of a report is one of these, and each is there. */
static void
expect_env_exactly(const char *report, const char *const *lines)
{
	int n = 0;

	for (; lines[n]; n++)
		ck_assert_msg(it_has_line(report, lines[n]),
		    "no line \"%s\" in:\n%s", lines[n], report);
	ck_assert_msg(it_count_prefix(report, "env:") == n,
	    "expected %d variables, got:\n%s", n, report);
}

static void
expect_clean_process(const char *report)
{
	ck_assert_msg(it_has_line(report, "fd:0") &&
	    it_has_line(report, "fd:1") && it_has_line(report, "fd:2") &&
	    it_count_prefix(report, "fd:") == 3,
	    "open descriptors other than 0, 1, 2:\n%s", report);
	ck_assert_msg(it_has_line(report, "sigmask=0000000000000000"),
	    "signals blocked:\n%s", report);
	ck_assert_msg(it_has_line(report, "sigign=0000000000000000"),
	    "signals ignored:\n%s", report);
}

/* Waits up to 2 s for pid to hold exactly want descriptors again. */
static void
expect_fds(pid_t pid, int want)
{
	int fds = -1;

	for (long stop = tu_now_ms() + 2000; tu_now_ms() < stop; usleep(10000))
		if ((fds = tu_count_fds(pid)) == want)
			break;
	ck_assert_int_eq(fds, want);
}

/* n connections to port, one after another, each closed by the server. */
static void
connect_until_eof(uint16_t port, int n)
{
	for (int i = 0; i < n; i++) {
		int fd = tu_connect(port);
		ck_assert_int_ge(fd, 0);
		ck_assert_msg(it_wait_eof(fd, IT_WAIT), "connection %d not closed", i);
		close(fd);
	}
}

START_TEST(one_child_per_connection)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(probe_conf("hold", "tcp", port,
	    "\"probe\", \"hold\"", NULL));
	int a = tu_connect(port), b = tu_connect(port);
	long pa, pb;

	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(b, 0);
	pa = read_hold_pid(a);
	pb = read_hold_pid(b);
	ck_assert_int_gt(pa, 0);
	ck_assert_int_gt(pb, 0);
	ck_assert_int_ne(pa, pb);
	ck_assert_int_ne(pa, d->pid);
	ck_assert_int_ne(pb, d->pid);
	/* Both are children of the master, which logged them. */
	ck_assert_int_eq(it_conn_pid(d, "hold", it_local_port(a)), pa);
	ck_assert_int_eq(it_conn_pid(d, "hold", it_local_port(b)), pb);
	ck_assert_int_eq(tu_count_children(d->pid), 2);
	close(a);
	expect_end(d, "hold", pa, IT_LOG_EXIT "0");
	close(b);
	expect_end(d, "hold", pb, IT_LOG_EXIT "0");
	ck_assert(it_no_zombies(d->pid, 2000));
	it_stop(d);
}
END_TEST

/*
 * 200 short connections: every child is reaped and the master ends with
 * the descriptors it started with.
 */
START_TEST(many_connections_no_leaks)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(probe_conf("quick", "tcp", port,
	    "\"probe\", \"exit\", \"0\"", NULL));
	int fds0 = tu_count_fds(d->pid), done = 0;
	long end = tu_now_ms() + 60000;

	ck_assert_int_gt(fds0, 0);
	for (; done < 200 && tu_now_ms() < end; done++) {
		int fd = tu_connect(port);
		ck_assert_msg(fd >= 0, "connection %d refused", done);
		ck_assert_msg(it_wait_eof(fd, IT_WAIT),
		    "connection %d not closed", done);
		close(fd);
	}
	ck_assert_msg(done == 200, "only %d connections in 60 s", done);
	ck_assert_msg(it_wait_log_count(d, IT_LOG_EXIT "0", 200, 10000),
	    "not every child was reaped: %d", it_count(d->log, IT_LOG_EXIT "0"));
	ck_assert(it_no_zombies(d->pid, 2000));
	ck_assert_int_eq(tu_count_children(d->pid), 0);
	expect_fds(d->pid, fds0);
	it_stop(d);
}
END_TEST

/*
 * With many children alive, sockd reaps each through a pidfd (see
 * master.c: Reaping), those started before included; wrapper NULL runs it
 * as it is, tests/oldkernel on a kernel with no pidfds at all.
 */
static void
many_children(const char *wrapper)
{
	enum { HELD = 300, QUICK = 30 };	/* HELD above PIDFD_ABOVE */
	uint16_t ph = tu_free_port(), pq = tu_free_port();
	struct daemon *d = it_start_via(wrapper, tu_write("sockd.conf",
	    "services = (\n"
	    "  { name = \"hold\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; args = [ \"probe\", \"hold\" ]; },\n"
	    "  { name = \"quick\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; args = [ \"probe\", \"exit\", \"0\" ]; }\n"
	    ");\n", ph, it_probe(), pq, it_probe()));
	int held[HELD];

	for (int i = 0; i < HELD; i++) {
		ck_assert_int_ge(held[i] = tu_connect(ph), 0);
		ck_assert_int_gt(read_hold_pid(held[i]), 0);
	}
	connect_until_eof(pq, QUICK);
	ck_assert_msg(it_wait_log_count(d, IT_LOG_EXIT "0", QUICK, IT_WAIT),
	    "not every quick child was reaped: %d", it_count(d->log, IT_LOG_EXIT "0"));
	ck_assert_int_eq(tu_count_children(d->pid), HELD);
	for (int i = 0; i < HELD; i++)
		close(held[i]);
	ck_assert_msg(it_wait_log_count(d, IT_LOG_EXIT "0", QUICK + HELD, IT_WAIT),
	    "not every held child was reaped: %d", it_count(d->log, IT_LOG_EXIT "0"));
	ck_assert(it_no_zombies(d->pid, 2000));
	/* it_stop() checks the master is back to its descriptors at start. */
	it_stop(d);
}

START_TEST(many_children_reaped)
{
	many_children(NULL);
}
END_TEST

START_TEST(many_children_reaped_old_kernel)
{
	many_children(it_path("tests/oldkernel"));
}
END_TEST

/*
 * On a kernel without pidfds or close_range() (Linux 5.1, as faked by the
 * seccomp filter of tests/oldkernel) children are reaped on SIGCHLD, and
 * still inherit nothing but fds 0-2, handlers and built-ins alike.
 */
START_TEST(old_kernel_fallbacks)
{
	uint16_t pr = tu_free_port(), pq = tu_free_port(), pe = tu_free_port();
	static char report[REPORT_MAX];
	struct daemon *d = it_start_via(it_path("tests/oldkernel"), tu_write("sockd.conf",
	    "services = (\n"
	    "  { name = \"report\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; args = [ \"probe\", \"env\" ]; },\n"
	    "  { name = \"quick\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; args = [ \"probe\", \"exit\", \"0\" ]; },\n"
	    "  { name = \"echo\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    builtin = \"echo\"; }\n"
	    ");\n", pr, it_probe(), pq, it_probe(), pe));
	char buf[64];
	long pid;
	int fd;

	fd = tu_connect(pr);
	ck_assert_int_ge(fd, 0);
	read_report(fd, report, sizeof(report));
	expect_clean_process(report);
	pid = it_line_num(report, "pid");
	close(fd);
	expect_end(d, "report", pid, IT_LOG_EXIT "0");

	connect_until_eof(pq, 50);
	ck_assert_msg(it_wait_log_count(d, IT_LOG_EXIT "0", 51, IT_WAIT),
	    "not every child was reaped: %d", it_count(d->log, IT_LOG_EXIT "0"));

	ck_assert_int_ge(fd = tu_connect(pe), 0);
	it_send(fd, "ping\n");
	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_str_eq(buf, "ping\n");
	pid = it_conn_pid(d, "echo", it_local_port(fd));
	ck_assert_int_eq(tu_count_fds(pid), 3);
	close(fd);
	expect_end(d, "echo", pid, IT_LOG_EXIT "0");
	ck_assert(it_no_zombies(d->pid, 2000));
	ck_assert_int_eq(tu_count_children(d->pid), 0);
	it_stop(d);
}
END_TEST

/* Whether a second client waits in the backlog until the first is gone. */
static void
expect_second_waits(struct daemon *d, uint16_t p1, uint16_t p2)
{
	char buf[64];
	int a = tu_connect(p1), b;

	ck_assert_int_ge(a, 0);
	tu_read_until(a, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_str_eq(buf, "Welcome!\n");
	/* The kernel completes the handshake, but nobody serves b yet. */
	b = tu_connect(p2);
	ck_assert_int_ge(b, 0);
	ck_assert_msg(it_quiet(b, 500), "second client served at the cap");
	ck_assert(tu_wait_log(d, IT_LOG_CONN, IT_WAIT));
	tu_drain_log(d);
	ck_assert_int_eq(it_count(d->log, IT_LOG_CONN), 1);
	close(a);
	tu_read_until(b, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_str_eq(buf, "Welcome!\n");
	close(b);
}

START_TEST(instances_cap)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf",
	    "services = (\n"
	    "  { name = \"hello-tcp\"; protocol = \"tcp\"; port = %u;\n"
	    "    address = \"127.0.0.1\"; server = \"%s\"; instances = 1; }\n"
	    ");\n", port, it_path("services/hello-tcp")));

	expect_second_waits(d, port, port);
	it_stop(d);
}
END_TEST

START_TEST(max_children_across_services)
{
	uint16_t p1 = tu_free_port(), p2 = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf",
	    "sockd = { max_children = 1; };\n"
	    "services = (\n"
	    "  { name = \"one\"; protocol = \"tcp\"; port = %u;\n"
	    "    address = \"127.0.0.1\"; server = \"%s\"; },\n"
	    "  { name = \"two\"; protocol = \"tcp\"; port = %u;\n"
	    "    address = \"127.0.0.1\"; server = \"%s\"; }\n"
	    ");\n", p1, it_path("services/hello-tcp"), p2,
	    it_path("services/hello-tcp")));

	expect_second_waits(d, p1, p2);
	it_stop(d);
}
END_TEST

/* Handlers that crash or fail are reaped and disturb nothing. */
START_TEST(crash_and_failure_are_reaped)
{
	uint16_t pc = tu_free_port(), pe = tu_free_port(), ph = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf",
	    "services = (\n"
	    "  { name = \"crash\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; args = [ \"probe\", \"crash\" ]; },\n"
	    "  { name = \"early\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; args = [ \"probe\", \"exit\", \"3\" ]; },\n"
	    "  { name = \"hello\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; }\n"
	    ");\n", pc, it_probe(), pe, it_probe(), ph, it_path("services/hello-tcp")));
	int fds0 = tu_count_fds(d->pid), fd;
	char buf[64];
	long pid;

	fd = tu_connect(pc);
	ck_assert_int_ge(fd, 0);
	ck_assert(it_wait_eof(fd, IT_WAIT));
	pid = it_conn_pid(d, "crash", it_local_port(fd));
	close(fd);
	expect_end(d, "crash", pid, IT_LOG_KILLED "11");

	fd = tu_connect(pe);
	ck_assert_int_ge(fd, 0);
	ck_assert(it_wait_eof(fd, IT_WAIT));
	pid = it_conn_pid(d, "early", it_local_port(fd));
	close(fd);
	expect_end(d, "early", pid, IT_LOG_EXIT "3");

	ck_assert(it_no_zombies(d->pid, 2000));
	ck_assert_int_eq(kill(d->pid, 0), 0);
	fd = tu_connect(ph);
	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_str_eq(buf, "Welcome!\n");
	close(fd);
	/* The crash left no descriptor behind in the master either. */
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT, 2, IT_WAIT));
	expect_fds(d->pid, fds0);
	it_stop(d);
}
END_TEST

/* Connects to a service whose server cannot be executed. */
static void
expect_exec_failure(struct daemon *d, const char *svc, uint16_t port,
    const char *path, const char *why)
{
	char text[1024];
	long pid;
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	ck_assert_msg(it_wait_eof(fd, IT_WAIT), "%s: connection not closed",
	    svc);
	pid = it_conn_pid(d, svc, it_local_port(fd));
	close(fd);
	snprintf(text, sizeof(text), "service \"%s\": cannot execute %s: %s",
	    svc, path, why);
	ck_assert_msg(tu_wait_log(d, text, IT_WAIT), "no \"%s\" in:\n%s", text,
	    it_tail(d->log));
	expect_end(d, svc, pid, IT_LOG_EXIT "127");
}

START_TEST(exec_failure)
{
	uint16_t p1 = tu_free_port(), p2 = tu_free_port(), p3 = tu_free_port(),
	    ph = tu_free_port();
	const char *script = "#!/bin/sh\necho should not run\n";
	char locked[4096], gone[4096], badint[4096];
	struct daemon *d;
	char buf[64];
	int fd;

	snprintf(locked, sizeof(locked), "%s",
	    tu_write("locked.sh", "%s", script));
	snprintf(gone, sizeof(gone), "%s", tu_write("gone.sh", "%s", script));
	snprintf(badint, sizeof(badint), "%s",
	    tu_write("badint.sh", "#!/nonexistent/interpreter\n"));
	ck_assert_int_eq(chmod(locked, 0755), 0);
	ck_assert_int_eq(chmod(gone, 0755), 0);
	ck_assert_int_eq(chmod(badint, 0755), 0);
	d = it_start(tu_write("sockd.conf",
	    "services = (\n"
	    "  { name = \"locked\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; },\n"
	    "  { name = \"gone\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; },\n"
	    "  { name = \"badint\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; },\n"
	    "  { name = \"hello\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; }\n"
	    ");\n", p1, locked, p2, gone, p3, badint, ph, it_path("services/hello-tcp")));
	/* Valid at startup; broken afterwards. */
	ck_assert_int_eq(chmod(locked, 0), 0);
	ck_assert_int_eq(unlink(gone), 0);

	expect_exec_failure(d, "locked", p1, locked, "Permission denied");
	expect_exec_failure(d, "gone", p2, gone, "No such file or directory");
	expect_exec_failure(d, "badint", p3, badint,
	    "No such file or directory");
	ck_assert(it_no_zombies(d->pid, 2000));
	fd = tu_connect(ph);
	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_str_eq(buf, "Welcome!\n");
	close(fd);
	it_stop(d);
}
END_TEST

/*
 * What a TCP handler gets: the UCSPI variables and nothing else, fds 0-2
 * only, no blocked or ignored signal, even when sockd itself was started
 * with an extra variable, an inherited descriptor, a blocked signal and
 * ignored ones.
 */
START_TEST(tcp_environment)
{
	uint16_t port = tu_free_port();
	static char report[REPORT_MAX];
	char remote[64], local[64], service[64];
	const char *lines[] = { "env:PATH=/usr/local/bin:/usr/bin:/bin",
	    "env:PROTO=TCP", "env:TCPREMOTEIP=127.0.0.1", remote,
	    "env:TCPLOCALIP=127.0.0.1", local, service, "env:TCPCONNNUM=1", NULL };
	struct daemon *d;
	sigset_t set;
	int fd, leak;

	ck_assert_int_eq(setenv("SOCKD_TEST_MARKER", "1", 1), 0);
	/* Not close-on-exec: sockd inherits it. */
	ck_assert_int_ge(leak = open("/dev/null", O_RDONLY), 3);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &set, NULL), 0);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	d = it_start(probe_conf("env-tcp", "tcp", port, "\"probe\", \"env\"",
	    NULL));

	fd = tu_connect(port);
	ck_assert_int_ge(fd, 0);
	read_report(fd, report, sizeof(report));
	snprintf(remote, sizeof(remote), "env:TCPREMOTEPORT=%u",
	    it_local_port(fd));
	snprintf(local, sizeof(local), "env:TCPLOCALPORT=%u", port);
	snprintf(service, sizeof(service), "env:SOCKD_SERVICE=env-tcp");
	expect_env_exactly(report, lines);
	ck_assert(strstr(report, "SOCKD_TEST_MARKER") == NULL);
	expect_clean_process(report);
	ck_assert_int_eq(it_line_num(report, "ppid"), d->pid);
	ck_assert_int_eq(it_line_num(report, "pid"),
	    it_conn_pid(d, "env-tcp", it_local_port(fd)));
	ck_assert(it_has_line(report, "arg:probe"));
	ck_assert(it_has_line(report, "arg:env"));
	ck_assert_int_eq(it_count_prefix(report, "arg:"), 2);
	close(fd);
	expect_end(d, "env-tcp", it_line_num(report, "pid"), IT_LOG_EXIT "0");
	close(leak);
	it_stop(d);
}
END_TEST

/*
 * sockd resets inherited dispositions for its handlers; that includes
 * signals 32 and 33, which glibc's sigaction() cannot reset.
 */
START_TEST(reserved_signals_reset)
{
	uint16_t port = tu_free_port();
	static char report[REPORT_MAX];
	struct daemon *d;
	int fd;

	raw_disposition(32, SIG_IGN);
	raw_disposition(33, SIG_IGN);
	d = it_start(probe_conf("env-tcp", "tcp", port, "\"probe\", \"env\"",
	    NULL));
	fd = tu_connect(port);
	ck_assert_int_ge(fd, 0);
	read_report(fd, report, sizeof(report));
	ck_assert_msg(it_has_line(report, "sigign=0000000000000000"),
	    "a handler inherits sockd's ignored signals 32 and 33:\n%s", report);
	close(fd);
	it_stop(d);
}
END_TEST

/* args, argv[0] included, reach the handler as configured. */
START_TEST(args_reach_handler)
{
	uint16_t port = tu_free_port();
	static char report[REPORT_MAX];
	struct daemon *d = it_start(probe_conf("args", "tcp", port,
	    "\"my-name\", \"env\", \"two words\", \"\"", NULL));
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	read_report(fd, report, sizeof(report));
	ck_assert_msg(strstr(report, "arg:my-name\narg:env\narg:two words\narg:\n"),
	    "argv not as configured:\n%s", report);
	ck_assert_int_eq(it_count_prefix(report, "arg:"), 4);
	close(fd);
	it_stop(d);
}
END_TEST

/*
 * A service on every address reports the address the client used (in a
 * network of its own, where every address is the test's).
 */
START_TEST(wildcard_local_address)
{
	uint16_t port = (it_private_net(), tu_free_port());
	static char report[REPORT_MAX];
	char line[64];
	struct daemon *d = it_start(tu_write("sockd.conf",
	    "services = (\n"
	    "  { name = \"any\"; protocol = \"tcp\"; port = %u;\n"
	    "    server = \"%s\"; args = [ \"probe\", \"env\" ]; }\n"
	    ");\n", port, it_probe()));
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	read_report(fd, report, sizeof(report));
	ck_assert_msg(it_has_line(report, "env:TCPLOCALIP=127.0.0.1"), "%s",
	    report);
	snprintf(line, sizeof(line), "env:TCPLOCALPORT=%u", port);
	ck_assert_msg(it_has_line(report, line), "%s", report);
	close(fd);

	/* All of 127/8 is loopback: another local address, reported as such. */
	fd = tu_connect_from(NULL, "127.0.0.2", port);
	ck_assert_int_ge(fd, 0);
	read_report(fd, report, sizeof(report));
	ck_assert_msg(it_has_line(report, "env:TCPLOCALIP=127.0.0.2"), "%s",
	    report);
	ck_assert_msg(it_has_line(report, line), "%s", report);
	close(fd);
	it_stop(d);
}
END_TEST

/*
 * wait = true over TCP: one child gets the listening socket and accepts by
 * itself; sockd leaves the socket alone until that child exits.
 */
START_TEST(tcp_wait_service)
{
	uint16_t port = tu_free_port();
	static char ra[REPORT_MAX], rb[REPORT_MAX];
	const char *lines[] = { "env:PATH=/usr/local/bin:/usr/bin:/bin",
	    "env:PROTO=TCP", "env:SOCKD_SERVICE=acc", NULL };
	struct daemon *d = it_start(probe_conf("acc", "tcp", port,
	    "\"probe\", \"accept\"", "wait = true;"));
	int a = tu_connect(port), b;

	ck_assert_int_ge(a, 0);
	read_report(a, ra, sizeof(ra));
	ck_assert_msg(strncmp(ra, "listening=1\n", 12) == 0, "%s", ra);
	expect_env_exactly(ra, lines);
	expect_clean_process(ra);
	ck_assert(tu_wait_log(d, IT_LOG_TOOK, IT_WAIT));
	ck_assert_int_eq(it_count(d->log, IT_LOG_CONN), 0);

	/* The child accepted once and is busy: nobody accepts b. */
	b = tu_connect(port);
	ck_assert_int_ge(b, 0);
	ck_assert_msg(it_quiet(b, 500), "b served while the wait child runs");
	close(a);
	read_report(b, rb, sizeof(rb));
	ck_assert_int_ne(it_line_num(ra, "pid"), it_line_num(rb, "pid"));
	ck_assert(it_wait_log_count(d, IT_LOG_TOOK, 2, IT_WAIT));
	close(b);
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", 2, IT_WAIT));
	it_stop(d);
}
END_TEST

/* A UDP server gets the bound socket and PATH, PROTO, SOCKD_SERVICE only. */
START_TEST(udp_wait_environment)
{
	uint16_t port = tu_free_port();
	static char report[REPORT_MAX];
	const char *lines[] = { "env:PATH=/usr/local/bin:/usr/bin:/bin",
	    "env:PROTO=UDP", "env:SOCKD_SERVICE=udp-env", NULL };
	struct daemon *d;
	ssize_t n;

	ck_assert_int_eq(setenv("SOCKD_TEST_MARKER", "1", 1), 0);
	d = it_start(probe_conf("udp-env", "udp", port, "\"probe\", \"udp\"",
	    NULL));
	n = tu_udp_ask(port, 0, "hi", 2, report, sizeof(report) - 1, IT_WAIT);
	ck_assert_int_gt(n, 0);
	report[n] = '\0';
	ck_assert_msg(strncmp(report, "dgram=1\n", 8) == 0, "%s", report);
	ck_assert_msg(strstr(report, "\nend\n") != NULL, "%s", report);
	expect_env_exactly(report, lines);
	expect_clean_process(report);
	ck_assert_int_eq(it_line_num(report, "ppid"), d->pid);
	ck_assert(tu_wait_log(d, IT_LOG_TOOK, IT_WAIT));
	ck_assert(tu_wait_log(d, IT_LOG_EXIT "0", IT_WAIT));
	it_stop(d);
}
END_TEST

/*
 * A "probe stderr" handler on port: the client gets its stdout alone, and
 * its stderr line comes back through the service's log (": " and all, so
 * a write straight to the master's own stderr does not pass).
 */
static void
expect_stderr_logged(struct daemon *d, uint16_t port)
{
	int fd = tu_connect(port);
	char buf[256];

	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, buf, sizeof(buf), NULL, IT_WAIT);
	ck_assert_str_eq(buf, "ok\n");
	ck_assert(tu_wait_log(d, ": probe-stderr-line", IT_WAIT));
	close(fd);
}

/* What a handler writes to stderr goes to sockd's log, not to the client. */
START_TEST(handler_stderr)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(probe_conf("err", "tcp", port,
	    "\"probe\", \"stderr\"", NULL));

	expect_stderr_logged(d, port);
	it_stop(d);
}
END_TEST

/*
 * With many services the master's own descriptors push a connection's far
 * up its table, and the master lends it on 0 rather than let the child
 * copy the table up to it (spawn.c): the handler still gets 0-2 and
 * nothing else, and its stderr still goes to the service's log.
 */
START_TEST(handler_fds_with_many_services)
{
	enum { FILLER = 40 };
	_Static_assert(2 * (FILLER + 2) > 64, "the connection must land above PLACE_BELOW");
	static char conf[16384], report[REPORT_MAX];
	uint16_t pr = tu_free_port(), pe = tu_free_port();
	size_t n = 0;
	int fd;

	n += snprintf(conf + n, sizeof(conf) - n, "services = (\n");
	for (int i = 0; i < FILLER; i++)
		n += snprintf(conf + n, sizeof(conf) - n,
		    "  { name = \"f%d\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
		    "    server = \"%s\"; args = [ \"probe\", \"exit\", \"0\" ]; },\n",
		    i, tu_free_port(), it_probe());
	n += snprintf(conf + n, sizeof(conf) - n,
	    "  { name = \"report\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; args = [ \"probe\", \"env\" ]; },\n"
	    "  { name = \"err\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; args = [ \"probe\", \"stderr\" ]; }\n);\n",
	    pr, it_probe(), pe, it_probe());
	ck_assert_uint_lt(n, sizeof(conf));
	struct daemon *d = it_start(tu_write("sockd.conf", "%s", conf));

	/* One listener and one stderr socket per service, at least: a new
	 * connection's descriptor is above all of them. */
	ck_assert_int_gt(tu_count_fds(d->pid), 2 * (FILLER + 2));
	ck_assert_int_ge(fd = tu_connect(pr), 0);
	read_report(fd, report, sizeof(report));
	expect_clean_process(report);
	close(fd);
	expect_stderr_logged(d, pe);
	it_stop(d);
}
END_TEST

/*
 * Two handlers of one service write halves of their lines in turn: each
 * line is logged whole, under the pid that wrote it, and a last line
 * without a newline is logged when its writer has gone.
 */
START_TEST(handler_stderr_interleaved)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(probe_conf("err", "tcp", port,
	    "\"probe\", \"halves\"", NULL));
	int a = tu_connect(port), b = tu_connect(port);
	long pa, pb;
	char buf[256];

	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(b, 0);
	tu_read_until(a, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_str_eq(buf, "ready\n");
	tu_read_until(b, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_str_eq(buf, "ready\n");
	pa = it_conn_pid(d, "err", it_local_port(a));
	pb = it_conn_pid(d, "err", it_local_port(b));
	it_send(b, "go\n");
	it_send(a, "go\n");
	ck_assert(it_wait_eof(a, IT_WAIT));
	ck_assert(it_wait_eof(b, IT_WAIT));
	close(a);
	close(b);
	for (int i = 0; i < 2; i++) {
		long pid = i ? pb : pa;
		char want[128];
		snprintf(want, sizeof(want), "service \"err\": pid %ld: %ld:first-second\n",
		    pid, pid);
		ck_assert_msg(tu_wait_log(d, want, IT_WAIT), "no \"%s\" in:\n%s", want,
		    it_tail(d->log));
		snprintf(want, sizeof(want), "service \"err\": pid %ld: tail\n", pid);
		ck_assert_msg(tu_wait_log(d, want, IT_WAIT), "no \"%s\" in:\n%s", want,
		    it_tail(d->log));
	}
	it_stop(d);
}
END_TEST

/*
 * A handler's last words are read before its end is handled: the master
 * is stopped while six handlers finish their lines and exit, so on waking
 * it finds their ends and more stderr than one wake-up reads at once.
 */
START_TEST(handler_stderr_read_before_reap)
{
	enum { N = 6 };
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(probe_conf("err", "tcp", port,
	    "\"probe\", \"halves\"", NULL));
	int fd[N];
	long pid[N];
	char buf[256], want[128];

	for (int i = 0; i < N; i++) {
		ck_assert_int_ge(fd[i] = tu_connect(port), 0);
		tu_read_until(fd[i], buf, sizeof(buf), "\n", IT_WAIT);
		ck_assert_str_eq(buf, "ready\n");
		pid[i] = it_conn_pid(d, "err", it_local_port(fd[i]));
	}
	ck_assert_int_eq(kill(d->pid, SIGSTOP), 0);
	for (int i = 0; i < N; i++)
		it_send(fd[i], "go\n");
	/* A handler's connection ends when it exits: the master holds none. */
	for (int i = 0; i < N; i++) {
		ck_assert(it_wait_eof(fd[i], IT_WAIT));
		close(fd[i]);
	}
	ck_assert_int_eq(kill(d->pid, SIGCONT), 0);
	for (int i = 0; i < N; i++) {
		snprintf(want, sizeof(want), "service \"err\": pid %ld: %ld:first-second\n",
		    pid[i], pid[i]);
		ck_assert_msg(tu_wait_log(d, want, IT_WAIT), "no \"%s\" in:\n%s", want,
		    it_tail(d->log));
	}
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", N, IT_WAIT));
	it_stop(d);
}
END_TEST

/* Descriptors a handler sends over its stderr never reach the master. */
START_TEST(handler_stderr_passes_fds)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(probe_conf("err", "tcp", port,
	    "\"probe\", \"passfd\"", NULL));
	int fds0 = tu_count_fds(d->pid);
	char buf[64];

	for (int i = 0; i < 5; i++) {
		int fd = tu_connect(port);
		ck_assert_int_ge(fd, 0);
		tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
		ck_assert_str_eq(buf, "ok\n");
		close(fd);
	}
	ck_assert(it_wait_log_count(d, ": passed", 5, IT_WAIT));
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", 5, IT_WAIT));
	expect_fds(d->pid, fds0);
	it_stop(d);
}
END_TEST

/*
 * SIGTERM: sockd closes its ports and exits 0; a running handler is left
 * alone, and finishes when its client goes.
 */
START_TEST(sigterm_leaves_children)
{
	uint16_t port = tu_free_port();
	struct daemon *d;
	int fd, status;
	pid_t ppid = 0;
	long pid;

	it_subreaper();		/* the orphan comes to us, not to init */
	d = it_start(probe_conf("hold", "tcp", port, "\"probe\", \"hold\"",
	    NULL));
	fd = tu_connect(port);
	ck_assert_int_ge(fd, 0);
	pid = read_hold_pid(fd);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(it_conn_pid(d, "hold", it_local_port(fd)), pid);

	status = tu_stop(d, SIGTERM);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "wait status %#x:\n%s", status, it_tail(d->log));
	ck_assert_int_eq(kill(pid, 0), 0);
	ck_assert(it_alive(pid, &ppid));
	ck_assert_int_eq(ppid, getpid());
	/* The port is closed: the handler did not inherit it either. */
	ck_assert_int_eq(tu_connect(port), -1);
	close(fd);
	status = it_wait_child(pid, 2000);
	ck_assert_msg(status != -1,
	    "handler still running after its client left");
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

Suite *
process_suite(void)
{
	Suite *s = suite_create("process");
	TCase *tc;

	tu_tcase(s, "children", it_setup, it_teardown, IT_TIMEOUT,
	    one_child_per_connection, instances_cap,
	    max_children_across_services, crash_and_failure_are_reaped,
	    exec_failure, sigterm_leaves_children, NULL);
	/* 200 connections under ASan: its own, longer limit. */
	tu_tcase(s, "load", it_setup, it_teardown, 90,
	    many_connections_no_leaks, old_kernel_fallbacks,
	    many_children_reaped, many_children_reaped_old_kernel, NULL);
	tc = tu_tcase(s, "environment", env_setup, it_teardown, IT_TIMEOUT,
	    tcp_environment, reserved_signals_reset, args_reach_handler,
	    tcp_wait_service, udp_wait_environment,
	    handler_stderr, handler_fds_with_many_services,
	    handler_stderr_interleaved, handler_stderr_read_before_reap,
	    handler_stderr_passes_fds, NULL);
	tu_add_test(tc, wildcard_local_address, it_private_net_skip());
	return s;
}
