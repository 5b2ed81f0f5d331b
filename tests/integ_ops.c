/*
 * Running sockd as a system daemon: reload, shutdown, include_dir, logs,
 * handler stderr, counters, failure back-off, resource faults, sd_notify.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "integ_util.h"

static const char *
hello_conf(const char *name, uint16_t port, const char *extra)
{
	/* A few rotating buffers, so one printf can take several. */
	static char bufs[4][8192];
	static int next;
	char *buf = bufs[next++ % 4];

	snprintf(buf, sizeof(bufs[0]), "{ name = \"%s\"; protocol = \"tcp\"; port = %u; "
	    "address = \"127.0.0.1\"; server = \"%s\"; %s }", name, port,
	    it_path("services/hello-tcp"),
	    extra ? extra : "");
	return buf;
}

static void
hup_and_wait(struct daemon *d, int nth)
{
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert_msg(it_wait_log_count(d, "reload", nth, 10000), "no reload %d:\n%s",
	    nth, it_tail(d->log));
}

START_TEST(reload_under_load_refuses_nothing)
{
	uint16_t port = tu_free_port();
	const char *conf = tu_write("sockd.conf", "services = (%s);\n",
	    hello_conf("h", port, NULL));
	int p[2];
	pid_t client;

	struct daemon *d = it_start(conf);
	ck_assert_int_eq(pipe(p), 0);
	/* The client connects in a loop until told to stop (EOF on its pipe). */
	if ((client = fork()) == 0) {
		int good = 0, bad = 0;
		close(p[0]);
		for (int i = 0; i < 5000; i++) {
			if (it_hello(port, "x"))
				good++;
			else
				bad++;
			if (getppid() == 1)
				break;
			char stopfile[4200];
			snprintf(stopfile, sizeof(stopfile), "%s/stop", tu_tmpdir());
			if (access(stopfile, F_OK) == 0)
				break;
		}
		dprintf(p[1], "%d %d\n", good, bad);
		_exit(0);
	}
	close(p[1]);
	for (int i = 1; i <= 20; i++) {
		/* Each reload also changes a setting, so it is real work. */
		tu_write("sockd.conf", "services = (%s);\n",
		    hello_conf("h", port, i % 2 ? "instances = 50;" : ""));
		hup_and_wait(d, i * 2);	/* "reloading" and "reloaded" */
		usleep(30000);
	}
	tu_write("stop", "\n");
	char res[64] = "";
	ck_assert_int_gt(tu_read_until(p[0], res, sizeof(res), "\n", 30000), 0);
	waitpid(client, NULL, 0);
	int good = 0, bad = -1;
	sscanf(res, "%d %d", &good, &bad);
	ck_assert_int_gt(good, 0);
	ck_assert_msg(bad == 0, "%d of %d connections failed during reloads", bad,
	    good + bad);
	ck_assert_int_eq(it_count(d->log, "reloaded: 1 services"), 20);
	it_stop(d);
}
END_TEST

START_TEST(bad_reload_keeps_old_config)
{
	uint16_t port = tu_free_port();
	const char *conf = tu_write("sockd.conf", "services = (%s);\n",
	    hello_conf("h", port, NULL));

	struct daemon *d = it_start(conf);
	tu_write("sockd.conf", "services = (\n%s\n);\n",
	    hello_conf("h", port, "instances = 0;"));
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert(tu_wait_log(d, "reload failed; keeping the running configuration", 5000));
	ck_assert_ptr_nonnull(strstr(d->log, "sockd.conf:2: service \"h\": instances: 0 is out of range"));
	ck_assert(it_hello(port, "x"));
	it_stop(d);
}
END_TEST

