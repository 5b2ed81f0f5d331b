/*
 * Upgrade in place (SIGUSR2): the same pid execs its binary again, keeps
 * its listening sockets, children, counters and busy wait services, and
 * refuses no connection meanwhile; a binary that fails its check changes
 * nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"
#include "upstate.h"

#define UPGRADED "SIGUSR2: upgraded in place"
#define UPGRADES 3

static void
upgrade(struct daemon *d, int nth)
{
	ck_assert_int_eq(kill(d->pid, SIGUSR2), 0);
	ck_assert_msg(it_wait_log_count(d, UPGRADED, nth, IT_WAIT), "%s",
	    it_tail(d->log));
}

/*
 * A client connects in a loop across three upgrades: none is refused; a
 * handler started before is reaped and logged by the new image with its
 * whole lifetime; the counters go on.
 */
START_TEST(upgrade_under_load)
{
	uint16_t ph = tu_free_port(), pk = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "services = (\n"
	    " { name = \"h\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; },\n"
	    " { name = \"k\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; args = [\"probe\", \"hold\"]; }\n);\n",
	    ph, it_path("services/hello-tcp"), pk, it_probe()));
	char buf[64], want[128], res[64] = "";
	int p[2], held, good = 0, bad = -1;
	long t0, pid, ms;
	const char *line;
	pid_t client;

	ck_assert_int_ne(held = tu_connect(pk), -1);
	ck_assert(tu_read_until(held, buf, sizeof(buf), "\n", IT_WAIT) > 0);
	t0 = tu_now_ms();
	pid = it_line_num(buf, "pid");
	/* Not a wait for anything: a lifetime before the upgrades long enough
	 * that one counted from an upgrade would show. */
	usleep(500000);
	ck_assert_int_eq(pipe(p), 0);
	if ((client = fork()) == 0) {
		close(p[0]);
		int g = 0, b = 0;
		while (access(it_tmp("stop"), F_OK) != 0 && getppid() != 1)
			it_hello(ph, "x") ? g++ : b++;
		dprintf(p[1], "%d %d\n", g, b);
		_exit(0);
	}
	close(p[1]);
	for (int i = 1; i <= UPGRADES; i++)
		upgrade(d, i);
	tu_write("stop", "\n");
	ck_assert_int_gt(tu_read_until(p[0], res, sizeof(res), "\n", 30000), 0);
	waitpid(client, NULL, 0);
	close(p[0]);
	sscanf(res, "%d %d", &good, &bad);
	ck_assert_int_gt(good, 0);
	ck_assert_msg(bad == 0, "%d of %d connections failed across upgrades",
	    bad, good + bad);
	/* The handler from before: reaped by the third image, whole lifetime. */
	close(held);
	ck_assert((line = it_wait_reaped(d, "k", pid, IT_WAIT)) != NULL);
	ms = tu_now_ms() - t0;
	ck_assert_ptr_nonnull(strstr(line, "exited with status 0 after "));
	long logged = strtol(strstr(line, " after ") + 7, NULL, 10);
	ck_assert_msg(logged >= ms - 50 && logged <= ms + 200,
	    "logged %ld ms, lived about %ld", logged, ms);
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", good + 1, IT_WAIT));
	kill(d->pid, SIGUSR1);
	snprintf(want, sizeof(want), "service \"h\": accepted %d, refused 0", good);
	ck_assert_msg(it_wait_log_count(d, want, 1, IT_WAIT), "%s", it_tail(d->log));
	ck_assert(it_wait_log_count(d, "service \"k\": accepted 1, refused 0", 1,
	    IT_WAIT));
	ck_assert_int_eq(it_count(d->log, "ready: 2 services"), UPGRADES + 1);
	it_stop(d);
}
END_TEST

/* A busy UDP wait service: its handler keeps the socket, and once the new
 * image reaped it, the socket is served again. */
