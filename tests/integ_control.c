/*
 * The control socket through the real sockctl: status and connections
 * list what the test holds, end closes exactly one client, pause refuses
 * one service's clients while another serves and survives a reload and
 * an upgrade, reload answers with its verdict, nobody is refused every
 * change, and hostile clients leave the master serving.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

#define CTL_OUT 65536
#define NOBODY 65534

struct ctlrun {
	int status;		/* the exit status; -1: did not exit */
	char out[CTL_OUT];	/* stdout and stderr */
};

/* Runs sockctl -s the test's socket with args (NULL-terminated); as nobody
 * when asked. */
static void
sockctl_as(struct ctlrun *r, bool nobody, const char *arg, ...)
{
	const char *argv[16] = { it_path("src/sockctl"), "-s", it_tmp("ctl") };
	size_t n = 3, len = 0;
	int p[2], st;
	va_list ap;
	ssize_t k;
	pid_t pid;

	va_start(ap, arg);
	for (const char *a = arg; a && n < 15; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		if (nobody && (setgroups(0, NULL) == -1 || setgid(NOBODY) == -1 ||
		    setuid(NOBODY) == -1))
			_exit(126);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	close(p[1]);
	while (len < sizeof(r->out) - 1 &&
	    (k = read(p[0], r->out + len, sizeof(r->out) - 1 - len)) > 0)
		len += k;
	r->out[len] = '\0';
	close(p[0]);
	st = it_wait_child(pid, 60000);
	r->status = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define sockctl(r, ...) sockctl_as((r), false, __VA_ARGS__, NULL)
#define sockctl_nobody(r, ...) sockctl_as((r), true, __VA_ARGS__, NULL)

/* Two services: "a" holds its clients (tests/probe hold), "b" greets
 * (hello-tcp); both refuse with "paused\n"; extra is appended inside
 * the list. */
static const char *
conf_two(uint16_t pa, uint16_t pb, const char *extra)
{
	return tu_write("sockd.conf", "sockd = { control = \"%s\"; };\n"
	    "services = (\n"
	    " { name = \"a\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; args = [\"probe\", \"hold\"];"
	    " refuse_message = \"paused\\n\"; },\n"
	    " { name = \"b\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; refuse_message = \"paused\\n\"; }%s\n);\n",
	    it_tmp("ctl"), pa, it_probe(), pb, it_path("services/hello-tcp"),
	    extra);
}

static struct daemon *
start_two(uint16_t pa, uint16_t pb, const char *extra)
{
	return it_start(conf_two(pa, pb, extra));
}

/* A client of the hold service: connected, its handler's pid read. */
static int
hold_client(uint16_t port, long *pid)
{
	char buf[64];
	int fd = tu_connect(port);

	ck_assert_int_ne(fd, -1);
	ck_assert(tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT) > 0);
	*pid = it_line_num(buf, "pid");
	ck_assert_int_gt(*pid, 0);
	return fd;
}

/* Whether a new client of port is refused with "paused". */
static bool
refused(uint16_t port)
{
	char buf[64] = "";
	int fd = tu_connect(port);
	bool r;

	if (fd == -1)
		return false;
	r = tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT) > 0 &&
	    strcmp(buf, "paused\n") == 0;
	close(fd);
	return r;
}

/* The log line of a change made by this test's user (root, or the
 * ordinary user who runs sockd and so may change it). */
static const char *
by_me(const char *what)
{
	static char line[128];

	snprintf(line, sizeof(line), "control: uid %u: %s", (unsigned)getuid(),
	    what);
	return line;
}