START_TEST(reload_adds_and_removes)
{
	uint16_t a = tu_free_port(), b = tu_free_port(), busy = tu_free_port();
	const char *conf;
	char buf[256];
	int held, blocker;

	conf = tu_write("sockd.conf", "services = (%s,\n%s);\n",
	    hello_conf("a", a, NULL), hello_conf("keep", busy, "instances = 1;"));
	struct daemon *d = it_start(conf);
	/* A session in progress, holding keep's only instance. */
	held = tu_connect(busy);
	ck_assert_int_gt(tu_read_until(held, buf, sizeof(buf), "Welcome!\n", 5000), 0);

	tu_write("sockd.conf", "services = (%s,\n%s);\n", hello_conf("b", b, NULL),
	    hello_conf("keep", busy, "instances = 1;"));
	hup_and_wait(d, 2);
	ck_assert(tu_wait_log(d, "reloaded: 2 services", 5000));
	ck_assert_int_eq(tu_connect(a), -1);		/* removed: port closed */
	ck_assert(it_hello(b, "x"));			/* added: answers */
	/* The running handler survived, and still counts against instances. */
	ck_assert_int_eq(write(held, "still\n", 6), 6);
	ck_assert_int_gt(tu_read_until(held, buf, sizeof(buf), "Hello, still!\n", 5000), 0);
	ck_assert_ptr_nonnull(strstr(buf, "Hello, still!"));
	blocker = tu_connect(busy);
	ck_assert_int_ge(blocker, 0);
	ck_assert_int_eq(tu_read_until(blocker, buf, sizeof(buf), "Welcome!", 500), 0);
	close(held);
	ck_assert_int_gt(tu_read_until(blocker, buf, sizeof(buf), "Welcome!\n", 5000), 0);
	close(blocker);
	it_stop(d);
}
END_TEST

/* Stops sockd with a child running; returns it, stopped, for its log. */
static struct daemon *
shutdown_case(const char *mode, const char *server_text, bool expect_killed)
{
	struct daemon *d;
	uint16_t port = tu_free_port();
	char server[4200], buf[256], *p;
	const char *conf;
	long pid;
	int fd;

	snprintf(server, sizeof(server), "%s/handler", tu_tmpdir());
	tu_write("handler", "%s", server_text);
	chmod(server, 0755);
	conf = tu_write("sockd.conf", "sockd = { shutdown = \"%s\"; shutdown_grace = 1; };\n"
	    "services = ({ name = \"s\"; protocol = \"tcp\"; port = %u; "
	    "address = \"127.0.0.1\"; server = \"%s\"; });\n", mode, port, server);
	d = it_start(conf);
	fd = tu_connect(port);
	ck_assert_int_gt(tu_read_until(fd, buf, sizeof(buf), "\n", 5000), 0);
	ck_assert((p = strstr(buf, "pid=")) != NULL);
	pid = atol(p + 4);
	ck_assert_int_gt(pid, 1);
	int st = tu_stop(d, SIGTERM);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (expect_killed) {
		ck_assert_int_eq(kill(pid, 0), -1);	/* gone, and reaped by sockd */
	} else {
		ck_assert_int_eq(kill(pid, 0), 0);	/* left to finish */
		close(fd);
		for (int i = 0; i < 200 && kill(pid, 0) == 0; i++)
			usleep(10000);
	}
	close(fd);
	return d;
}

START_TEST(shutdown_terminate)
{
	struct daemon *d = shutdown_case("terminate", "#!/bin/sh\necho pid=$$\nexec sleep 30\n", true);
	ck_assert_ptr_nonnull(strstr(d->log, "terminating 1 children"));
	ck_assert_ptr_nonnull(strstr(d->log, "killed by signal 15"));
}
END_TEST

START_TEST(shutdown_terminate_kills_stubborn)
{
	struct daemon *d = shutdown_case("terminate",
	    "#!/bin/sh\ntrap '' TERM\necho pid=$$\nwhile :; do sleep 1; done\n", true);
	ck_assert_ptr_nonnull(strstr(d->log, "outlived the grace period"));
}
END_TEST

START_TEST(shutdown_leave)
{
	shutdown_case("leave", "#!/bin/sh\necho pid=$$\nexec cat >/dev/null\n", false);
}
END_TEST

/* How many descriptors above 2 pid holds. */
static int
fds_above_2(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(dir)) != NULL)
		n += atoi(e->d_name) > 2;
	closedir(dir);
	return n;
}