START_TEST(upgrade_keeps_busy_wait_service)
{
	uint16_t port = tu_free_port();
	/* cat reads the datagrams until an empty one, which reads as EOF. */
	struct daemon *d = it_start(tu_write("sockd.conf", "services = ("
	    " { name = \"u\"; protocol = \"udp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"/bin/sh\"; args = [\"sh\", \"-c\", \"exec cat >/dev/null\"];"
	    " wait = true; });\n", port));
	char buf[8];

	ck_assert_int_eq(tu_udp_ask(port, 0, "x", 1, buf, sizeof(buf), 100), -1);
	ck_assert(it_wait_log_count(d, IT_LOG_TOOK, 1, IT_WAIT));
	upgrade(d, 1);
	ck_assert(tu_wait_log(d, UPGRADED "; 1 handlers adopted", IT_WAIT));
	/* Still the handler's alone: this datagram starts nothing. */
	ck_assert_int_eq(tu_udp_ask(port, 0, "y", 1, buf, sizeof(buf), 300), -1);
	tu_drain_log(d);
	ck_assert_int_eq(it_count(d->log, IT_LOG_TOOK), 1);
	ck_assert_int_eq(tu_udp_ask(port, 0, "", 0, buf, sizeof(buf), 100), -1);
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", 1, IT_WAIT));
	ck_assert_int_eq(tu_udp_ask(port, 0, "z", 1, buf, sizeof(buf), 100), -1);
	ck_assert(it_wait_log_count(d, IT_LOG_TOOK, 2, IT_WAIT));
	ck_assert_int_eq(tu_udp_ask(port, 0, "", 0, buf, sizeof(buf), 100), -1);
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", 2, IT_WAIT));
	it_stop(d);
}
END_TEST

/*
 * A handler's stderr stays read across the upgrade: what it writes after
 * goes to the log, and it never meets a closed reader (SIGPIPE). Its
 * unfinished line is logged before the exec.
 */
START_TEST(upgrade_keeps_handler_stderr)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "services = ("
	    " { name = \"s\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; args = [\"probe\", \"halves\"]; });\n",
	    port, it_probe()));
	char buf[64], want[64];
	const char *line;
	int fd;

	ck_assert_int_ne(fd = tu_connect(port), -1);
	ck_assert(tu_read_until(fd, buf, sizeof(buf), "ready\n", IT_WAIT) > 0);
	long pid = it_conn_pid(d, "s", it_local_port(fd));
	upgrade(d, 1);
	snprintf(want, sizeof(want), "pid %ld: %ld:first-\n", pid, pid);
	ck_assert_msg(strstr(d->log, want) != NULL, "%s", it_tail(d->log));
	it_send(fd, "go\n");
	snprintf(want, sizeof(want), "pid %ld: second\n", pid);
	ck_assert_msg(it_wait_log_count(d, want, 1, IT_WAIT), "%s", it_tail(d->log));
	ck_assert((line = it_wait_reaped(d, "s", pid, IT_WAIT)) != NULL);
	ck_assert_msg(strncmp(line, "exited with status 0", 20) == 0, "%s", line);
	snprintf(want, sizeof(want), "pid %ld: tail", pid);
	ck_assert(it_wait_log_count(d, want, 1, IT_WAIT));
	close(fd);
	it_stop(d);
}
END_TEST

/* Under a service manager: RELOADING=1 at the check, READY=1 from the new
 * image, whose NOTIFY_SOCKET the old one had taken out of the environment. */
START_TEST(upgrade_tells_the_service_manager)
{
	uint16_t port = tu_free_port();
	char path[4200];
	int fd = it_notify_socket(path, sizeof(path));
	struct daemon *d;

	setenv("NOTIFY_SOCKET", path, 1);
	d = it_start(tu_write("sockd.conf", "services = ("
	    " { name = \"h\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; });\n", port, it_path("services/hello-tcp")));
	unsetenv("NOTIFY_SOCKET");
	it_expect_notify(fd, "READY=1");
	upgrade(d, 1);
	it_expect_notify(fd, "RELOADING=1");
	it_expect_notify(fd, "READY=1");
	ck_assert(it_hello(port, "x"));
	it_stop(d);
	it_expect_notify(fd, "STOPPING=1");
	close(fd);
}
END_TEST

