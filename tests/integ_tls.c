/*
 * TLS in front of a handler, with real clients (tests/tls_client.py, on
 * Python's ssl) and certificates the tests make with the openssl command:
 * a handler through TLS, its SSL_* environment, behind a PROXY header,
 * client certificates, bad clients that cost their own child alone, a key
 * only root can read with the handler as nobody, the relay's process and
 * its id of its own (out of another handler's reach, across an upgrade),
 * 256 MiB each way, what -t reports about the files, a renewed certificate
 * taken at SIGHUP, and the service's zygote (tlszygote.h): used, replaced,
 * killed, stuck, bare.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

static char buf[65536];

/* tls_client.py on port with extra arguments; its output in buf. */
static const char *
client(uint16_t port, const char *args)
{
	it_sh(buf, sizeof(buf), "cd %s && %s %u %s", tu_tmpdir(),
	    tu_path("tests/tls_client.py"), port, args);
	return buf;
}


/* A CA (ca.pem, ca.key) and a client certificate it signed (client.pem,
 * client.key) for CN=client. */
static void
client_ca(void)
{
	char out[4096];

	it_selfsigned("ca", "test-ca", 30);
	ck_assert_msg(it_sh(out, sizeof(out), "cd %s && openssl req -new -newkey "
	    "rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=client "
	    "&& openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
	    "-CAcreateserial -days 30 -out client.pem", tu_tmpdir()) == 0,
	    "openssl: %s", out);
}

/* A TLS service on port running server with args, with tls keys and
 * more keys; server.pem and server.key serve it unless tls says else. */
static const char *
conf(uint16_t port, const char *server, const char *args, const char *tls,
    const char *more)
{
	return tu_write("sockd.conf", "services = ( { name = \"t\"; protocol = "
	    "\"tcp\"; address = \"127.0.0.1\"; port = %u;\n  server = \"%s\"; "
	    "args = [%s];\n  tls = { certificate = \"server.pem\"; key = "
	    "\"server.key\"; %s };\n  %s } );\n", port, server, args, tls, more);
}

START_TEST(hello_through_tls)
{
	uint16_t port = tu_free_port();
	struct daemon *d;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf(port, it_path("services/hello-tcp"), "\"hello-tcp\"",
	    "", ""));
	ck_assert_str_eq(client(port, "--ca server.pem --send 'bob\\nexit\\n'"),
	    "Welcome!\nHello, bob!\n");
	it_stop(d);
}
END_TEST

START_TEST(handler_environment)
{
	uint16_t port = tu_free_port();
	struct daemon *d;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf(port, it_probe(), "\"probe\", \"env\"",
	    "alpn = [\"h2\", \"http/1.1\"];", ""));
	client(port, "--alpn http/1.1 --sni example.test");
	ck_assert_msg(it_has_line(buf, "env:SSL_PROTOCOL=TLSv1.3"), "%s", buf);
	ck_assert(it_count_prefix(buf, "env:SSL_CIPHER=TLS_") == 1);
	ck_assert(it_has_line(buf, "env:SSL_TLS_SNI_SERVERNAME=example.test"));
	ck_assert(it_has_line(buf, "env:SSL_ALPN=http/1.1"));
	ck_assert(it_has_line(buf, "env:TCPREMOTEIP=127.0.0.1"));
	ck_assert(it_has_line(buf, "env:PROTO=TCP"));
	ck_assert_int_eq(it_count_prefix(buf, "env:SSL_PEER_CERT"), 0);
	/* The handler's 0 and 1 are its end of the pair, 2 the log: no more. */
	ck_assert_int_eq(it_count_prefix(buf, "fd:"), 3);
	it_stop(d);
}
END_TEST

/* Behind a balancer's PROXY header: its addresses reach the handler, with
 * the handshake's, through the zygote's child as through any. */
START_TEST(proxy_header_then_tls)
{
	uint16_t port = tu_free_port();
	struct daemon *d;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf(port, it_probe(), "\"probe\", \"env\"", "",
	    "proxy_protocol = \"any\"; proxy_from = \"127.0.0.0/8\";"));
	client(port, "--proxy 'PROXY TCP4 192.0.2.10 198.51.100.20 40000 443\\r\\n'");
	ck_assert_msg(it_has_line(buf, "env:TCPREMOTEIP=192.0.2.10"), "%s", buf);
	ck_assert(it_has_line(buf, "env:TCPREMOTEPORT=40000"));
	ck_assert(it_has_line(buf, "env:TCPLOCALIP=198.51.100.20"));
	ck_assert(it_has_line(buf, "env:TCPLOCALPORT=443"));
	ck_assert(it_has_line(buf, "env:TCPPROXYIP=127.0.0.1"));
	ck_assert(it_has_line(buf, "env:SSL_PROTOCOL=TLSv1.3"));
	ck_assert(tu_wait_log(d, "accepted 192.0.2.10 port 40000, pid", IT_WAIT));
	it_stop(d);
}
END_TEST

START_TEST(client_certificate_required)
{
	uint16_t port = tu_free_port();
	struct daemon *d;

	it_selfsigned("server", "localhost", 30);
	client_ca();
	d = it_start(conf(port, it_probe(), "\"probe\", \"env\"",
	    "ca = \"ca.pem\"; verify_client = \"require\";", ""));
	client(port, "");
	ck_assert_msg(strncmp(buf, "error:", 6) == 0, "%s", buf);
	ck_assert(!strstr(buf, "env:"));
	client(port, "--cert client.pem --key client.key");
	ck_assert_msg(it_has_line(buf, "env:SSL_PEER_CERT_SUBJECT=/CN=client"),
	    "%s", buf);
	ck_assert(it_count_prefix(buf, "env:SSL_PEER_CERT_HASH=SHA256:") == 1);
	kill(d->pid, SIGUSR1);
	ck_assert(tu_wait_log(d, "tls_handshake 1)", IT_WAIT));
	it_stop(d);
}
END_TEST

/* Whether the server ended fd within ms: EOF, or a reset where it left
 * the client's bytes unread. */
static bool
closed(int fd, int ms)
{
	long t0 = tu_now_ms();
	char b[256];

	while (tu_now_ms() - t0 < ms) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		if (poll(&p, 1, 50) == 1 && (n = recv(fd, b, sizeof(b),
		    MSG_DONTWAIT)) <= 0)
			return n == 0 || errno != EAGAIN;
	}
	return false;
}