/*
 * shutdown = "leave" with a handler still writing to its stderr: the
 * drain logs it after the master is gone, and holds nothing of the
 * master's but the reading end (not the pidfile, which a restarted sockd
 * locks, nor the control socket).
 */
START_TEST(shutdown_leave_drains_stderr)
{
	uint16_t port = tu_free_port();
	char server[4200], pidfile[4200], buf[256], *p;
	struct daemon *d = it_daemon();
	int fd, st;
	long drain;

	snprintf(server, sizeof(server), "%s/handler", tu_tmpdir());
	snprintf(pidfile, sizeof(pidfile), "%s/sockd.pid", tu_tmpdir());
	tu_write("handler", "#!/bin/sh\necho up\nwhile read l; do "
	    "echo \"late $l\" >&2; done\n");
	chmod(server, 0755);
	ck_assert_int_eq(tu_start(d, tu_write("sockd.conf", "sockd = { shutdown = "
	    "\"leave\"; control = \"%s/ctl\"; };\nservices = ({ name = \"s\"; "
	    "protocol = \"tcp\"; port = %u; address = \"127.0.0.1\"; "
	    "server = \"%s\"; });\n", tu_tmpdir(), port, server), "-p", pidfile,
	    NULL), 0);
	fd = tu_connect(port);
	ck_assert_int_gt(tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT), 0);
	st = tu_kill_wait(d, SIGTERM, IT_WAIT);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_msg((p = strstr(d->log, "children; pid ")) != NULL, "%s",
	    it_tail(d->log));
	drain = atol(p + strlen("children; pid "));
	ck_assert_int_gt(drain, 1);
	it_send(fd, "hello\n");
	ck_assert_msg(tu_wait_log(d, "late hello", IT_WAIT), "%s", it_tail(d->log));
	/* The reading end, and the epoll instance of its own loop. */
	ck_assert_int_eq(fds_above_2((pid_t)drain), 2);
	close(fd);
	/* Gone, or a zombie that whoever adopted it reaps. */
	for (int i = 0; i < 500 && it_alive((pid_t)drain, NULL); i++)
		usleep(10000);
	ck_assert_msg(!it_alive((pid_t)drain, NULL), "the drain outlived its writer");
	close(d->errfd);
}
END_TEST

START_TEST(include_dir_errors_name_the_file)
{
	uint16_t port = tu_free_port();
	char dir[4200], out[8192], conf[4200];

	snprintf(dir, sizeof(dir), "%s/conf.d", tu_tmpdir());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	tu_write("conf.d/10-a.conf", "services = (%s);\n", hello_conf("a", port, NULL));
	tu_write("conf.d/20-b.conf", "services = (\n{ name = \"b\"; protocol = \"tcp\";\n"
	    "port = 99999; builtin = \"echo\"; }\n);\n");
	tu_write("conf.d/README", "not a config\n");
	/* tu_write() returns a static buffer that the next call overwrites. */
	snprintf(conf, sizeof(conf), "%s",
	    tu_write("sockd.conf", "sockd = { include_dir = \"conf.d\"; };\n"));
	ck_assert_int_eq(WEXITSTATUS(tu_run(out, sizeof(out), "-t", "-f", conf, NULL)), 1);
	ck_assert_msg(strstr(out, "conf.d/20-b.conf:3: service \"b\": port: 99999 is out of range"),
	    "%s", out);

	/* Fixed, it loads both files; the README is skipped, and said so. */
	tu_write("conf.d/20-b.conf", "services = ({ name = \"b\"; protocol = \"tcp\"; "
	    "port = %u; address = \"127.0.0.2\"; builtin = \"echo\"; });\n", port);
	struct daemon *d = it_start(conf);
	ck_assert_msg(strstr(d->log, "ready: 2 services"), "%s", d->log);
	ck_assert_ptr_nonnull(strstr(d->log, "conf.d/README (not named *.conf)"));
	it_stop(d);

	/* Duplicates across files name both places. */
	tu_write("conf.d/30-c.conf", "services = ({ name = \"a\"; protocol = \"tcp\"; "
	    "port = 1; builtin = \"echo\"; });\n");
	ck_assert_int_eq(WEXITSTATUS(tu_run(out, sizeof(out), "-t", "-f", conf, NULL)), 1);
	ck_assert_msg(strstr(out, "30-c.conf:1: service \"a\": duplicate name (first defined at ")
	    && strstr(out, "10-a.conf:1)"), "%s", out);
}
END_TEST