/*
 * A daemon (no -F: its working directory is "/") started with a relative
 * -f and -p: the new image still finds its configuration and pidfile.
 */
START_TEST(upgrade_of_a_daemon_with_relative_paths)
{
	uint16_t port = tu_free_port();
	char wrapper[4096], buf[32] = "";
	struct daemon *d;
	long pid = 0;
	FILE *f;

	snprintf(wrapper, sizeof(wrapper), "%s", tu_write("relative",
	    "#!/bin/sh\ncd '%s' && exec \"$1\" -d -f sockd.conf -p sockd.pid\n",
	    tu_tmpdir()));
	ck_assert_int_eq(chmod(wrapper, 0755), 0);
	/* log = "stderr": the daemon keeps the test's pipe as its stderr. */
	d = it_start_via(wrapper, tu_write("sockd.conf", "sockd = { log = \"stderr\"; };\n"
	    "services = ( { name = \"h\"; protocol = \"tcp\"; port = %u;"
	    " address = \"127.0.0.1\"; server = \"%s\"; });\n", port,
	    it_path("services/hello-tcp")));
	for (long end = tu_now_ms() + IT_WAIT; pid <= 0 && tu_now_ms() < end;
	    usleep(10000))
		if ((f = fopen(it_tmp("sockd.pid"), "r")) != NULL) {
			pid = fgets(buf, sizeof(buf), f) ? atol(buf) : 0;
			fclose(f);
		}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_ne(pid, d->pid);		/* it forked to detach */
	ck_assert_int_eq(kill(pid, SIGUSR2), 0);
	ck_assert_msg(it_wait_log_count(d, UPGRADED, 1, IT_WAIT), "%s",
	    it_tail(d->log));
	ck_assert(it_hello(port, "x"));
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert(it_wait_log_count(d, "exiting", 1, IT_WAIT));
	for (long end = tu_now_ms() + IT_WAIT; it_alive(pid, NULL) &&
	    tu_now_ms() < end; usleep(10000))
		;
	ck_assert(!it_alive(pid, NULL));
	ck_assert_int_eq(access(it_tmp("sockd.pid"), F_OK), -1);
}
END_TEST

/* Copies src/sockd to path, through a temporary name and a rename, as a
 * package manager replaces a running binary. */
static void
install(const char *from, const char *path)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s.new' && chmod 755 '%s.new' && "
	    "mv '%s.new' '%s'", from, path, path, path, path);
	ck_assert_int_eq(system(cmd), 0);
}

/*
 * The binary sockd started from is gone, then broken: each upgrade is
 * refused, sockd serves on as it was; once it is whole again, the upgrade
 * goes through.
 */