/*
 * A plain-text client, garbage and a client that never says anything:
 * each ends in its own child, counted as tls_handshake, after at most
 * handshake_timeout, and meanwhile the service and another serve at once.
 */
START_TEST(bad_clients_cost_their_own_child)
{
	uint16_t port = tu_free_port(), plain = tu_free_port();
	struct daemon *d;
	int stalled, text, junk;
	long t0;

	it_selfsigned("server", "localhost", 30);
	d = it_start(tu_write("sockd.conf", "services = (\n"
	    "{ name = \"t\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " server = \"%s\"; tls = { certificate = \"server.pem\"; key = "
	    "\"server.key\"; handshake_timeout = 2; }; },\n"
	    "{ name = \"plain\"; protocol = \"tcp\"; address = \"127.0.0.1\"; "
	    "port = %u; server = \"%s\"; } );\n", port,
	    it_path("services/hello-tcp"), plain, it_path("services/hello-tcp")));
	t0 = tu_now_ms();
	ck_assert_int_ge(stalled = tu_connect(port), 0);
	ck_assert_int_ge(text = tu_connect(port), 0);
	ck_assert_int_ge(junk = tu_connect(port), 0);
	it_send(text, "GET / HTTP/1.0\r\n\r\n");
	it_send(junk, "\x16\x03\x01\xff\xff garbage");
	ck_assert(it_hello(plain, "bob"));
	ck_assert_str_eq(client(port, "--send 'ann\\nexit\\n'"),
	    "Welcome!\nHello, ann!\n");
	ck_assert_msg(tu_now_ms() - t0 < 1500, "served after %ld ms",
	    tu_now_ms() - t0);
	ck_assert(closed(text, IT_WAIT));
	ck_assert(closed(junk, IT_WAIT));
	ck_assert(closed(stalled, IT_WAIT));
	ck_assert_msg(tu_now_ms() - t0 >= 1900, "closed after %ld ms",
	    tu_now_ms() - t0);
	close(stalled);
	close(text);
	close(junk);
	ck_assert(it_wait_log_count(d, "exited with status 124", 3, IT_WAIT));
	ck_assert(tu_wait_log(d, "no handshake within handshake_timeout", IT_WAIT));
	kill(d->pid, SIGUSR1);
	ck_assert_msg(tu_wait_log(d, "tls_handshake 3), active 0, ended ok 1, "
	    "failed 0", IT_WAIT), "%s", it_tail(d->log));
	it_stop(d);
}
END_TEST

/* A child of pid (from /proc) that is sockd (relay: the relay beside the
 * handler) or is not (the handler, once exec'd); 0 after ms. */
static pid_t
child_of(pid_t pid, bool relay, int ms)
{
	char path[64];
	long t0 = tu_now_ms(), c;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)pid,
	    (long)pid);
	while (tu_now_ms() - t0 < ms) {
		if ((f = fopen(path, "re")) != NULL) {
			while (fscanf(f, "%ld", &c) == 1) {
				const char *name = tu_proc_status((pid_t)c, "Name");

				if ((strcmp(name, "sockd") == 0) == relay) {
					fclose(f);
					return (pid_t)c;
				}
			}
			fclose(f);
		}
		usleep(20000);
	}
	return 0;
}

/* Waits up to ms until pid holds n descriptors. */
static bool
fds_become(pid_t pid, int n, int ms)
{
	long t0 = tu_now_ms();

	while (tu_count_fds(pid) != n)
		if (tu_now_ms() - t0 > ms)
			return false;
		else
			usleep(10000);
	return true;
}

/*
 * A connection held open by a client in the background (the probe in
 * "hold" mode reads until EOF): the relay, which sockd logged, and its
 * child the handler. The client goes with the test's process group.
 */
static pid_t
held(struct daemon *d, uint16_t port, pid_t *handler)
{
	long pids[32];
	char cmd[512];
	int before, n;

	snprintf(cmd, sizeof(cmd), "cd %s && exec %s %u --hold >/dev/null 2>&1 &",
	    tu_tmpdir(), tu_path("tests/tls_client.py"), port);
	tu_drain_log(d);
	before = it_count(d->log, IT_LOG_CONN);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(it_wait_log_count(d, IT_LOG_CONN, before + 1, IT_WAIT), "%s",
	    it_tail(d->log));
	ck_assert_int_eq(n = it_log_pids(d, IT_LOG_CONN, pids, 32), before + 1);
	ck_assert_msg((*handler = child_of((pid_t)pids[n - 1], false, IT_WAIT)) > 0,
	    "no handler under the relay %ld", pids[n - 1]);
	return (pid_t)pids[n - 1];
}

/* The id pid runs as, if it is one of the default jail_ids range and its
 * group the same (setuid() and setgid() as root set all four of each):
 * the relay's id of its own; else 0. */
static uid_t
own_relay_id(pid_t pid)
{
	unsigned long uid = strtoul(tu_proc_status(pid, "Uid"), NULL, 10);

	if (uid != strtoul(tu_proc_status(pid, "Gid"), NULL, 10))
		return 0;
	return uid >= 2113929216ul && uid <= 2113994751ul ? (uid_t)uid : 0;
}

/* Waits up to ms until pid runs as an id of its own (own_relay_id()). */
static uid_t
relay_id_becomes(pid_t pid, int ms)
{
	long t0 = tu_now_ms();
	uid_t id;

	while ((id = own_relay_id(pid)) == 0 && tu_now_ms() - t0 < ms)
		usleep(10000);
	return id;
}

/*
 * The key is root's alone (mode 600) and the handler runs as nobody: the
 * master read it. The connection's process stays root only to start the
 * handler and wait; the relay beside it, which read every byte of the
 * client's, runs as an id of its own from before the handshake (not the
 * handler's, not another connection's relay's), cannot be traced (its
 * /proc entries stay root's), holds its two ends and its stderr; the
 * root one holds only its stderr, and leads the group both are in.
 */