/* A strict-enough JSON object check: balanced, quoted keys, valid tokens. */
static const char *
json_value(const char *p);

static const char *
json_ws(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

static const char *
json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p && *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\' && !*++p)
			return NULL;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *
json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '"')
		return json_string(p);
	if (*p == '-' || isdigit((unsigned char)*p)) {
		for (p++; isdigit((unsigned char)*p); p++)
			;
		return p;
	}
	if (*p != '{')
		return NULL;
	p = json_ws(p + 1);
	if (*p == '}')
		return p + 1;
	for (;;) {
		if ((p = json_string(json_ws(p))) == NULL || *(p = json_ws(p)) != ':')
			return NULL;
		if ((p = json_value(p + 1)) == NULL)
			return NULL;
		p = json_ws(p);
		if (*p == '}')
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static void
check_json_lines(const char *log)
{
	char line[4096];

	for (const char *l = log; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		const char *end = json_value(line);
		ck_assert_msg(end && *end == '\0', "not one JSON object: %s", line);
		ck_assert_msg(strncmp(line, "{\"time\":\"", 9) == 0 &&
		    strstr(line, "\"level\":\"") && strstr(line, "\"event\":\"") &&
		    strstr(line, "\"msg\":\""), "missing keys: %s", line);
		l = nl ? nl + 1 : l + n;
	}
}

START_TEST(json_log)
{
	uint16_t port = tu_free_port();
	const char *conf = tu_write("sockd.conf", "sockd = { log_format = \"json\"; };\n"
	    "services = (%s);\n", hello_conf("h", port, NULL));
	struct daemon *d = it_start(conf);
	ck_assert(it_hello(port, "x"));
	ck_assert(tu_wait_log(d, "\"event\":\"ended\"", 5000));
	kill(d->pid, SIGUSR1);
	ck_assert(tu_wait_log(d, "\"event\":\"stats\"", 5000));
	it_stop(d);
	check_json_lines(d->log);
	ck_assert_ptr_nonnull(strstr(d->log, "\"event\":\"ready\",\"services\":1,"));
	ck_assert_ptr_nonnull(strstr(d->log,
	    "\"event\":\"accepted\",\"service\":\"h\",\"client\":\"127.0.0.1\",\"port\":"));
	const char *ended = strstr(d->log, "\"event\":\"ended\"");
	ck_assert_ptr_nonnull(strstr(ended, "\"duration_ms\":"));
	ck_assert_ptr_nonnull(strstr(ended, "\"status\":0"));
	ck_assert_ptr_nonnull(strstr(d->log, "\"accepted\":1,"));
}
END_TEST

/* Whether every line of log starts with "YYYY-MM-DD hh:mm:ss.mmm sockd: ". */
static bool
all_stamped(const char *log)
{
	for (const char *l = log; *l; l = strchr(l, '\n') + 1) {
		int y, mo, da, h, mi, se, ms, n = 0;
		if (sscanf(l, "%4d-%2d-%2d %2d:%2d:%2d.%3d sockd: %n", &y, &mo, &da,
		    &h, &mi, &se, &ms, &n) != 7 || n != 31)
			return false;
		if (strchr(l, '\n') == NULL)
			break;
	}
	return true;
}

/* Text lines on stderr carry the time, but not into the journal, which
 * stamps them itself (JOURNAL_STREAM names stderr's device:inode). */
START_TEST(text_log_time_stamps)
{
	uint16_t port = tu_free_port();
	char journal[4096];
	const char *conf;

	snprintf(journal, sizeof(journal), "%s", tu_write("journal", "#!/bin/sh\n"
	    "JOURNAL_STREAM=$(stat -L -c %%d:%%i /proc/self/fd/2) exec \"$@\"\n"));
	ck_assert_int_eq(chmod(journal, 0755), 0);
	conf = tu_write("sockd.conf", "services = (%s);\n", hello_conf("h", port, NULL));
	struct daemon *d = it_start(conf);
	ck_assert(it_hello(port, "x"));
	ck_assert(tu_wait_log(d, "exited with status ", 5000));
	it_stop(d);
	ck_assert_msg(all_stamped(d->log), "a line without its time:\n%s", d->log);

	d = it_start_via(journal, conf);
	it_stop(d);
	ck_assert_msg(strstr(d->log, "ready: 1 services\n"), "%s", d->log);
	/* Root or not (warnings or none), every line starts with "sockd: ". */
	for (const char *l = d->log; *l; l = strchr(l, '\n') + 1) {
		ck_assert_msg(strncmp(l, "sockd: ", 7) == 0, "%s", d->log);
		if (strchr(l, '\n') == NULL)
			break;
	}
}
END_TEST

START_TEST(handler_stderr_goes_to_log)
{
	uint16_t port = tu_free_port();
	const char *conf = tu_write("sockd.conf", "services = ({ name = \"p\"; "
	    "protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u; server = \"%s\"; args = [\"probe\", \"stderr\"]; });\n",
	    port, it_probe());
	char buf[256];
	int fd;

	struct daemon *d = it_start(conf);
	fd = tu_connect(port);
	ck_assert_int_gt(tu_read_until(fd, buf, sizeof(buf), NULL, 5000), 0);
	close(fd);
	ck_assert_str_eq(buf, "ok\n");		/* nothing but stdout reached the client */
	ck_assert(tu_wait_log(d, ": probe-stderr-line", 5000));
	/* Tagged with the service and the handler's pid. */
	char *line = strstr(d->log, "service \"p\": pid ");
	ck_assert_ptr_nonnull(line);
	ck_assert_int_gt(atol(line + strlen("service \"p\": pid ")), 1);
	it_stop(d);
}
END_TEST

START_TEST(handler_stderr_is_bounded)
{
	uint16_t port = tu_free_port();
	char server[4200], buf[64];
	const char *conf;
	int fd;

	/* A 5000-byte line, binary bytes, then 60 KB of NULs as fast as it can. */
	snprintf(server, sizeof(server), "%s/noisy", tu_tmpdir());
	tu_write("noisy", "#!/bin/sh\nhead -c 5000 /dev/zero | tr '\\0' a >&2\n"
	    "printf '\\n\\001\\002bin\\n' >&2\nhead -c 60000 /dev/zero >&2\necho done\n");
	chmod(server, 0755);
	conf = tu_write("sockd.conf", "services = ({ name = \"n\"; protocol = \"tcp\"; address = \"127.0.0.1\"; "
	    "port = %u; server = \"%s\"; });\n", port, server);
	struct daemon *d = it_start(conf);
	fd = tu_connect(port);
	ck_assert_int_ge(fd, 0);
	/* Drain our end of the log while the handler runs, like journald would. */
	ck_assert(tu_wait_log(d, "exited with status 0", 30000));
	ck_assert_int_gt(tu_read_until(fd, buf, sizeof(buf), "done\n", 5000), 0);
	ck_assert_str_eq(buf, "done\n");
	close(fd);
	ck_assert(tu_wait_log(d, "\\x01\\x02bin", 5000));
	ck_assert_ptr_nonnull(strstr(d->log, " [cut]"));
	it_stop(d);
}
END_TEST

START_TEST(sigusr1_counters)
{
	uint16_t port = tu_free_port();
	const char *conf = tu_write("sockd.conf", "services = (%s);\n",
	    hello_conf("h", port, NULL));

	struct daemon *d = it_start(conf);
	for (int i = 0; i < 3; i++)
		ck_assert(it_hello(port, "x"));
	ck_assert(it_wait_log_count(d, "exited with status 0", 3, 5000));
	kill(d->pid, SIGUSR1);
	ck_assert(tu_wait_log(d, "service \"h\": accepted 3, refused 0", 5000));
	ck_assert_ptr_nonnull(strstr(d->log, "active 0, ended ok 3, failed 0, signaled 0, paused no"));
	it_stop(d);
}
END_TEST

START_TEST(backoff_pauses_and_resumes)
{
	uint16_t port = tu_free_port(), other = tu_free_port();
	const char *conf = tu_write("sockd.conf", "sockd = { fail_limit = 3; };\n"
	    "services = ({ name = \"bad\"; protocol = \"tcp\"; port = %u; "
	    "address = \"127.0.0.1\"; server = \"%s\"; args = [\"probe\", \"exit\", \"1\"]; },\n%s);\n",
	    port, it_probe(), hello_conf("good", other, NULL));
	char buf[16];

	struct daemon *d = it_start(conf);
	for (int i = 0; i < 4; i++) {
		int fd = tu_connect(port);
		ck_assert_int_ge(fd, 0);
		tu_read_until(fd, buf, sizeof(buf), NULL, 5000);	/* EOF */
		close(fd);
		ck_assert(it_wait_log_count(d, "exited with status 1", i + 1, 5000));
	}
	ck_assert(tu_wait_log(d, "more than 3 fast failures within 10 s; pausing for 1 s", 5000));
	ck_assert(it_hello(other, "x"));		/* other services are not affected */
	/* Paused: a client is refused at once; after the delay, served. */
	int fd = tu_connect(port);
	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, buf, sizeof(buf), NULL, 5000);	/* EOF */
	close(fd);
	ck_assert(tu_wait_log(d, "service \"bad\": pause over", 5000));
	fd = tu_connect(port);
	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, buf, sizeof(buf), NULL, 5000);
	close(fd);
	ck_assert(it_wait_log_count(d, "exited with status 1", 5, 5000));
	/* Failures continue: the next pause is twice as long. */
	ck_assert(tu_wait_log(d, "pausing for 2 s", 5000));
	it_stop(d);
}
END_TEST