START_TEST(upgrade_to_a_bad_binary_changes_nothing)
{
	uint16_t port = tu_free_port();
	char copy[4096], wrapper[4096], broken[4096], older[4096];
	struct daemon *d;
	pid_t pid;

	snprintf(copy, sizeof(copy), "%s", it_tmp("sockd"));
	install(it_path("src/sockd"), copy);
	/* $1 is src/sockd: run the copy instead, with the same arguments. */
	snprintf(wrapper, sizeof(wrapper), "%s", tu_write("via-copy",
	    "#!/bin/sh\nshift\nexec '%s' \"$@\"\n", copy));
	ck_assert_int_eq(chmod(wrapper, 0755), 0);
	snprintf(broken, sizeof(broken), "%s", tu_write("broken",
	    "#!/bin/sh\necho 'sockd: this binary is broken'\nexit 1\n"));
	snprintf(older, sizeof(older), "%s", tu_write("older",
	    "#!/bin/sh\necho 'sockd: sockd.conf: OK, 1 services (1 enabled)'\n"
	    "echo 'sockd: upgrade format %d'\n", UPSTATE_OLDEST - 1));
	d = it_start_via(wrapper, tu_write("sockd.conf", "services = ("
	    " { name = \"h\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; });\n", port, it_path("services/hello-tcp")));
	pid = d->pid;

	ck_assert_int_eq(unlink(copy), 0);
	kill(pid, SIGUSR2);
	ck_assert_msg(it_wait_log_count(d, "sockd goes on as it is", 1, IT_WAIT),
	    "%s", it_tail(d->log));
	ck_assert_ptr_nonnull(strstr(d->log, "cannot execute: No such file"));
	ck_assert(it_hello(port, "x"));

	install(broken, copy);
	kill(pid, SIGUSR2);
	ck_assert(it_wait_log_count(d, "sockd goes on as it is", 2, IT_WAIT));
	ck_assert_ptr_nonnull(strstr(d->log, "this binary is broken"));
	ck_assert(it_hello(port, "x"));
	ck_assert_int_eq(it_count(d->log, "upgrading in place"), 0);

	/* An older release: it accepts the file but reads no state this one
	 * writes. */
	install(older, copy);
	kill(pid, SIGUSR2);
	ck_assert(it_wait_log_count(d, "sockd goes on as it is", 3, IT_WAIT));
	ck_assert_msg(strstr(d->log, "cannot take over this one's state"), "%s",
	    it_tail(d->log));
	ck_assert(it_hello(port, "x"));
	ck_assert_int_eq(it_count(d->log, "upgrading in place"), 0);

	install(it_path("src/sockd"), copy);
	upgrade(d, 1);
	ck_assert(it_hello(port, "x"));
	ck_assert_int_eq(d->pid, pid);
	it_stop(d);
}
END_TEST

/* What "sockd -t" prints as an upgrade's check, given state on fd 5. */
static const char *
check_output(const char *state)
{
	static char out[4096];
	char cmd[8192], file[4096];
	FILE *p;
	size_t n;

	/* tu_write()'s path is overwritten by its next call. */
	snprintf(file, sizeof(file), "%s", tu_write("state", "%s", state));

	snprintf(cmd, sizeof(cmd), "SOCKD_UPGRADE_CHECK=1 SOCKD_UPGRADE_STATE=5 "
	    "'%s' -t -f '%s' 5<'%s' 2>&1", it_path("src/sockd"),
	    tu_write("sockd.conf", "services = ( { name = \"d\"; protocol = \"tcp\";"
	    " port = %u; address = \"127.0.0.1\"; builtin = \"daytime\"; } );\n",
	    tu_free_port()), file);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	return out;
}

/*
 * The check reads a snapshot of the running daemon's state and names the
 * format it read: a state it cannot read stops an upgrade before the exec,
 * where the new image could only give up after it.
 */
START_TEST(check_reads_the_state)
{
	char state[256];
	const char *out;

	snprintf(state, sizeof(state), "sockd-upgrade %d\ndaemon 1 0 0 0\nend\n",
	    UPSTATE_OLDEST);
	out = check_output(state);
	snprintf(state, sizeof(state), "sockd: upgrade format %d\n", UPSTATE_OLDEST);
	ck_assert_msg(strstr(out, state) != NULL, "%s", out);
	ck_assert_int_eq(it_count(out, "upgrade format"), 1);

	out = check_output("sockd-upgrade 3\nservice svc 0 1000 -1 3 1 2 3\nend\n");
	ck_assert_msg(strstr(out, "cannot read the running sockd's state"), "%s", out);
	ck_assert_int_eq(it_count(out, "upgrade format"), 0);
}
END_TEST

/* An echo over the UNIX socket at path; true if it came back. */
static bool
unix_echoes(const char *path)
{
	int fd = it_unix_connect(path);
	char buf[8];
	bool ok;

	if (fd == -1)
		return false;
	it_send(fd, "hi\n");
	ok = it_read_n(fd, buf, 3, IT_WAIT) == 3 && memcmp(buf, "hi\n", 3) == 0;
	close(fd);
	return ok;
}

/*
 * The hand-over carries a UNIX-domain listener (and the file it made, which
 * the new image removes at exit) and the relay of a per-peer UDP handler:
 * the peer's next datagram goes to the handler it had, a new peer's starts
 * a new one, and the handler still ends when idle.
 */
