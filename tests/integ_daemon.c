/*
 * Integration: the sockd command. Checking configurations, startup
 * errors, the command line, daemon mode with its PID file, and paths
 * relative to the configuration file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

#define OUT_MAX 16384

static char out[OUT_MAX];

static bool
exited_with(int status, int code)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* The path sockd reports for a file: it resolves the configuration path. */
static const char *
real(const char *path)
{
	static char buf[PATH_MAX];

	ck_assert_ptr_nonnull(realpath(path, buf));
	return buf;
}

/* Whether out has "<file>:<line>:" and, on that line, text. */
static bool
has_error(const char *file, int line, const char *text)
{
	char prefix[PATH_MAX + 32];

	snprintf(prefix, sizeof(prefix), "%s:%d: ", real(file), line);
	for (const char *p = out; (p = strstr(p, prefix)) != NULL; p++) {
		const char *eol = strchr(p, '\n');
		const char *t = strstr(p, text);
		if (t && (eol == NULL || t < eol))
			return true;
	}
	return false;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* A listening TCP socket on 127.0.0.1:port (SO_REUSEADDR off), or -1. */
static int
listen_on(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static int
bind_udp(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static const char *
hello_conf(const char *name, uint16_t port)
{
	return tu_write(name,
	    "services = (\n"
	    "  { name = \"hello-tcp\"; protocol = \"tcp\"; port = %u;\n"
	    "    address = \"127.0.0.1\"; server = \"%s\"; }\n"
	    ");\n", port, it_path("services/hello-tcp"));
}

/* --- -t --- */

START_TEST(check_valid)
{
	uint16_t port = tu_free_port();
	const char *conf = tu_write("sockd.conf",
	    "services = (\n"
	    "  { name = \"daytime\"; protocol = \"tcp\"; port = %u; builtin = \"daytime\"; },\n"
	    "  { name = \"off\"; protocol = \"udp\"; port = %u; builtin = \"time\";\n"
	    "    disabled = true; }\n"
	    ");\n", port, port);
	int busy = listen_on(port), status;

	/* Nothing is bound, so a port in use does not matter. */
	ck_assert_int_ge(busy, 0);
	status = tu_run(out, sizeof(out), "-t", "-f", conf, NULL);
	ck_assert_msg(exited_with(status, 0), "status %#x: %s", status,
	    it_tail(out));
	ck_assert_msg(strstr(out, "OK") != NULL, "%s", it_tail(out));
	ck_assert_msg(strstr(out, "2 services (1 enabled)") != NULL, "%s",
	    it_tail(out));
	ck_assert_int_eq(count_lines(out), 1);
	close(busy);
}
END_TEST

/*
 * sockd -t on bad files: each row is a file, the exit status, the number
 * of lines printed (one an error, and never "OK"), and for each error its
 * line in the file and a text that must stand on that FILE:LINE line.
 */
static const struct check_error {
	const char *what;
	const char *dir;	/* made under the temp dir first, or NULL */
	const char *text;
	int status;
	int lines;
	struct {
		int line;
		const char *text;
	} errors[8];
} check_errors[] = {
	{ "port out of range", NULL,
	    "services = (\n"
	    "  { name = \"echo\"; protocol = \"tcp\";\n"
	    "    port = 70000; builtin = \"echo\"; }\n"
	    ");\n", 1, 1,
	    { { 3, "service \"echo\"" }, { 3, "out of range" } } },
	/* Too large for 32 bits: reported, not truncated (4294967303 % 2^32 == 7). */
	{ "64-bit port", NULL,
	    "services = (\n"
	    "  { name = \"echo\"; protocol = \"tcp\";\n"
	    "    port = 4294967303; builtin = \"echo\"; }\n"
	    ");\n", 1, 1,
	    { { 3, "out of range" } } },
	/* Every error is reported, each on its own line with its own number. */
	{ "several errors", NULL,
	    "services = (\n"
	    "  { name = \"a\"; protocol = \"tcp\";\n"
	    "    port = 70000; builtin = \"echo\"; },\n"
	    "  { name = \"b\"; port = 7001; builtin = \"echo\";\n"
	    "    protocol = \"sctp\";\n"
	    "  },\n"
	    "  { name = \"c\"; protocol = \"tcp\"; port = 7002;\n"
	    "    builtin = \"echo\";\n"
	    "    instance = 3; },\n"
	    "  { name = \"d\"; protocol = \"tcp\"; port = 7003;\n"
	    "    builtin = \"nosuch\"; }\n"
	    ");\n", 1, 4,
	    { { 3, "service \"a\"" }, { 3, "out of range" },
	      { 5, "service \"b\"" }, { 5, "sctp" },
	      { 9, "service \"c\"" }, { 9, "instance" },
	      { 11, "service \"d\"" }, { 11, "nosuch" } } },
	/* libconfig 1.5 itself would exit() on this; sockd must report it. */
	{ "@include of a directory", "somedir",
	    "@include \"somedir\"\n"
	    "services = (\n"
	    "  { name = \"echo\"; protocol = \"tcp\"; port = 7; builtin = \"echo\"; }\n"
	    ");\n", 1, 1,
	    { { 1, "not a regular file" } } },
};

START_TEST(check_error)
{
	const struct check_error *c = &check_errors[_i];
	const char *conf;
	int status;

	if (c->dir)
		it_mkdir(c->dir);
	conf = tu_write("sockd.conf", "%s", c->text);
	status = tu_run(out, sizeof(out), "-t", "-f", conf, NULL);
	ck_assert_msg(exited_with(status, c->status), "%s: status %#x: %s",
	    c->what, status, it_tail(out));
	for (size_t e = 0; e < 8 && c->errors[e].text; e++)
		ck_assert_msg(has_error(conf, c->errors[e].line, c->errors[e].text),
		    "%s: no \"%s\" on line %d:\n%s", c->what, c->errors[e].text,
		    c->errors[e].line, it_tail(out));
	ck_assert_msg(count_lines(out) == c->lines, "%s: expected %d lines:\n%s",
	    c->what, c->lines, it_tail(out));
	ck_assert_msg(strstr(out, "OK") == NULL, "%s: %s", c->what, it_tail(out));
}
END_TEST

/* @include is resolved against the configuration's directory, not the cwd. */
START_TEST(check_include_relative)
{
	const char *conf;
	int status;

	it_mkdir("sub");
	tu_write("sub/svc.inc",
	    "services = (\n"
	    "  { name = \"echo\"; protocol = \"tcp\"; port = 7; builtin = \"echo\"; }\n"
	    ");\n");
	conf = tu_write("sub/sockd.conf", "@include \"svc.inc\"\n");
	ck_assert_int_eq(chdir("/"), 0);
	status = tu_run(out, sizeof(out), "-t", "-f", conf, NULL);
	ck_assert_msg(exited_with(status, 0), "status %#x: %s", status,
	    it_tail(out));
	ck_assert_msg(strstr(out, "1 services (1 enabled)") != NULL, "%s",
	    it_tail(out));
}
END_TEST

/* --- startup --- */

/*
 * A port in use: sockd -F exits 1 naming the service, and the sockets it
 * had bound already are released.
 */
START_TEST(bind_in_use)
{
	uint16_t free_port = tu_free_port(), busy_port = tu_free_port();
	struct daemon *d = it_daemon();
	int busy = listen_on(busy_port), fd, ufd;
	const char *conf = tu_write("sockd.conf",
	    "services = (\n"
	    "  { name = \"first\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    builtin = \"echo\"; },\n"
	    "  { name = \"first-udp\"; protocol = \"udp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    builtin = \"echo\"; },\n"
	    "  { name = \"busy\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    builtin = \"echo\"; }\n"
	    ");\n", free_port, free_port, busy_port);

	ck_assert_int_ge(busy, 0);
	ck_assert_msg(tu_start(d, conf, NULL) == -1, "sockd started:\n%s",
	    it_tail(d->log));
	ck_assert_msg(exited_with(d->status, 1), "status %#x:\n%s", d->status,
	    it_tail(d->log));
	ck_assert_msg(strstr(d->log, "service \"busy\"") != NULL, "%s",
	    it_tail(d->log));
	ck_assert_msg(strstr(d->log, "Address already in use") != NULL, "%s",
	    it_tail(d->log));
	ck_assert(strstr(d->log, "ready:") == NULL);
	fd = listen_on(free_port);
	ck_assert_msg(fd >= 0, "port %u still bound: %s", free_port,
	    strerror(errno));
	ufd = bind_udp(free_port);
	ck_assert_msg(ufd >= 0, "udp port %u still bound: %s", free_port,
	    strerror(errno));
	close(fd);
	close(ufd);
	close(busy);
}
END_TEST

START_TEST(usage_errors)
{
	const char *conf = hello_conf("sockd.conf", tu_free_port());
	int status;

	status = tu_run(out, sizeof(out), "-Z", NULL);
	ck_assert_msg(exited_with(status, 2), "-Z: status %#x: %s", status,
	    it_tail(out));
	ck_assert_msg(strstr(out, "usage") != NULL, "%s", it_tail(out));
	status = tu_run(out, sizeof(out), "-t", "-f", conf, "extra", NULL);
	ck_assert_msg(exited_with(status, 2), "operand: status %#x: %s", status,
	    it_tail(out));
	status = tu_run(out, sizeof(out), "-f", NULL);
	ck_assert_msg(exited_with(status, 2), "-f without file: status %#x: %s",
	    status,
	    out);
}
END_TEST

START_TEST(version_and_help)
{
	int status = tu_run(out, sizeof(out), "-V", NULL);

	ck_assert_msg(exited_with(status, 0), "-V: status %#x", status);
	ck_assert_msg(strncmp(out, "sockd ", 6) == 0, "-V: %s", it_tail(out));
	status = tu_run(out, sizeof(out), "-h", NULL);
	ck_assert_msg(exited_with(status, 0), "-h: status %#x", status);
	ck_assert_msg(strstr(out, "usage") != NULL, "-h: %s", it_tail(out));
}
END_TEST

/* --- daemon mode and PID files --- */

/* Waits for path to hold "<pid>\n"; returns the pid or -1. */
static long
wait_pidfile(const char *path, int ms)
{
	long end = tu_now_ms() + ms;

	for (;;) {
		char buf[64] = "";
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd != -1) {
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 1 && buf[n - 1] == '\n')
				return strtol(buf, NULL, 10);
		}
		if (tu_now_ms() > end)
			return -1;
		usleep(10000);
	}
}

static bool
wait_gone(const char *path, int ms)
{
	long end = tu_now_ms() + ms;

	while (access(path, F_OK) == 0) {
		if (tu_now_ms() > end)
			return false;
		usleep(10000);
	}
	return true;
}

/* Starts sockd without -F; returns the daemon's pid from the pidfile. */
static long
start_daemon(const char *conf, const char *pidarg, const char *pidpath)
{
	long t0 = tu_now_ms(), pid;
	int status = tu_run(out, sizeof(out), "-f", conf, "-p", pidarg, NULL);

	ck_assert_msg(exited_with(status, 0), "status %#x: %s", status,
	    it_tail(out));
	ck_assert_msg(tu_now_ms() - t0 < 10000,
	    "the foreground process lingered");
	pid = wait_pidfile(pidpath, 5000);
	ck_assert_msg(pid > 0, "no pid in %s", pidpath);
	return pid;
}

START_TEST(daemon_mode)
{
	uint16_t port = tu_free_port(), port2 = tu_free_port();
	char conf[PATH_MAX], conf2[PATH_MAX], pidpath[PATH_MAX], link[PATH_MAX],
	    text[128];
	struct daemon *d2 = it_daemon();
	struct tu_stat st;
	pid_t ppid = 0;
	long pid;
	ssize_t n;
	int status, fds;

	/* tu_write() returns a static buffer. */
	snprintf(conf, sizeof(conf), "%s", hello_conf("sockd.conf", port));
	snprintf(conf2, sizeof(conf2), "%s", hello_conf("sockd2.conf", port2));
	snprintf(pidpath, sizeof(pidpath), "%s", it_tmp("sockd.pid"));
	it_subreaper();		/* the detached daemon becomes our child */
	pid = start_daemon(conf, pidpath, pidpath);
	ck_assert(it_alive(pid, &ppid));
	ck_assert_int_eq(ppid, getpid());
	/* Detached: its own session, cwd /, stdio on /dev/null. */
	ck_assert(tu_proc_stat(pid, &st));
	ck_assert_int_eq(st.session, pid);
	snprintf(text, sizeof(text), "/proc/%ld/cwd", pid);
	n = readlink(text, link, sizeof(link) - 1);
	ck_assert_int_gt(n, 0);
	link[n] = '\0';
	ck_assert_str_eq(link, "/");
	for (int fd = 0; fd <= 2; fd++) {
		snprintf(text, sizeof(text), "/proc/%ld/fd/%d", pid, fd);
		n = readlink(text, link, sizeof(link) - 1);
		ck_assert_int_gt(n, 0);
		link[n] = '\0';
		ck_assert_msg(strcmp(link, "/dev/null") == 0, "fd %d is %s", fd,
		    link);
	}
	fds = tu_count_fds(pid);
	ck_assert_msg(it_hello(port, NULL), "no welcome on port %u", port);
	/* The detached daemon still reaps its children (a zombie is one too). */
	ck_assert_msg(it_wait_idle(pid, fds, 3000),
	    "daemon mode: child not reaped (%d zombies)", tu_count_zombies(pid));

	/* A second sockd with the same PID file refuses to start. */
	ck_assert_msg(tu_start(d2, conf2, "-p", pidpath, NULL) == -1,
	    "second sockd started:\n%s", it_tail(d2->log));
	ck_assert_msg(exited_with(d2->status, 1), "status %#x:\n%s", d2->status,
	    it_tail(d2->log));
	snprintf(text, sizeof(text), "locked by pid %ld", pid);
	ck_assert_msg(strstr(d2->log, text) != NULL, "no \"%s\" in:\n%s", text,
	    it_tail(d2->log));
	ck_assert_int_eq(wait_pidfile(pidpath, 0), pid);
	ck_assert_int_eq(tu_connect(port2), -1);
	ck_assert_msg(it_hello(port, NULL), "no welcome on port %u", port);

	ck_assert(it_wait_idle(pid, fds, 3000));
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	status = it_wait_child(pid, 5000);
	ck_assert_msg(status != -1, "daemon still running after SIGTERM");
	ck_assert_msg(exited_with(status, 0), "status %#x", status);
	ck_assert_msg(wait_gone(pidpath, 5000), "pidfile left behind");
	ck_assert_int_eq(tu_connect(port), -1);
}
END_TEST

/* A relative -p names a file in the directory sockd was started from. */
START_TEST(daemon_mode_relative_pidfile)
{
	uint16_t port = tu_free_port();
	const char *conf = hello_conf("sockd.conf", port);
	char pidpath[PATH_MAX];
	long pid;
	int status, fds;

	snprintf(pidpath, sizeof(pidpath), "%s", it_tmp("sockd-integ-rel.pid"));
	it_subreaper();
	ck_assert_int_eq(chdir(tu_tmpdir()), 0);
	pid = start_daemon(conf, "sockd-integ-rel.pid", pidpath);
	fds = tu_count_fds(pid);
	ck_assert_msg(it_hello(port, NULL), "no welcome on port %u", port);
	ck_assert(it_wait_idle(pid, fds, 3000));
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	status = it_wait_child(pid, 5000);
	ck_assert_msg(status != -1, "daemon still running after SIGTERM");
	ck_assert_msg(exited_with(status, 0), "status %#x", status);
	ck_assert_msg(wait_gone(pidpath, 2000),
	    "pidfile %s left behind: the daemon removed the relative path "
	    "after chdir(\"/\")", pidpath);
}
END_TEST

/* pidfile in the configuration is relative to the configuration file. */
START_TEST(config_pidfile_relative)
{
	uint16_t port = tu_free_port();
	const char *conf, *pidpath;
	struct daemon *d;

	it_mkdir("etc");
	conf = tu_write("etc/sockd.conf",
	    "sockd = { pidfile = \"run.pid\"; };\n"
	    "services = (\n"
	    "  { name = \"hello-tcp\"; protocol = \"tcp\"; port = %u;\n"
	    "    address = \"127.0.0.1\"; server = \"%s\"; }\n"
	    ");\n", port, it_path("services/hello-tcp"));
	ck_assert_int_eq(chdir("/"), 0);
	d = it_start(conf);
	pidpath = it_tmp("etc/run.pid");
	ck_assert_int_eq(wait_pidfile(pidpath, 5000), d->pid);
	ck_assert_msg(it_hello(port, NULL), "no welcome on port %u", port);
	it_stop(d);
	ck_assert_msg(access(pidpath, F_OK) == -1, "pidfile left behind");
}
END_TEST

/* --- relative server paths --- */

/*
 * sub/sockd.conf runs ./hello-tcp, a symlink in sub/ to the shipped
 * handler: a file, not a directory, so tu_cleanup() (which follows
 * symlinks to directories) can never reach into the source tree.
 */
static const char *
relative_setup(uint16_t port)
{
	char link[PATH_MAX];

	it_mkdir("sub");
	snprintf(link, sizeof(link), "%s", it_tmp("sub/hello-tcp"));
	ck_assert_int_eq(symlink(it_path("services/hello-tcp"), link), 0);
	return tu_write("sub/sockd.conf",
	    "services = (\n"
	    "  { name = \"hello-tcp\"; protocol = \"tcp\"; port = %u;\n"
	    "    address = \"127.0.0.1\"; server = \"./hello-tcp\"; }\n"
	    ");\n", port);
}

START_TEST(relative_server_path)
{
	uint16_t port = tu_free_port();
	const char *conf = relative_setup(port);
	struct daemon *d;

	ck_assert_int_eq(chdir("/"), 0);
	d = it_start(conf);
	ck_assert_msg(it_hello(port, NULL), "no welcome on port %u", port);
	it_stop(d);
}
END_TEST

/* The same with a relative -f, from a directory without hello-tcp in it. */
START_TEST(relative_config_path)
{
	uint16_t port = tu_free_port();
	struct daemon *d;

	relative_setup(port);
	ck_assert_int_eq(chdir(tu_tmpdir()), 0);
	ck_assert_int_eq(access("hello-tcp", F_OK), -1);
	d = it_start("sub/sockd.conf");
	ck_assert_msg(it_hello(port, NULL), "no welcome on port %u", port);
	it_stop(d);
}
END_TEST

Suite *
daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc;

	tc = tu_tcase(s, "check", it_setup, it_teardown, IT_TIMEOUT,
	    check_valid, check_include_relative, NULL);
	tcase_add_loop_test(tc, check_error, 0,
	    sizeof(check_errors) / sizeof(check_errors[0]));
	tu_tcase(s, "startup", it_setup, it_teardown, IT_TIMEOUT, bind_in_use,
	    usage_errors, version_and_help, relative_server_path,
	    relative_config_path, NULL);
	tu_tcase(s, "daemon-mode", it_setup, it_teardown, IT_TIMEOUT,
	    daemon_mode, daemon_mode_relative_pidfile, config_pidfile_relative,
	    NULL);
	return s;
}