START_TEST(root_key_nobody_handler)
{
	uint16_t port = tu_free_port(), hold = tu_free_port();
	const char *tls = "tls = { certificate = \"server.pem\"; key = "
	    "\"server.key\"; }; user = \"nobody\";";
	struct daemon *d;
	pid_t conn, relay, handler, conn2, relay2, handler2;
	uid_t id;
	struct stat st;
	char path[64];

	it_selfsigned("server", "localhost", 30);
	ck_assert_int_eq(stat(it_tmp("server.key"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_uid, 0);
	d = it_start(tu_write("sockd.conf", "services = (\n"
	    "{ name = \"t\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " server = \"%s\"; %s },\n"
	    "{ name = \"h\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " server = \"%s\"; %s } );\n",
	    port, "/bin/cat", tls, hold, "/bin/cat", tls));
	ck_assert_str_eq(client(port, "--send 'bob\\n'"), "bob\n");
	conn = held(d, hold, &handler);
	ck_assert_msg((relay = child_of(conn, true, IT_WAIT)) > 0, "no relay");
	ck_assert_msg((id = relay_id_becomes(relay, IT_WAIT)) != 0, "the relay's "
	    "Uid is %s, Gid %s", tu_proc_status(relay, "Uid"),
	    tu_proc_status(relay, "Gid"));
	ck_assert_str_eq(tu_proc_status(handler, "Uid"), "65534");
	ck_assert_str_eq(tu_proc_status(relay, "Groups"), "");
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)relay);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg(st.st_uid == 0, "the relay %ld is dumpable: owner %ld", (long)relay, (long)st.st_uid);
	ck_assert_int_eq(tu_count_fds(relay), 3);
	/* It closes its end of the pair once the clone returned, which may
	 * be after the handler ran. */
	ck_assert_msg(fds_become(conn, 1, IT_WAIT), "%d", tu_count_fds(conn));
	ck_assert_int_eq(getpgid(conn), conn);
	ck_assert_int_eq(getpgid(relay), conn);
	ck_assert_int_eq(getpgid(handler), conn);
	/* A second connection's relay has another. */
	conn2 = held(d, hold, &handler2);
	ck_assert_msg((relay2 = child_of(conn2, true, IT_WAIT)) > 0, "no relay");
	ck_assert_uint_ne(relay_id_becomes(relay2, IT_WAIT), 0);
	ck_assert_uint_ne(own_relay_id(relay2), id);
	kill(handler, SIGTERM);
	kill(handler2, SIGTERM);
	ck_assert(it_pid_gone(relay, IT_WAIT));
	ck_assert(it_pid_gone(conn, IT_WAIT));
	ck_assert(it_pid_gone(relay2, IT_WAIT));
	it_stop(d);
}
END_TEST

/*
 * Two ids in jail_ids: a connection held across an upgrade in place keeps
 * its relay's, which the new image gives back when it ends, so that two
 * connections after it have a relay each.
 */
START_TEST(relay_id_survives_upgrade)
{
	uint16_t port = tu_free_port();
	struct daemon *d;
	pid_t conn, relay, handler, relays[2], handlers[2];
	unsigned long ids[2];

	it_selfsigned("server", "localhost", 30);
	d = it_start(tu_write("sockd.conf", "sockd = { jail_ids = "
	    "\"3000000000-3000000001\"; };\nservices = ( { name = \"t\"; "
	    "protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u; server = "
	    "\"/bin/cat\"; tls = { certificate = \"server.pem\"; key = "
	    "\"server.key\"; }; } );\n", port));
	conn = held(d, port, &handler);
	ck_assert_msg((relay = child_of(conn, true, IT_WAIT)) > 0, "no relay");
	ck_assert_int_eq(kill(d->pid, SIGUSR2), 0);
	ck_assert_msg(tu_wait_log(d, "upgraded in place", IT_WAIT * 2), "%s",
	    it_tail(d->log));
	kill(handler, SIGTERM);
	ck_assert(it_pid_gone(relay, IT_WAIT));
	ck_assert_msg(it_wait_reaped(d, "t", conn, IT_WAIT) != NULL, "%s",
	    it_tail(d->log));
	for (int i = 0; i < 2; i++) {
		pid_t c = held(d, port, &handlers[i]);
		ck_assert_msg((relays[i] = child_of(c, true, IT_WAIT)) > 0, "no relay");
		ids[i] = strtoul(tu_proc_status(relays[i], "Uid"), NULL, 10);
		ck_assert_msg(ids[i] == 3000000000ul || ids[i] == 3000000001ul,
		    "relay %d runs as %lu", i, ids[i]);
	}
	ck_assert_uint_ne(ids[0], ids[1]);
	for (int i = 0; i < 2; i++)
		kill(handlers[i], SIGTERM);
	it_stop(d);
}
END_TEST

/* openssl s_client on port, run beside the test, on one end of a socket
 * pair, the other in *fd; it ends once its input does (-no_ign_eof). */