START_TEST(upgrade_keeps_unix_and_peer_services)
{
	uint16_t pp = tu_free_port(), src = tu_free_port(), src2 = tu_free_port();
	char path[4200], got[64], want[128];
	long pid;
	struct daemon *d;
	struct stat st;

	snprintf(path, sizeof(path), "%s", it_tmp("u.sock"));
	d = it_start(tu_write("sockd.conf", "services = (\n"
	    " { name = \"u\"; protocol = \"unix\"; address = \"%s\"; builtin = \"echo\"; },\n"
	    " { name = \"p\"; protocol = \"udp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; wait = false; idle_timeout = 3; }\n);\n", path, pp,
	    it_path("services/echo-peer")));
	ck_assert(unix_echoes(path));
	ck_assert_int_gt(tu_udp_ask(pp, src, "one", 3, got, sizeof(got), IT_WAIT), 0);
	ck_assert(it_wait_log_count(d, "service \"p\": accepted", 1, IT_WAIT));
	pid = it_conn_pid(d, "p", src);
	upgrade(d, 1);
	ck_assert_msg(unix_echoes(path), "%s", it_tail(d->log));
	memset(got, 0, sizeof(got));
	ck_assert_int_gt(tu_udp_ask(pp, src, "two", 3, got, sizeof(got), IT_WAIT), 0);
	ck_assert_str_eq(got, "Echo: two!");
	/* A new peer gets a handler of its own; by the time it is logged, a
	 * handler started for "two" would have been: there is none. */
	ck_assert_int_gt(tu_udp_ask(pp, src2, "three", 5, got, sizeof(got), IT_WAIT), 0);
	(void)it_conn_pid(d, "p", src2);
	snprintf(want, sizeof(want), IT_LOG_CONN_FMT, "p", src);
	ck_assert_msg(it_count(d->log, want) == 1, "%s", it_tail(d->log));
	/* The adopted handler's stdin ends when it is idle, by the new
	 * image's timer. */
	snprintf(want, sizeof(want), "service \"p\": pid %ld " IT_LOG_EXIT "0", pid);
	ck_assert_msg(tu_wait_log(d, want, 3 * IT_WAIT), "no \"%s\" in:\n%s", want,
	    it_tail(d->log));
	ck_assert_int_eq(stat(path, &st), 0);
	it_stop(d);
	ck_assert_int_eq(stat(path, &st), -1);
}
END_TEST

/* Asks what the handler behind the peer at src has on fd 0 ("sock", the
 * n-th datagram): its pid, and in type the socket's type. */
static long
peer_sock(uint16_t port, uint16_t src, unsigned n, int *type)
{
	char got[256], head[32];
	long pid;
	int at = 0;

	ck_assert_int_gt(tu_udp_ask(port, src, "sock", 4, got, sizeof(got), IT_WAIT), 0);
	pid = strtol(got, NULL, 10);
	snprintf(head, sizeof(head), "%ld %u sock type=%n", pid, n, &at);
	ck_assert_msg(pid > 0 && strncmp(got, head, (size_t)at) == 0, "%s", got);
	*type = atoi(got + at);
	return pid;
}

/*
 * Handlers with UDP sockets of their own, live across an upgrade: each
 * socket is handed over, the handler goes on counting its peer's
 * datagrams, and ends when idle by the new image's probe. The new image
 * relays the service's new peers: it inherited the service's socket.
 */