START_TEST(emfile_does_not_spin)
{
	uint16_t port = tu_free_port();
	const char *conf = tu_write("sockd.conf", "services = ({ name = \"p\"; "
	    "protocol = \"tcp\"; port = %u; address = \"127.0.0.1\"; server = \"%s\"; "
	    "args = [\"probe\", \"hold\"]; });\n", port, it_probe());
	struct rlimit rl, old;
	int fds[40], n = 0;
	char buf[64];

	struct daemon *d = it_start(conf);
	/* No room for one more descriptor: every accept() fails with EMFILE. */
	ck_assert_int_eq(prlimit(d->pid, RLIMIT_NOFILE, NULL, &old), 0);
	rl = (struct rlimit){ it_lowest_free_fd(d->pid), old.rlim_max };
	ck_assert_int_eq(prlimit(d->pid, RLIMIT_NOFILE, &rl, NULL), 0);
	double before = it_cpu_seconds(d->pid);
	for (n = 0; n < 40; n++)
		fds[n] = tu_connect(port);
	ck_assert_msg(tu_wait_log(d, "pausing it briefly", 5000), "%s",
	    it_tail(d->log));
	usleep(1500000);
	double used = it_cpu_seconds(d->pid) - before;
	/* A spinning master would burn the whole 1.5 s. */
	ck_assert_msg(used < 0.5, "master used %.2f s of CPU while out of fds", used);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	ck_assert_int_eq(prlimit(d->pid, RLIMIT_NOFILE, &old, NULL), 0);
	/* Served again once the flood is over. */
	int fd = -1;
	for (int i = 0; i < 50 && fd < 0; i++) {
		fd = tu_connect(port);
		if (fd >= 0 && tu_read_until(fd, buf, sizeof(buf), "pid=", 3000) <= 0) {
			close(fd);
			fd = -1;
		}
	}
	ck_assert_int_ge(fd, 0);
	close(fd);
	it_stop(d);
}
END_TEST