static pid_t
s_client_beside(uint16_t port, int *fd)
{
	char target[32];
	int sv[2];
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	snprintf(target, sizeof(target), "127.0.0.1:%u", port);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (dup2(sv[1], 0) == -1 || dup2(sv[1], 1) == -1 ||
		    dup2(null, 2) == -1)
			_exit(127);
		execlp("openssl", "openssl", "s_client", "-connect", target,
		    "-quiet", "-no_ign_eof", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

/*
 * The relay of a service naming no user runs as an id no handler shares,
 * so a handler of another service running as nobody, the user the relay
 * once took, can neither kill it nor trace it, and the connection goes on.
 */
START_TEST(other_handlers_cannot_touch_the_relay)
{
	uint16_t port = tu_free_port(), ap = tu_free_port();
	char got[256];
	struct daemon *d;
	int co_fd, fd;
	pid_t co, conn, relay;
	long pids[8];

	it_selfsigned("server", "localhost", 30);
	d = it_start(tu_write("sockd.conf", "services = (\n"
	    "{ name = \"t\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " server = \"/bin/cat\"; tls = { certificate = \"server.pem\"; key = "
	    "\"server.key\"; }; },\n"
	    "{ name = \"a\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " server = \"%s\"; args = [\"probe\", \"attack\"]; user = \"nobody\"; } );\n",
	    port, ap, it_probe()));
	co = s_client_beside(port, &co_fd);
	it_send(co_fd, "one\n");
	tu_read_until(co_fd, got, sizeof(got), "one\n", IT_WAIT);
	ck_assert_str_eq(got, "one\n");
	ck_assert_int_eq(it_log_pids(d, IT_LOG_CONN, pids, 8), 1);
	conn = (pid_t)pids[0];
	ck_assert_msg((relay = child_of(conn, true, IT_WAIT)) > 0, "no relay");
	ck_assert_int_ge(fd = tu_connect(ap), 0);
	snprintf(got, sizeof(got), "%ld\n", (long)relay);
	it_send(fd, got);
	tu_read_until(fd, got, sizeof(got), "end\n", IT_WAIT);
	close(fd);
	ck_assert_msg(it_has_line(got, "uid=65534"), "%s", got);
	ck_assert_msg(it_has_line(got, "kill=EPERM"), "%s", got);
	ck_assert_msg(it_has_line(got, "ptrace=EPERM"), "%s", got);
	ck_assert(it_alive(relay, NULL));
	it_send(co_fd, "two\n");
	tu_read_until(co_fd, got, sizeof(got), "two\n", IT_WAIT);
	ck_assert_str_eq(got, "two\n");
	ck_assert_int_eq(shutdown(co_fd, SHUT_WR), 0);
	ck_assert(it_wait_eof(co_fd, IT_WAIT));
	close(co_fd);
	ck_assert_int_eq(it_wait_child(co, IT_WAIT), 0);
	ck_assert(it_pid_gone(relay, IT_WAIT));
	it_stop(d);
}
END_TEST

/* max_lifetime ends the relay's group: the relay and the handler. */
START_TEST(max_lifetime_ends_relay_and_handler)
{
	uint16_t port = tu_free_port();
	struct daemon *d;
	pid_t relay, handler;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf(port, it_probe(), "\"probe\", \"hold\"", "",
	    "max_lifetime = 1;"));
	relay = held(d, port, &handler);
	ck_assert(tu_wait_log(d, "outlived max_lifetime", 3000));
	ck_assert(it_pid_gone(handler, IT_WAIT));
	ck_assert(it_pid_gone(relay, IT_WAIT));
	it_stop(d);
}
END_TEST

/*
 * 256 MiB each way (issue 24), arriving whole on both sides, then a
 * half-close: the handler echoes what it reads and hashes it on the way
 * (its stderr, the log), the client hashes what it sent and what came
 * back (tests/tls_client.py holds no more than a MiB of it at once). Its
 * time, here and under SANITIZE=1: the commit that made it 256 MiB.
 */
START_TEST(two_hundred_fifty_six_mib_each_way)
{
	uint16_t port = tu_free_port();
	struct daemon *d;
	char sent[128], got[160], *nl;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf(port, "/bin/sh", "\"sh\", \"-c\", \"exec 3>&1; tee "
	    "/dev/fd/4 4>&1 >&3 | { sha256sum | sed 's/^/handler-got=/' >&2; }\"",
	    "", ""));
	client(port, "--random 268435456");
	ck_assert_msg(strncmp(buf, "sent=", 5) == 0 && (nl = strchr(buf, '\n')),
	    "%s", buf);
	snprintf(sent, sizeof(sent), "recv=%.*s", (int)(nl - buf - 5), buf + 5);
	ck_assert_msg(strstr(buf, sent) && strstr(sent, " 268435456"), "%s", buf);
	snprintf(got, sizeof(got), "handler-got=%.64s  -", buf + 5);
	ck_assert_msg(tu_wait_log(d, got, IT_WAIT), "%s not in %s", got,
	    it_tail(d->log));
	ck_assert(tu_wait_log(d, IT_LOG_EXIT "0", IT_WAIT));
	it_stop(d);
}
END_TEST

/* sockd -t on a configuration with tls keys; its output in buf. */
static const char *
check(const char *tls)
{
	const char *c = tu_write("check.conf", "services = ( { name = \"t\"; "
	    "protocol = \"tcp\"; port = 1;\n  server = \"/bin/cat\";\n"
	    "  tls = {\n    certificate = \"server.pem\";\n    key = "
	    "\"server.key\";\n    %s\n  };\n} );\n", tls);

	tu_run(buf, sizeof(buf), "-t", "-f", c, NULL);
	return buf;
}

/*
 * Root in a user namespace that maps no id of jail_ids (unshare -r maps
 * root alone): -t says at the tls group that no relay could run, where
 * every connection would fail; outside it, the same file is fine.
 */
START_TEST(check_wants_the_relay_ids_mapped)
{
	const char *c;

	it_selfsigned("server", "localhost", 30);
	c = check("");
	ck_assert_msg(strstr(c, "OK"), "%s", c);
	it_sh(buf, sizeof(buf), "unshare -U -r %s -t -f %s 2>&1",
	    tu_path("src/sockd"), it_tmp("check.conf"));
	ck_assert_msg(strstr(buf, ":3: service \"t\": tls: the relay runs as an "
	    "id of jail_ids (2113929216-2113994751), which this user namespace "
	    "does not map (/proc/self/uid_map)"), "%s", buf);
}
END_TEST

/* Whether unshare(1) can make a user namespace here; NULL: it can. */
static const char *
userns_skip(void)
{
	return system("unshare -U -r true >/dev/null 2>&1") == 0 ? NULL :
	    "unshare -U -r cannot make a user namespace here";
}