START_TEST(upgrade_keeps_peer_sockets)
{
	uint16_t pp = tu_free_port(), src[3];
	long pid[3];
	int type;
	struct daemon *d = it_start(tu_write("sockd.conf", "services = ( { name = \"p\";"
	    " protocol = \"udp\"; port = %u; address = \"127.0.0.1\"; wait = false;"
	    " server = \"%s\"; args = [\"probe\", \"peer\"]; idle_timeout = 2;"
	    " peer_socket = true; } );\n", pp, it_probe()));
	char want[96];

	for (int i = 0; i < 3; i++) {
		src[i] = tu_free_port();
		pid[i] = peer_sock(pp, src[i], 1, &type);
		ck_assert_int_eq(type, SOCK_DGRAM);
	}
	upgrade(d, 1);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(peer_sock(pp, src[i], 2, &type), pid[i]);
		ck_assert_int_eq(type, SOCK_DGRAM);
	}
	ck_assert_int_ne(peer_sock(pp, tu_free_port(), 1, &type), 0);
	ck_assert_int_eq(type, SOCK_SEQPACKET);
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "service \"p\": pid %ld " IT_LOG_EXIT "0",
		    pid[i]);
		ck_assert_msg(tu_wait_log(d, want, 3 * IT_WAIT), "no \"%s\" in:\n%s",
		    want, it_tail(d->log));
	}
	ck_assert_int_eq(it_count(d->log, "dropped"), 0);
	it_stop(d);
}
END_TEST

/*
 * A UNIX-domain handler running when SIGUSR2 comes: its record (a uid as
 * the per-source key) is handed over and read, the upgrade goes through,
 * the handler answers on and is adopted, reaped by the new image; the
 * listener serves new connections. Before format 4, such a record stopped
 * every upgrade, or, written after the check, ended the new image.
 */
START_TEST(upgrade_with_a_unix_handler_running)
{
	char path[4200], buf[16];
	struct daemon *d;
	const char *line;
	long pid;
	int fd;

	snprintf(path, sizeof(path), "%s", it_tmp("u.sock"));
	d = it_start(tu_write("sockd.conf", "services = ( { name = \"u\";"
	    " protocol = \"unix\"; address = \"%s\"; server = \"/bin/cat\"; } );\n",
	    path));
	ck_assert_int_ne(fd = it_unix_connect(path), -1);
	it_send(fd, "one\n");
	ck_assert_uint_eq(it_read_n(fd, buf, 4, IT_WAIT), 4);
	ck_assert(it_wait_log_count(d, "service \"u\": accepted uid ", 1, IT_WAIT));
	/* The line names the client's pid, then the handler's. */
	ck_assert_ptr_nonnull(line = strstr(d->log, "service \"u\": accepted uid "));
	ck_assert_ptr_nonnull(line = strstr(line, ", pid "));
	pid = strtol(line + 6, NULL, 10);
	upgrade(d, 1);
	ck_assert_msg(strstr(d->log, UPGRADED "; 1 handlers adopted"), "%s",
	    it_tail(d->log));
	ck_assert_int_eq(it_count(d->log, "dropped"), 0);
	it_send(fd, "two\n");
	ck_assert_uint_eq(it_read_n(fd, buf, 4, IT_WAIT), 4);
	ck_assert(memcmp(buf, "two\n", 4) == 0);
	ck_assert(unix_echoes(path));
	close(fd);
	ck_assert((line = it_wait_reaped(d, "u", pid, IT_WAIT)) != NULL);
	ck_assert_msg(strncmp(line, "exited with status 0", 20) == 0, "%s", line);
	it_stop(d);
}
END_TEST

/*
 * SIGUSR2 runs the path sockd was started as, not the file it was loaded
 * from: started through a symbolic link that is then pointed at another
 * copy, the master runs that copy after the upgrade.
 */
START_TEST(upgrade_runs_what_the_start_path_names)
{
	uint16_t port = tu_free_port();
	char a[4096], b[4096], link[4096], wrapper[4096], exe[4096];
	struct daemon *d;
	ssize_t n;

	snprintf(a, sizeof(a), "%s", it_tmp("sockd-a"));
	snprintf(b, sizeof(b), "%s", it_tmp("sockd-b"));
	snprintf(link, sizeof(link), "%s", it_tmp("sockd"));
	install(it_path("src/sockd"), a);
	install(it_path("src/sockd"), b);
	ck_assert_int_eq(symlink(a, link), 0);
	snprintf(wrapper, sizeof(wrapper), "%s", tu_write("via-link",
	    "#!/bin/sh\nshift\nexec '%s' \"$@\"\n", link));
	ck_assert_int_eq(chmod(wrapper, 0755), 0);
	d = it_start_via(wrapper, tu_write("sockd.conf", "services = ("
	    " { name = \"h\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; });\n", port, it_path("services/hello-tcp")));
	ck_assert_int_eq(unlink(link), 0);
	ck_assert_int_eq(symlink(b, link), 0);
	upgrade(d, 1);
	snprintf(exe, sizeof(exe), "/proc/%ld/exe", (long)d->pid);
	ck_assert_int_gt(n = readlink(exe, link, sizeof(link) - 1), 0);
	link[n] = '\0';
	ck_assert_str_eq(link, b);
	ck_assert(it_hello(port, "x"));
	it_stop(d);
}
END_TEST