/*
 * Runs as nobody (root is exempt from RLIMIT_NPROC): with no process to
 * spare, a connection is closed and the service paused, not the master
 * lost; with the limit back, it serves again. Returns a failure text.
 */
static const char *
nproc_as_nobody(struct daemon *d, const char *conf, uint16_t port)
{
	struct rlimit one, old;
	char buf[64];
	int fd;

	if (setgid(65534) == -1 || setuid(65534) == -1)
		return "cannot become nobody";
	if (tu_start(d, conf, NULL) == -1)
		return "sockd did not start";
	if (prlimit(d->pid, RLIMIT_NPROC, NULL, &old) == -1)
		return "prlimit";
	one = (struct rlimit){ 1, old.rlim_max };
	if (prlimit(d->pid, RLIMIT_NPROC, &one, NULL) == -1)
		return "prlimit";
	if ((fd = tu_connect(port)) == -1)
		return "connect";
	/* Closed at once: the child could not be made. */
	if (tu_read_until(fd, buf, sizeof(buf), NULL, 5000) != 0)
		return "served while out of processes";
	close(fd);
	if (!tu_wait_log(d, "cannot start a child", 5000))
		return "fork failure not logged";
	if (prlimit(d->pid, RLIMIT_NPROC, &old, NULL) == -1)
		return "prlimit restore";
	for (int i = 0; i < 50; i++) {
		if ((fd = tu_connect(port)) == -1)
			return "connect after the limit";
		bool served = tu_read_until(fd, buf, sizeof(buf), "Welcome!\n", 2000) > 0;
		close(fd);
		if (served)
			return tu_stop(d, SIGTERM) == 0 ? NULL : "bad exit status";
		usleep(100000);
	}
	return "not served again";
}