START_TEST(check_reads_the_files)
{
	char out[4096], want[512];

	it_selfsigned("server", "localhost", 30);
	it_selfsigned("other", "other", 30);
	ck_assert_msg(strstr(check(""), "OK"), "%s", buf);
	ck_assert(!strstr(buf, "warning"));
	/* Line 5 is the key, line 4 the certificate, line 6 the extra key. */
	ck_assert_int_eq(it_sh(out, sizeof(out), "cp %s %s", it_tmp("other.key"),
	    it_tmp("server.key")), 0);
	snprintf(want, sizeof(want), "%s:5: service \"t\": tls: key \"%s\" does "
	    "not match certificate", it_tmp("check.conf"), it_tmp("server.key"));
	ck_assert_msg(strstr(check(""), want), "%s", buf);
	it_selfsigned("server", "localhost", 3);
	chmod(it_tmp("server.key"), 0640);
	check("");
	snprintf(want, sizeof(want), "%s:4: warning: service \"t\": tls: "
	    "certificate \"%s\" expires within 14 days", it_tmp("check.conf"),
	    it_tmp("server.pem"));
	ck_assert_msg(strstr(buf, want) && strstr(buf, "OK"), "%s", buf);
	ck_assert_msg(strstr(buf, ":5: warning: service \"t\": tls: key") &&
	    strstr(buf, "readable by others than its owner (mode 640)"), "%s", buf);
	ck_assert_msg(strstr(check("ciphers = \"NO-SUCH-CIPHER\";"), ":6: "
	    "service \"t\": tls: ciphers: "), "%s", buf);
	ck_assert_msg(strstr(check("min_protocol = \"TLSv1.1\";"), ":6: "
	    "service \"t\": tls: min_protocol \"TLSv1.1\": expected"), "%s", buf);
	ck_assert_msg(strstr(check("verify_client = \"require\";"), ":6: "
	    "service \"t\": tls: verify_client: set 'ca'"), "%s", buf);
	ck_assert_msg(strstr(check("sni = ( { name = \"a.example\";\n"
	    "certificate = \"server.pem\";\nkey = \"other.key\"; } );"),
	    ":8: service \"t\": tls: key \""), "%s", buf);
	ck_assert_msg(strstr(buf, "does not match certificate"), "%s", buf);
	ck_assert_msg(strstr(check("sni = ( { name = \"a b\"; certificate = "
	    "\"server.pem\"; key = \"server.key\"; } );"), ":6: service \"t\": "
	    "tls: sni: \"a b\" is not a host name"), "%s", buf);
	ck_assert_msg(strstr(check("tickets = true;"), ":6: service \"t\": tls: "
	    "unknown key 'tickets'"), "%s", buf);
	ck_assert_int_eq(it_sh(out, sizeof(out), "rm %s", it_tmp("server.key")), 0);
	ck_assert_msg(strstr(check(""), ":5: service \"t\": tls: key \""),
	    "%s", buf);
}
END_TEST

/*
 * An expired certificate, made with "openssl ca", which takes dates:
 * OpenSSL 3.0's req and x509 take no -days in the past.
 */
START_TEST(check_refuses_an_expired_certificate)
{
	char out[4096], want[512];

	tu_write("ca.cnf", "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\n"
	    "new_certs_dir = .\nserial = serial\ndefault_md = sha256\n"
	    "policy = p\n[p]\ncommonName = supplied\n");
	tu_write("index.txt", "%s", "");
	tu_write("serial", "01\n");
	ck_assert_msg(it_sh(out, sizeof(out), "cd %s && openssl req -new -newkey "
	    "rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=old && "
	    "openssl ca -batch -config ca.cnf -selfsign -keyfile server.key -in "
	    "server.csr -out server.pem -startdate 20200101000000Z -enddate "
	    "20200102000000Z", tu_tmpdir()) == 0, "openssl: %s", out);
	chmod(it_tmp("server.key"), 0600);
	snprintf(want, sizeof(want), "%s:4: service \"t\": tls: certificate "
	    "\"%s\" has expired", it_tmp("check.conf"), it_tmp("server.pem"));
	ck_assert_msg(strstr(check(""), want), "%s", buf);
	ck_assert(!strstr(buf, "OK"));
}
END_TEST

/*
 * The master's TLS zygotes (its children named sockd-tls): how many, up
 * to max pids in z.
 */
static int
zygotes(pid_t master, pid_t *z, int max)
{
	char path[64];
	long c;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)master,
	    (long)master);
	ck_assert_ptr_nonnull(f = fopen(path, "re"));
	while (fscanf(f, "%ld", &c) == 1)
		if (strcmp(tu_proc_status((pid_t)c, "Name"), "sockd-tls") == 0 &&
		    !it_pid_gone((pid_t)c, 0)) {
			if (n < max)
				z[n] = (pid_t)c;
			n++;
		}
	fclose(f);
	return n;
}

/* The master's one TLS zygote. */
static pid_t
zygote(pid_t master)
{
	pid_t z = 0;

	ck_assert_int_eq(zygotes(master, &z, 1), 1);
	return z;
}

/* Times pid has slept of its own accord: once per connection a zygote
 * is woken for. */
static long
sleeps(pid_t pid)
{
	return atol(tu_proc_status(pid, "voluntary_ctxt_switches"));
}

/* The SHA-256 of the server's certificate as the client saw it, and of
 * the file cert's, into the two buffers. */
static void
served(uint16_t port, const char *cert, char seen[65], char file[65])
{
	char out[256];

	it_sh(out, sizeof(out), "openssl x509 -in %s -outform DER | sha256sum",
	    it_tmp(cert));
	snprintf(file, 65, "%.64s", out);
	client(port, "--peer");
	ck_assert_msg(strncmp(buf, "peer=", 5) == 0, "%s", buf);
	snprintf(seen, 65, "%.64s", buf + 5);
}

START_TEST(renewed_certificate_after_sighup)
{
	uint16_t port = tu_free_port();
	char out[4096], seen[65], file[65], first[65];
	struct daemon *d;
	pid_t z;

	it_selfsigned("server", "first", 30);
	d = it_start(conf(port, it_probe(), "\"probe\", \"env\"", "", ""));
	served(port, "server.pem", seen, first);
	ck_assert_str_eq(seen, first);
	it_selfsigned("renewed", "second", 30);
	ck_assert_int_eq(it_sh(out, sizeof(out), "cd %s && mv renewed.pem server.pem "
	    "&& mv renewed.key server.key", tu_tmpdir()), 0);
	/* The files are read when the service starts and at each reload. */
	served(port, "server.pem", seen, file);
	ck_assert_str_eq(seen, first);
	ck_assert_str_ne(file, first);
	z = zygote(d->pid);
	kill(d->pid, SIGHUP);
	ck_assert(tu_wait_log(d, "reloaded", IT_WAIT));
	/* The zygote held the old contexts: replaced. */
	ck_assert(it_pid_gone(z, IT_WAIT));
	served(port, "server.pem", seen, file);
	ck_assert_str_eq(seen, file);
	ck_assert_int_ne(zygote(d->pid), z);
	it_stop(d);
}
END_TEST

/* Two TLS services on port and other, /bin/cat each. */
static struct daemon *
two_cats(uint16_t port, uint16_t other)
{
	const char *tls = "tls = { certificate = \"server.pem\"; key = "
	    "\"server.key\"; };";

	it_selfsigned("server", "localhost", 30);
	return it_start(tu_write("sockd.conf", "services = (\n"
	    "{ name = \"t\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " server = \"/bin/cat\"; %s },\n"
	    "{ name = \"u\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " server = \"/bin/cat\"; %s } );\n", port, tls, other, tls));
}