/*
 * A new image whose hand-over it cannot read, whole or in part, still
 * serves: what it cannot read it logs and lets go, closing the
 * descriptors no record took, and binds those services afresh. Here sockd
 * is started as such an image by the probe, which binds the service's
 * port on fd 3 (as the old image would leave it); the state on fd 4
 * names it wrongly.
 */
static void
start_with_state(bool whole_garbage)
{
	uint16_t port = tu_free_port();
	char wrapper[4096], state[4096];
	struct daemon *d;

	snprintf(state, sizeof(state), "%s", whole_garbage ?
	    tu_write("state", "sockd-upgrade x\nlistener proto=tcp "
	    "addr=127.0.0.1 port=%u fd=3\nend\n", port) :
	    tu_write("state", "sockd-upgrade %d\nlistener proto=tcp "
	    "addr=127.0.0.1 port=%u fd\nend\n", UPSTATE_VERSION, port));
	snprintf(wrapper, sizeof(wrapper), "%s", tu_write("as-new-image",
	    "#!/bin/sh\nshift\nexec '%s' activate tcp:%u: /usr/bin/env -u LISTEN_FDS "
	    "-u LISTEN_PID %s=4 '%s' \"$@\" 4<'%s'\n", it_probe(), port,
	    UPSTATE_ENV_FD, it_path("src/sockd"), state));
	ck_assert_int_eq(chmod(wrapper, 0755), 0);
	d = it_start_via(wrapper, tu_write("sockd.conf", "services = ("
	    " { name = \"h\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; });\n", port, it_path("services/hello-tcp")));
	ck_assert_msg(strstr(d->log, whole_garbage ? "cannot be read; every service "
	    "binds afresh" : "(listener): a word that is not key=value; dropped"),
	    "%s", it_tail(d->log));
	ck_assert_msg(strstr(d->log, " inherited descriptors that no record "),
	    "%s", it_tail(d->log));
	ck_assert(it_hello(port, "x"));
	it_stop(d);
}

START_TEST(new_image_serves_whatever_the_state)
{
	/* A listener record cut short; and a text that is no state at all. */
	start_with_state(false);
	start_with_state(true);
}
END_TEST

/* What a client of port from src reads to the end (or for 3 s). */
static void
read_from(const char *src, uint16_t port, char *buf, size_t len)
{
	int fd = tu_connect_from(src, "127.0.0.1", port);

	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, buf, len, NULL, 3000);
	close(fd);
}

/*
 * The back-off's memory of recent fast failures, and the rate buckets,
 * pass to the new image: a third fast failure after the upgrade pauses a
 * service with fail_limit 2, and a client that spent its source_rate
 * token before the upgrade is refused after it. A token comes back in a
 * second, so a try whose upgrade took longer proves nothing about the
 * bucket; each try is a new client address, with a bucket of its own.
 */