START_TEST(status_and_connections)
{
	uint16_t pa = tu_free_port(), pb = tu_free_port();
	struct daemon *d = start_two(pa, pb, "");
	struct ctlrun *r = malloc(sizeof(*r));
	long pid1, pid2;
	int c1 = hold_client(pa, &pid1), c2 = hold_client(pa, &pid2);
	char want[128];

	sockctl(r, "status");
	ck_assert_msg(r->status == 0, "%s", r->out);
	ck_assert_msg(strstr(r->out, "configuration: ") && strstr(r->out, "sockd.conf"),
	    "%s", r->out);
	ck_assert_msg(strstr(r->out, "\na ") && strstr(r->out, " serving "),
	    "%s", r->out);
	sockctl(r, "--json", "status");
	ck_assert_msg(r->status == 0 && strstr(r->out, "{\"service\":\"a\","
	    "\"state\":\"serving\",\"children\":2,\"connections\":2"), "%s", r->out);
	snprintf(want, sizeof(want), "\"pid\":%ld", (long)d->pid);
	ck_assert_msg(strstr(r->out, want), "%s", r->out);
	sockctl(r, "--json", "connections");
	ck_assert_int_eq(r->status, 0);
	snprintf(want, sizeof(want), "{\"service\":\"a\",\"pid\":%ld,"
	    "\"remote_ip\":\"127.0.0.1\",\"remote_port\":%u,", pid1,
	    it_local_port(c1));
	ck_assert_msg(strstr(r->out, want), "no %s in %s", want, r->out);
	snprintf(want, sizeof(want), "{\"service\":\"a\",\"pid\":%ld,"
	    "\"remote_ip\":\"127.0.0.1\",\"remote_port\":%u,", pid2,
	    it_local_port(c2));
	ck_assert_msg(strstr(r->out, want), "no %s in %s", want, r->out);
	sockctl(r, "connections", "a");
	ck_assert_int_eq(r->status, 0);
	ck_assert_int_eq(it_count(r->out, "\na "), 2);
	sockctl(r, "connections", "b");
	ck_assert_msg(r->status == 0 && it_count(r->out, "\n") == 1, "%s", r->out);
	sockctl(r, "connections", "nosuch");
	ck_assert_msg(r->status != 0 && strstr(r->out, "no service \"nosuch\""),
	    "%s", r->out);
	close(c1);
	close(c2);
	free(r);
	it_stop(d);
}
END_TEST

/* end PID closes that client alone; end SERVICE every one. */
START_TEST(end_one_and_all)
{
	uint16_t pa = tu_free_port(), pb = tu_free_port();
	struct daemon *d = start_two(pa, pb, "");
	struct ctlrun *r = malloc(sizeof(*r));
	long pid1, pid2, pid3;
	int c1 = hold_client(pa, &pid1), c2 = hold_client(pa, &pid2);
	int c3 = hold_client(pa, &pid3);
	char num[32];

	snprintf(num, sizeof(num), "%ld", pid1);
	sockctl(r, "end", num);
	ck_assert_msg(r->status == 0, "%s", r->out);
	ck_assert(it_wait_eof(c1, IT_WAIT));
	ck_assert(it_quiet(c2, 300));
	ck_assert(it_pid_gone(pid1, IT_WAIT));
	ck_assert(it_alive(pid2, NULL));
	sockctl(r, "end", "999999999");
	ck_assert_msg(r->status != 0 && strstr(r->out, "neither"), "%s", r->out);
	sockctl(r, "end", "a");
	ck_assert_msg(r->status == 0 && strstr(r->out, "ended the 2 handlers"),
	    "%s", r->out);
	ck_assert(it_wait_eof(c2, IT_WAIT));
	ck_assert(it_wait_eof(c3, IT_WAIT));
	ck_assert(it_hello(pb, "x"));
	close(c1);
	close(c2);
	close(c3);
	ck_assert(tu_wait_log(d, by_me("ended pid"), IT_WAIT));
	free(r);
	it_stop(d);
}
END_TEST


/*
 * pause refuses a's new clients at once, with its refuse_message and the
 * reason "paused", and keeps its running handler; b serves throughout.
 * The pause survives a reload and an upgrade; resume serves again.
 */