static void
cat_served(uint16_t port)
{
	ck_assert_str_eq(client(port, "--send 'bob\\n'"), "bob\n");
}

/*
 * A TLS service's first connection makes its zygote, which forks every
 * connection's child after: the same process, woken once per connection,
 * while the child is the master's.
 */
START_TEST(zygote_forks_the_connections)
{
	uint16_t port = tu_free_port(), other = tu_free_port();
	struct daemon *d = two_cats(port, other);
	pid_t z, conn, handler;
	long slept;

	ck_assert_int_eq(zygotes(d->pid, &z, 1), 0);
	cat_served(port);
	z = zygote(d->pid);
	slept = sleeps(z);
	cat_served(port);
	cat_served(port);
	conn = held(d, port, &handler);
	ck_assert_int_eq(atol(tu_proc_status(conn, "PPid")), d->pid);
	ck_assert_int_eq(zygote(d->pid), z);
	ck_assert_msg(sleeps(z) >= slept + 3, "the zygote slept %ld times for "
	    "3 connections", sleeps(z) - slept);
	kill(handler, SIGTERM);
	ck_assert(it_pid_gone(conn, IT_WAIT));
	it_stop(d);
	ck_assert(it_pid_gone(z, IT_WAIT));
}
END_TEST

/* Each TLS service has its own zygote, which holds 0-2 and its socket to
 * the master: no listener, no control socket. Only root may list the
 * descriptors of a process that is not dumpable. */
START_TEST(zygote_holds_its_socket_alone)
{
	uint16_t port = tu_free_port(), other = tu_free_port();
	struct daemon *d = two_cats(port, other);
	pid_t zz[2];

	cat_served(port);
	cat_served(other);
	ck_assert_int_eq(zygotes(d->pid, zz, 2), 2);
	ck_assert_int_eq(tu_count_fds(zz[0]), 4);
	ck_assert_int_eq(tu_count_fds(zz[1]), 4);
	it_stop(d);
	ck_assert(it_pid_gone(zz[0], IT_WAIT));
	ck_assert(it_pid_gone(zz[1], IT_WAIT));
}
END_TEST

/* A zygote killed: the next connection is served all the same (the
 * master forks its child), the one after by a new zygote. */
START_TEST(zygote_killed_loses_no_connection)
{
	uint16_t port = tu_free_port(), other = tu_free_port();
	struct daemon *d = two_cats(port, other);
	pid_t z;

	cat_served(port);
	z = zygote(d->pid);
	ck_assert_int_eq(kill(z, SIGKILL), 0);
	ck_assert(it_pid_gone(z, IT_WAIT));
	cat_served(port);
	ck_assert(tu_wait_log(d, "its TLS zygote", IT_WAIT));
	cat_served(port);
	ck_assert_int_ne(zygote(d->pid), z);
	it_stop(d);
}
END_TEST

/* /metrics from port pm into buf. */
static const char *
scrape(uint16_t pm)
{
	int fd;

	ck_assert_int_ge(fd = tu_connect(pm), 0);
	it_send(fd, "GET /metrics HTTP/1.1\r\nHost: sockd\r\n\r\n");
	tu_read_until(fd, buf, sizeof(buf), "sockd_start_time_seconds ", IT_WAIT);
	close(fd);
	return buf;
}

/* Whether /metrics on pm has line within ms, scraped every 10 ms. */
static bool
metric_becomes(uint16_t pm, const char *line, int ms)
{
	char want[256];
	long t0 = tu_now_ms();

	snprintf(want, sizeof(want), "\n%s\n", line);
	while (strstr(scrape(pm), want) == NULL) {
		if (tu_now_ms() - t0 >= ms)
			return false;
		usleep(10000);
	}
	return true;
}

/* The value of a line of /metrics starting with name (labels included). */
static long
metric(uint16_t pm, const char *name)
{
	char want[256];
	const char *at;

	snprintf(want, sizeof(want), "\n%s ", name);
	ck_assert_msg((at = strstr(scrape(pm), want)) != NULL, "no %s in\n%s",
	    name, buf);
	return atol(at + strlen(want));
}

/* A TLS service t on port running /bin/cat with more keys, a plain one p
 * on plain, and the metrics on pm. */
static struct daemon *
tls_plain_metrics(uint16_t port, uint16_t plain, uint16_t pm, const char *more)
{
	it_selfsigned("server", "localhost", 30);
	return it_start(tu_write("sockd.conf", "services = (\n"
	    "{ name = \"t\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " server = \"/bin/cat\"; tls = { certificate = \"server.pem\"; key = "
	    "\"server.key\"; handshake_timeout = 60; }; %s },\n"
	    "{ name = \"p\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " server = \"/bin/cat\"; },\n"
	    "{ name = \"m\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " builtin = \"metrics\"; } );\n", port, more, plain, pm));
}

/*
 * A zygote that does not answer (stopped, here): the master does not wait
 * for it. While the connection is handed over and unanswered (counted as
 * a child), a plain service answers; after 5 s the zygote is ended, the
 * master forks the connection's child itself (the zygote's socket ended
 * with the request unanswered) and the next connection makes a new
 * zygote.
 */
START_TEST(zygote_stuck_is_replaced)
{
	uint16_t port = tu_free_port(), plain = tu_free_port(),
	    pm = tu_free_port();
	struct daemon *d = tls_plain_metrics(port, plain, pm, "");
	char line[16];
	pid_t z, bg;
	int fd, st;

	cat_served(port);
	z = zygote(d->pid);
	ck_assert(metric_becomes(pm, "sockd_children 0", IT_WAIT));
	ck_assert_int_eq(kill(z, SIGSTOP), 0);
	if ((bg = fork()) == 0)
		_exit(strcmp(client(port, "--send 'bob\\n'"), "bob\n") != 0);
	ck_assert_int_gt(bg, 0);
	/* Handed over, unanswered: held as a child. */
	ck_assert(metric_becomes(pm, "sockd_children 1", IT_WAIT));
	ck_assert_int_ge(fd = tu_connect(plain), 0);
	it_send(fd, "plain\n");
	ck_assert_int_eq(it_read_n(fd, line, 6, IT_WAIT), 6);
	ck_assert(memcmp(line, "plain\n", 6) == 0);
	close(fd);
	tu_drain_log(d);
	ck_assert_msg(strstr(d->log, "did not answer") == NULL, "the plain "
	    "service answered only after the zygote's deadline:\n%s",
	    it_tail(d->log));
	ck_assert(tu_wait_log(d, "did not answer", 2 * IT_WAIT));
	ck_assert(it_pid_gone(z, IT_WAIT));
	ck_assert_int_eq(st = it_wait_child(bg, IT_WAIT), 0);
	cat_served(port);
	ck_assert_int_ne(zygote(d->pid), z);
	it_stop(d);
}
END_TEST