START_TEST(fork_failure_is_survived)
{
	uint16_t port = tu_free_port();
	const char *conf = tu_write("sockd.conf", "services = (%s);\n",
	    hello_conf("h", port, NULL));
	int p[2], status;
	char why[256] = "";
	pid_t pid;

	chmod(tu_tmpdir(), 0755);
	chmod(conf, 0644);
	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		struct daemon *d = it_daemon();
		const char *err = nproc_as_nobody(d, conf, port);
		if (d->pid > 0 && !d->exited)
			tu_stop(d, SIGKILL);
		if (err)
			dprintf(p[1], "%s\n%s", err, d->loglen > 1500 ?
			    d->log + d->loglen - 1500 : d->log);
		_exit(err ? 1 : 0);
	}
	close(p[1]);
	tu_read_until(p[0], why, sizeof(why), NULL, 60000);
	waitpid(pid, &status, 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", why);
}
END_TEST

START_TEST(sd_notify)
{
	uint16_t port = tu_free_port();
	const char *conf = tu_write("sockd.conf", "services = (%s);\n",
	    hello_conf("h", port, NULL));
	char path[4200];
	int fd = it_notify_socket(path, sizeof(path));

	setenv("NOTIFY_SOCKET", path, 1);
	struct daemon *d = it_start(conf);
	it_expect_notify(fd, "READY=1");
	kill(d->pid, SIGHUP);
	it_expect_notify(fd, "RELOADING=1");
	it_expect_notify(fd, "READY=1");
	it_stop(d);
	it_expect_notify(fd, "STOPPING=1");
	close(fd);
}
END_TEST

Suite *
ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc;

	tc = tu_tcase(s, "ops", it_setup, it_teardown, 90,
	    reload_under_load_refuses_nothing, bad_reload_keeps_old_config,
	    reload_adds_and_removes, shutdown_terminate,
	    shutdown_terminate_kills_stubborn, shutdown_leave,
	    shutdown_leave_drains_stderr,
	    include_dir_errors_name_the_file, json_log, text_log_time_stamps,
	    handler_stderr_is_bounded, sigusr1_counters,
	    handler_stderr_goes_to_log, backoff_pauses_and_resumes,
	    emfile_does_not_spin, sd_notify, NULL);
	/* Root is exempt from RLIMIT_NPROC, so the test runs sockd as nobody. */
	tu_add_test(tc, fork_failure_is_survived, tu_nobody_skip());
	return s;
}