START_TEST(pause_survives_reload_and_upgrade)
{
	uint16_t pa = tu_free_port(), pb = tu_free_port();
	struct daemon *d = start_two(pa, pb, "");
	struct ctlrun *r = malloc(sizeof(*r));
	long pid;
	int held = hold_client(pa, &pid);

	sockctl(r, "pause", "a");
	ck_assert_msg(r->status == 0 && strstr(r->out, "paused service \"a\""),
	    "%s", r->out);
	ck_assert(refused(pa));
	ck_assert(it_hello(pb, "x"));
	ck_assert(it_quiet(held, 200));		/* its handler runs on */
	sockctl(r, "--json", "status");
	ck_assert_msg(strstr(r->out, "{\"service\":\"a\",\"state\":\"paused\""),
	    "%s", r->out);
	ck_assert(tu_wait_log(d, by_me("paused service \"a\""), IT_WAIT));
	sockctl(r, "reload");
	ck_assert_msg(r->status == 0, "%s", r->out);
	ck_assert(refused(pa));
	ck_assert(it_hello(pb, "y"));
	sockctl(r, "upgrade");
	ck_assert_msg(r->status == 0 && strstr(r->out, "upgraded in place"),
	    "%s", r->out);
	ck_assert(refused(pa));
	ck_assert(it_hello(pb, "z"));
	sockctl(r, "resume", "a");
	ck_assert_msg(r->status == 0, "%s", r->out);
	close(held);
	close(hold_client(pa, &pid));
	free(r);
	it_stop(d);
}
END_TEST

/*
 * reload: a new service whose port is taken fails the reload, and
 * sockctl says so, naming the port, with a non-zero exit; once the port
 * is free the same reload succeeds and names the service added.
 */
START_TEST(reload_answers_its_verdict)
{
	uint16_t pa = tu_free_port(), pb = tu_free_port(), pc = tu_free_port();
	struct daemon *d = start_two(pa, pb, "");
	struct ctlrun *r = malloc(sizeof(*r));
	char extra[256], port[16];
	int taken = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(pc), .sin_addr.s_addr = htonl(0x7f000001) };

	ck_assert_int_eq(setsockopt(taken, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)), 0);
	ck_assert_int_eq(bind(taken, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(taken, 1), 0);
	snprintf(extra, sizeof(extra), ",\n { name = \"c\"; protocol = \"tcp\";"
	    " port = %u; address = \"127.0.0.1\"; builtin = \"daytime\"; }", pc);
	conf_two(pa, pb, extra);
	snprintf(port, sizeof(port), "port %u", pc);
	sockctl(r, "reload");
	ck_assert_msg(r->status != 0 && strstr(r->out, port) &&
	    strstr(r->out, "reload abandoned"), "%s", r->out);
	ck_assert(it_hello(pb, "x"));
	sockctl(r, "--json", "status");
	ck_assert_msg(strstr(r->out, "\"last_reload_result\":\"failed\""), "%s",
	    r->out);
	close(taken);
	ck_assert(it_port_free(pc, IT_WAIT));
	sockctl(r, "reload");
	ck_assert_msg(r->status == 0 && strstr(r->out, "service \"c\" added"),
	    "%s", r->out);
	/* An error of the file itself: FILE:LINE, and the exit status. */
	tu_write("sockd.conf", "services = (\n { name = \"x\"; nosuchkey = 1; }\n);\n");
	sockctl(r, "reload");
	ck_assert_msg(r->status != 0 && strstr(r->out, "sockd.conf:2:"), "%s",
	    r->out);
	free(r);
	it_stop(d);
}
END_TEST

/*
 * nobody cannot reach a socket of mode 0660 at all; given access to the
 * file (mode 0666 here), it may ask but is refused every change, and
 * nothing changes.
 */