START_TEST(upgrade_keeps_back_off_and_rates)
{
	uint16_t pf = tu_free_port(), pr = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf",
	    "sockd = { fail_limit = 2; };\nservices = (\n"
	    " { name = \"f\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; args = [\"probe\", \"exit\", \"1\"]; },\n"
	    " { name = \"r\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " builtin = \"daytime\"; source_rate = 1; refuse_message = \"slow down\\n\"; }\n);\n",
	    pf, it_probe(), pr));
	char buf[256], src[32];
	int tries = 0, counted = 0;

	for (int i = 0; i < 2; i++) {
		int fd = tu_connect(pf);
		ck_assert_int_ge(fd, 0);
		ck_assert(it_wait_eof(fd, IT_WAIT));
		close(fd);
	}
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "1", 2, IT_WAIT));
	while (counted == 0 && tries < 3) {
		long t0 = tu_now_ms();
		snprintf(src, sizeof(src), "127.0.0.%d", 10 + tries);
		read_from(src, pr, buf, sizeof(buf));
		ck_assert_msg(strcmp(buf, "slow down\n") != 0, "refused before");
		upgrade(d, ++tries);
		read_from(src, pr, buf, sizeof(buf));
		if (tu_now_ms() - t0 >= 900)
			continue;	/* its token may be back */
		counted++;
		ck_assert_msg(strcmp(buf, "slow down\n") == 0, "served again: \"%s\"", buf);
	}
	ck_assert_msg(counted > 0, "each of %d upgrades took more than 0.9 s", tries);
	{
		int fd = tu_connect(pf);
		ck_assert_int_ge(fd, 0);
		ck_assert(it_wait_eof(fd, IT_WAIT));
		close(fd);
	}
	ck_assert_msg(tu_wait_log(d, "more than 2 fast failures", IT_WAIT), "%s",
	    it_tail(d->log));
	it_stop(d);
}
END_TEST

/*
 * A connection still sending its PROXY header when SIGUSR2 comes is
 * served, by the old image, before the exec: the new one could not read
 * the rest of a header the old one began.
 */
START_TEST(upgrade_waits_for_proxy_headers)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "services = ("
	    " { name = \"h\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; proxy_protocol = \"v1\"; proxy_from = \"127.0.0.1\"; } );\n",
	    port, it_path("services/hello-tcp")));
	char buf[64];
	int fd;

	ck_assert_int_ne(fd = tu_connect(port), -1);
	it_send(fd, "PROXY TCP4 192.0.2.7 127.0.0.1 ");
	ck_assert_int_eq(kill(d->pid, SIGUSR2), 0);
	ck_assert(it_wait_log_count(d, "SIGUSR2: checking", 1, IT_WAIT));
	/* The check passes; the exec waits for this header. */
	ck_assert(it_quiet(fd, 300));
	ck_assert_int_eq(it_count(d->log, UPGRADED), 0);
	it_send(fd, "4000 4001\r\n");
	ck_assert_int_gt(tu_read_until(fd, buf, sizeof(buf), "Welcome!\n", IT_WAIT), 0);
	close(fd);
	ck_assert_msg(it_wait_log_count(d, UPGRADED, 1, IT_WAIT), "%s", it_tail(d->log));
	ck_assert_ptr_nonnull(strstr(d->log, "accepted 192.0.2.7 port 4000"));
	it_stop(d);
}
END_TEST

Suite *
upgrade_suite(void)
{
	Suite *s = suite_create("upgrade");
	TCase *tc = tcase_create("upgrade");

	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_test(tc, upgrade_under_load);
	tcase_add_test(tc, upgrade_keeps_busy_wait_service);
	tcase_add_test(tc, upgrade_keeps_handler_stderr);
	tcase_add_test(tc, upgrade_tells_the_service_manager);
	tcase_add_test(tc, upgrade_of_a_daemon_with_relative_paths);
	tcase_add_test(tc, upgrade_to_a_bad_binary_changes_nothing);
	tcase_add_test(tc, upgrade_keeps_unix_and_peer_services);
	tcase_add_test(tc, upgrade_keeps_peer_sockets);
	tcase_add_test(tc, upgrade_waits_for_proxy_headers);
	tcase_add_test(tc, upgrade_keeps_back_off_and_rates);
	tcase_add_test(tc, check_reads_the_state);
	tcase_add_test(tc, upgrade_with_a_unix_handler_running);
	tcase_add_test(tc, upgrade_runs_what_the_start_path_names);
	tcase_add_test(tc, new_image_serves_whatever_the_state);
	suite_add_tcase(s, tc);
	return s;
}