/* Connects from 127.0.0.(2 + i % NSRC) to port. */
enum { NSRC = 20 };
static int
connect_from(int i, uint16_t port)
{
	char src[32];
	int fd;

	snprintf(src, sizeof(src), "127.0.0.%d", 2 + i % NSRC);
	ck_assert_int_ge(fd = tu_connect_from(src, "127.0.0.1", port), 0);
	return fd;
}

/*
 * Children that end at once, many in a row (clients, three from each of
 * twenty addresses, that connect and go: the handshake ends at its first
 * read), some reaped before their pid comes from the zygote: each is
 * counted once, and what it held (its slots, its client's per_source
 * count) is given back once: after them each address has three
 * connections served and its fourth refused.
 */
START_TEST(zygote_children_ending_at_once)
{
	uint16_t port = tu_free_port(), plain = tu_free_port(),
	    pm = tu_free_port();
	struct daemon *d = tls_plain_metrics(port, plain, pm, "per_source = 3;");
	enum { N = 3 * NSRC };
	const char *per_source =
	    "sockd_refused_total{service=\"t\",reason=\"per_source\"}";
	char line[64];
	int fds[N + NSRC];

	cat_served(port);
	ck_assert(metric_becomes(pm, "sockd_children 0", IT_WAIT));
	for (int i = 0; i < N; i++) {
		fds[i] = connect_from(i, port);
		shutdown(fds[i], SHUT_WR);
	}
	for (int i = 0; i < N; i++) {
		ck_assert(it_wait_eof(fds[i], IT_WAIT));
		close(fds[i]);
	}
	ck_assert(metric_becomes(pm, "sockd_children 0", IT_WAIT));
	ck_assert_int_eq(metric(pm, "sockd_handlers{service=\"t\"}"), 0);
	ck_assert_int_eq(metric(pm, per_source), 0);
	ck_assert_int_eq(metric(pm,
	    "sockd_refused_total{service=\"t\",reason=\"tls_handshake\"}"), N);
	/* Three held from each address (their handshakes wait), then a
	 * fourth from each: refused, each of them. */
	for (int i = 0; i < N; i++)
		fds[i] = connect_from(i, port);
	snprintf(line, sizeof(line), "sockd_children %d", N);
	ck_assert(metric_becomes(pm, line, IT_WAIT));
	for (int i = N; i < N + NSRC; i++)
		fds[i] = connect_from(i, port);
	for (int i = N; i < N + NSRC; i++) {
		ck_assert(it_wait_eof(fds[i], IT_WAIT));
		close(fds[i]);
	}
	snprintf(line, sizeof(line), "%s %d", per_source, NSRC);
	ck_assert(metric_becomes(pm, line, IT_WAIT));
	for (int i = 0; i < N; i++)
		close(fds[i]);
	ck_assert(metric_becomes(pm, "sockd_children 0", IT_WAIT));
	it_stop(d);
}
END_TEST

/* The zygote holds the keys: a handler of sockd's user cannot read its
 * memory (its /proc entries are root's). As root, every entry is. */
START_TEST(zygote_is_not_dumpable)
{
	uint16_t port = tu_free_port(), other = tu_free_port();
	struct daemon *d = two_cats(port, other);
	struct stat st;
	char path[64];

	cat_served(port);
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)zygote(d->pid));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg(st.st_uid == 0, "the zygote is dumpable: owner %ld",
	    (long)st.st_uid);
	it_stop(d);
}
END_TEST

/* An upgrade in place: the old image's zygote ends with it, the new
 * image makes its own. */
START_TEST(zygote_after_upgrade)
{
	uint16_t port = tu_free_port(), other = tu_free_port();
	struct daemon *d = two_cats(port, other);
	pid_t z;

	cat_served(port);
	z = zygote(d->pid);
	ck_assert_int_eq(kill(d->pid, SIGUSR2), 0);
	ck_assert(tu_wait_log(d, "SIGUSR2: upgraded in place", IT_WAIT));
	ck_assert(it_pid_gone(z, IT_WAIT));
	cat_served(port);
	ck_assert_int_ne(zygote(d->pid), z);
	it_stop(d);
}
END_TEST

/* The SHA-256 of the certificate the client saw when it asked for sni. */
static const char *
seen_for(uint16_t port, const char *sni)
{
	static char seen[65];
	char args[300];

	snprintf(args, sizeof(args), "--peer --sni %s", sni);
	client(port, args);
	ck_assert_msg(strncmp(buf, "peer=", 5) == 0, "%s", buf);
	snprintf(seen, sizeof(seen), "%.64s", buf + 5);
	return seen;
}

/* Each sni entry's certificate for the names it matches; the default's
 * for the others, and one label below a wildcard only. */