START_TEST(nobody_is_refused_changes)
{
	uint16_t pa = tu_free_port(), pb = tu_free_port();
	struct daemon *d = start_two(pa, pb, "");
	struct ctlrun *r = malloc(sizeof(*r));
	static const char *const changes[][2] = { { "pause", "a" },
	    { "resume", "a" }, { "end", "a" }, { "reload", NULL },
	    { "upgrade", NULL }, { "log-level", "debug" } };
	struct stat st;
	long pid;
	int held = hold_client(pa, &pid);

	ck_assert_int_eq(stat(it_tmp("ctl"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0660);
	ck_assert_int_eq(chmod(tu_tmpdir(), 0711), 0);
	sockctl_nobody(r, "status");
	ck_assert_msg(r->status != 0 && strstr(r->out, "Permission denied"),
	    "%s", r->out);
	ck_assert_int_eq(chmod(it_tmp("ctl"), 0666), 0);
	sockctl_nobody(r, "status");
	ck_assert_msg(r->status == 0, "%s", r->out);
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		sockctl_nobody(r, changes[i][0], changes[i][1]);
		ck_assert_msg(r->status != 0 && strstr(r->out, "permission denied: "
		    "uid 65534"), "%s: %s", changes[i][0], r->out);
	}
	ck_assert(it_quiet(held, 200));
	ck_assert(!refused(pa));
	sockctl(r, "--json", "status");
	ck_assert_msg(strstr(r->out, "\"state\":\"serving\"") &&
	    strstr(r->out, "\"reloads_ok\":0"), "%s", r->out);
	ck_assert(!tu_wait_log(d, "control: uid 65534", 100));
	close(held);
	free(r);
	it_stop(d);
}
END_TEST

/* A client that sends n bytes of c and then reads the answer, if any. */
static void
flood(int fd, size_t n, char c)
{
	char buf[4096];
	size_t sent = 0;
	ssize_t k;

	memset(buf, c, sizeof(buf));
	while (sent < n) {
		k = send(fd, buf, n - sent < sizeof(buf) ? n - sent : sizeof(buf),
		    MSG_NOSIGNAL);
		if (k <= 0)
			break;
		sent += k;
	}
}

/*
 * A hundred clients at once, one that sends 1 MiB without a newline, one
 * that never reads, garbage: each is answered or dropped, and the master
 * serves its services and its socket throughout.
 */
START_TEST(hostile_clients)
{
	uint16_t pa = tu_free_port(), pb = tu_free_port();
	struct daemon *d = start_two(pa, pb, "");
	struct ctlrun *r = malloc(sizeof(*r));
	int many[100], big, mute, junk;
	char buf[256];

	for (int i = 0; i < 100; i++) {
		ck_assert_int_ne(many[i] = it_unix_connect(it_tmp("ctl")), -1);
		it_send(many[i], "status\n");
	}
	ck_assert_int_ne(big = it_unix_connect(it_tmp("ctl")), -1);
	flood(big, 1 << 20, 'x');
	ck_assert_int_ne(mute = it_unix_connect(it_tmp("ctl")), -1);
	ck_assert_int_ne(junk = it_unix_connect(it_tmp("ctl")), -1);
	flood(junk, 100, '\001');
	it_send(junk, "\n");
	ck_assert(it_hello(pb, "x"));
	for (int i = 0; i < 100; i++) {
		ck_assert_msg(tu_read_until(many[i], buf, sizeof(buf), "+OK",
		    IT_WAIT) > 0, "client %d: no answer", i);
		close(many[i]);
	}
	ck_assert(tu_read_until(big, buf, sizeof(buf), "\n", IT_WAIT) > 0);
	ck_assert_msg(strstr(buf, "-ERR request too long"), "%s", buf);
	ck_assert(tu_read_until(junk, buf, sizeof(buf), "\n", IT_WAIT) > 0);
	ck_assert_msg(strncmp(buf, "-ERR ", 5) == 0, "%s", buf);
	sockctl(r, "status");
	ck_assert_msg(r->status == 0, "%s", r->out);
	ck_assert(it_hello(pb, "y"));
	/* The mute one is dropped after its time. */
	ck_assert(it_wait_eof(mute, 10000));
	close(big);
	close(mute);
	close(junk);
	ck_assert_int_eq(kill(d->pid, 0), 0);
	free(r);
	it_stop(d);
}
END_TEST

Suite *
sockctl_suite(void)
{
	Suite *s = suite_create("sockctl");
	TCase *tc = tcase_create("sockctl");

	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_test(tc, status_and_connections);
	tcase_add_test(tc, end_one_and_all);
	tcase_add_test(tc, pause_survives_reload_and_upgrade);
	tcase_add_test(tc, reload_answers_its_verdict);
	tu_add_test(tc, nobody_is_refused_changes, tu_nobody_skip());
	tcase_add_test(tc, hostile_clients);
	suite_add_tcase(s, tc);
	return s;
}