START_TEST(sni_picks_the_certificate)
{
	uint16_t port = tu_free_port();
	char out[256], dflt[65], b[65], w[65];
	struct daemon *d;

	it_selfsigned("server", "default", 30);
	it_selfsigned("b", "b.example", 30);
	it_selfsigned("w", "w.example", 30);
	it_sh(out, sizeof(out), "openssl x509 -in %s -outform DER | sha256sum",
	    it_tmp("server.pem"));
	snprintf(dflt, sizeof(dflt), "%.64s", out);
	it_sh(out, sizeof(out), "openssl x509 -in %s -outform DER | sha256sum",
	    it_tmp("b.pem"));
	snprintf(b, sizeof(b), "%.64s", out);
	it_sh(out, sizeof(out), "openssl x509 -in %s -outform DER | sha256sum",
	    it_tmp("w.pem"));
	snprintf(w, sizeof(w), "%.64s", out);
	d = it_start(conf(port, it_probe(), "\"probe\", \"env\"", "sni = (\n"
	    "{ name = \"b.example\"; certificate = \"b.pem\"; key = \"b.key\"; },\n"
	    "{ name = \"*.w.example\"; certificate = \"w.pem\"; key = \"w.key\"; });",
	    ""));
	ck_assert_str_eq(seen_for(port, "b.example"), b);
	ck_assert_str_eq(seen_for(port, "B.Example"), b);
	ck_assert_str_eq(seen_for(port, "x.w.example"), w);
	ck_assert_str_eq(seen_for(port, "w.example"), dflt);
	ck_assert_str_eq(seen_for(port, "y.x.w.example"), dflt);
	ck_assert_str_eq(seen_for(port, "other.example"), dflt);
	client(port, "--sni x.w.example");
	ck_assert(it_has_line(buf, "env:SSL_TLS_SNI_SERVERNAME=x.w.example"));
	it_stop(d);
}
END_TEST

/* A second connection resumes the first's session by its ticket, though
 * each is a process of its own; not with session_tickets = false. */
START_TEST(session_tickets_resume)
{
	uint16_t port = tu_free_port(), off = tu_free_port();
	struct daemon *d;

	it_selfsigned("server", "localhost", 30);
	d = it_start(tu_write("sockd.conf", "services = (\n"
	    "{ name = \"t\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " server = \"/bin/cat\"; tls = { certificate = \"server.pem\"; key = "
	    "\"server.key\"; }; },\n"
	    "{ name = \"off\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " server = \"/bin/cat\"; tls = { certificate = \"server.pem\"; key = "
	    "\"server.key\"; session_tickets = false; }; } );\n", port, off));
	ck_assert_str_eq(client(port, "--resume --send 'x\\n'"),
	    "resumed=True\nx\n");
	ck_assert_str_eq(client(off, "--resume --send 'x\\n'"),
	    "resumed=False\nx\n");
	it_stop(d);
}
END_TEST

/* A jailed handler through the same spawn path: its jail, its SSL_*. */
START_TEST(jailed_handler)
{
	uint16_t port = tu_free_port();
	struct daemon *d;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf(port, "/usr/bin/env", "\"env\"", "", "jail = { };"));
	client(port, "");
	ck_assert_msg(it_has_line(buf, "SSL_PROTOCOL=TLSv1.3"), "%s", buf);
	ck_assert(it_has_line(buf, "TCPREMOTEIP=127.0.0.1"));
	ck_assert(tu_wait_log(d, IT_LOG_EXIT "0", IT_WAIT));
	it_stop(d);
}
END_TEST

/* A certificate's notAfter in seconds since the epoch, as text. */
static const char *
expiry_of(const char *cert)
{
	static char out[64];

	it_sh(out, sizeof(out), "date -d \"$(openssl x509 -enddate -noout -in %s | "
	    "cut -d= -f2)\" +%%s | tr -d '\\n'", it_tmp(cert));
	return out;
}

/* The metrics give each certificate's expiry, by the name it serves. */
START_TEST(metrics_give_the_expiry)
{
	uint16_t port = tu_free_port(), pm = tu_free_port();
	char want[256];
	struct daemon *d;
	int fd;

	it_selfsigned("server", "localhost", 30);
	it_selfsigned("b", "b.example", 3);
	d = it_start(tu_write("sockd.conf", "services = (\n"
	    "{ name = \"t\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " server = \"/bin/cat\"; tls = { certificate = \"server.pem\"; key = "
	    "\"server.key\"; sni = ( { name = \"b.example\"; certificate = "
	    "\"b.pem\"; key = \"b.key\"; } ); }; },\n"
	    "{ name = \"m\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " builtin = \"metrics\"; } );\n", port, pm));
	ck_assert_int_ge(fd = tu_connect(pm), 0);
	it_send(fd, "GET /metrics HTTP/1.1\r\nHost: sockd\r\n\r\n");
	tu_read_until(fd, buf, sizeof(buf), "sockd_start_time_seconds ", IT_WAIT);
	close(fd);
	snprintf(want, sizeof(want), "\nsockd_tls_certificate_expiry_timestamp_"
	    "seconds{service=\"t\",server_name=\"\"} %s\n", expiry_of("server.pem"));
	ck_assert_msg(strstr(buf, want), "%s\nnot in\n%s", want, buf);
	snprintf(want, sizeof(want), "\nsockd_tls_certificate_expiry_timestamp_"
	    "seconds{service=\"t\",server_name=\"b.example\"} %s\n",
	    expiry_of("b.pem"));
	ck_assert_msg(strstr(buf, want), "%s\nnot in\n%s", want, buf);
	ck_assert_int_eq(it_count(buf, "server_name="), 2);
	it_stop(d);
}
END_TEST

Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tu_tcase(s, "tls", it_setup, it_teardown, IT_TIMEOUT,
	    hello_through_tls, handler_environment, proxy_header_then_tls,
	    client_certificate_required,
	    bad_clients_cost_their_own_child, max_lifetime_ends_relay_and_handler,
	    two_hundred_fifty_six_mib_each_way, check_reads_the_files,
	    check_refuses_an_expired_certificate, renewed_certificate_after_sighup,
	    sni_picks_the_certificate, session_tickets_resume,
	    metrics_give_the_expiry, NULL);
	TCase *zc = tu_tcase(s, "zygote", it_setup, it_teardown, IT_TIMEOUT,
	    zygote_forks_the_connections, zygote_killed_loses_no_connection,
	    zygote_stuck_is_replaced, zygote_children_ending_at_once,
	    zygote_after_upgrade, NULL);

	tu_add_test(tc, root_key_nobody_handler, tu_root_skip());
	tu_add_test(tc, other_handlers_cannot_touch_the_relay, tu_root_skip());
	tu_add_test(tc, relay_id_survives_upgrade, tu_root_skip());
	tu_add_test(tc, check_wants_the_relay_ids_mapped, userns_skip());
	tu_add_test(tc, jailed_handler, it_jail_skip());
	tu_add_test(zc, zygote_holds_its_socket_alone, tu_root_skip());
	tu_add_test(zc, zygote_is_not_dumpable, geteuid() == 0 ? "as root, every "
	    "/proc entry is root's: whether the zygote is dumpable cannot be seen" :
	    NULL);
	return s;
}
