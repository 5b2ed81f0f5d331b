/*
 * Integration: what a handler or a client must not be able to do to the
 * daemon or hold it to. Handlers in their own process groups, and every process
 * group ended with its handler; no datagram loop through an exec'd UDP
 * service; no built-in child held by a client that never reads; handlers
 * left running by shutdown = "leave" keep a reader for their stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

/* An executable shell script under the temp dir; returns its path, in
 * a buffer of its own (tu_write() reuses one). */
static const char *
script(const char *name, const char *text)
{
	static char path[4][4200];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s", tu_write(name, "#!/bin/sh\n%s", text));
	ck_assert_int_eq(chmod(p, 0755), 0);
	return p;
}

/* One TCP service on 127.0.0.1:port running server; extra adds keys. */
static const char *
server_conf(const char *global, const char *name, uint16_t port,
    const char *server, const char *extra)
{
	return tu_write("sockd.conf", "sockd = { %s };\n"
	    "services = (\n"
	    "  { name = \"%s\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; %s }\n"
	    ");\n", global, name, port, server, extra);
}

/* The value of "key=N" in the line the handler wrote first. */
static long
line_value(const char *buf, const char *key)
{
	char k[32];
	const char *p;

	snprintf(k, sizeof(k), "%s=", key);
	ck_assert_msg((p = strstr(buf, k)) != NULL, "no %s in \"%s\"", k, buf);
	return strtol(p + strlen(k), NULL, 10);
}

/*
 * Until they exec, handlers share the master's process group, so a
 * "kill 0" in one would signal the master too. The test blocks SIGTERM in
 * itself, which the old process group includes, and sees whether sockd
 * stays up and serves the next connection.
 */
START_TEST(handler_kill_group_spares_master)
{
	uint16_t port = tu_free_port();
	const char *srv = script("killer", "echo pid=$$\nkill -TERM 0\necho alive\n");
	struct daemon *d;
	sigset_t term;
	char buf[256];
	long pid;
	int fd;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &term, NULL), 0);
	d = it_start(server_conf("", "killer", port, srv, ""));
	for (int i = 0; i < 2; i++) {
		ck_assert_int_ge(fd = tu_connect(port), 0);
		tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
		pid = line_value(buf, "pid");
		const char *how = it_wait_reaped(d, "killer", pid, IT_WAIT);
		ck_assert_msg(how && strstr(how, "signal 15"),
		    "handler %ld: %s\n%s", pid, how ? how : "not reaped",
		    it_tail(d->log));
		close(fd);
		tu_drain_log(d);
		ck_assert_msg(strstr(d->log, "shutting down") == NULL,
		    "the handler's kill reached sockd:\n%s", it_tail(d->log));
	}
	it_stop(d);
}
END_TEST

/*
 * max_lifetime ends the handler's whole process group: a grandchild it
 * started in the background goes with it.
 */
START_TEST(max_lifetime_ends_group)
{
	uint16_t port = tu_free_port();
	const char *srv = script("parent",
	    "sleep 30 &\necho pid=$$ grandchild=$!\nexec sleep 30\n");
	struct daemon *d;
	char buf[256];
	long pid, gc;
	int fd, status;

	it_subreaper();		/* orphans come to us, and can be waited for */
	d = it_start(server_conf("", "parent", port, srv, "max_lifetime = 1;"));
	ck_assert_int_ge(fd = tu_connect(port), 0);
	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	pid = line_value(buf, "pid");
	gc = line_value(buf, "grandchild");
	ck_assert(tu_wait_log(d, "outlived max_lifetime", 3000));
	const char *how = it_wait_reaped(d, "parent", pid, IT_WAIT);
	ck_assert_msg(how && strstr(how, "signal 15"), "%s", how ? how : "?");
	status = it_wait_child(gc, IT_WAIT);
	if (status == -1)
		(void)kill(gc, SIGKILL);
	ck_assert_msg(status != -1, "grandchild %ld outlived its handler", gc);
	(void)waitpid(gc, NULL, WNOHANG);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
	    "grandchild: wait status %#x", status);
	close(fd);
	it_stop(d);
}
END_TEST

/* shutdown = "terminate" does the same for every handler's group. */
START_TEST(terminate_ends_group)
{
	uint16_t port = tu_free_port();
	const char *srv = script("parent",
	    "sleep 30 &\necho pid=$$ grandchild=$!\nexec sleep 30\n");
	struct daemon *d;
	char buf[256];
	long gc;
	int fd, status;

	it_subreaper();
	d = it_start(server_conf("shutdown = \"terminate\"; shutdown_grace = 2;",
	    "parent", port, srv, ""));
	ck_assert_int_ge(fd = tu_connect(port), 0);
	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	gc = line_value(buf, "grandchild");
	status = tu_stop(d, SIGTERM);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "sockd: %#x\n%s", status, it_tail(d->log));
	status = it_wait_child(gc, IT_WAIT);
	if (status == -1)
		(void)kill(gc, SIGKILL);
	ck_assert_msg(status != -1, "grandchild %ld outlived shutdown", gc);
	close(fd);
}
END_TEST

/*
 * A datagram from a port sockd holds can only be forged: a raw socket
 * sends it, and another counts the datagrams that pass on loopback.
 * Both need root (CAP_NET_RAW); the tests that use them are skipped
 * without.
 */

/* Sends msg from 127.0.0.1:sport to 127.0.0.1:dport. The kernel writes
 * the IP header; a UDP checksum of 0 means none, which IPv4 allows. */
static void
raw_send(uint16_t sport, uint16_t dport, const char *msg)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char pkt[256];
	struct udphdr uh = { .source = htons(sport), .dest = htons(dport) };
	size_t len = sizeof(uh) + strlen(msg);
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_le(len, sizeof(pkt));
	uh.len = htons(len);
	memcpy(pkt, &uh, sizeof(uh));
	memcpy(pkt + sizeof(uh), msg, strlen(msg));
	ck_assert_int_eq(sendto(fd, pkt, len, 0, (struct sockaddr *)&sin,
	    sizeof(sin)), (ssize_t)len);
	close(fd);
}

/* A raw socket that sees every UDP datagram arriving on this host. */
static int
raw_sniffer(void)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* Counts, for ms, the datagrams between ports a and b (either way; a == b
 * counts those from a port to itself). */
static int
count_between(int fd, uint16_t a, uint16_t b, int ms)
{
	long end = tu_now_ms() + ms;
	char pkt[70000];
	int n = 0;

	for (long left; (left = end - tu_now_ms()) > 0;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, left) != 1)
			break;
		ssize_t got = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
		if (got < (ssize_t)sizeof(struct iphdr))
			continue;
		struct iphdr ih;
		struct udphdr uh;
		memcpy(&ih, pkt, sizeof(ih));
		if (got < (ssize_t)(ih.ihl * 4 + sizeof(uh)))
			continue;
		memcpy(&uh, pkt + ih.ihl * 4, sizeof(uh));
		uint16_t s = ntohs(uh.source), d = ntohs(uh.dest);
		if ((s == a && d == b) || (s == b && d == a))
			n++;
	}
	return n;
}

/*
 * A UDP echo built-in and the exec'd echo-udp in one daemon: one datagram
 * forged from echo-udp's port to the built-in would bounce between them
 * for ever, unless the built-in's loop guard knows exec'd services' ports.
 */
START_TEST(udp_loop_through_exec_service)
{
	uint16_t pb = tu_free_port(), pe = tu_free_port();
	struct daemon *d;
	char got[128];
	int sniff, n;

	d = it_start(tu_write("sockd.conf", "services = (\n"
	    "  { name = \"echo\"; protocol = \"udp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    builtin = \"echo\"; },\n"
	    "  { name = \"echo-udp\"; protocol = \"udp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; wait = true; args = [ \"echo-udp\", \"1\" ]; }\n"
	    ");\n", pb, pe, it_path("services/echo-udp")));
	/* Both answer an ordinary client. */
	ck_assert_int_eq(tu_udp_ask(pb, 0, "hi", 2, got, sizeof(got), IT_WAIT), 2);
	ck_assert_int_eq(tu_udp_ask(pe, 0, "hi", 2, got, sizeof(got), IT_WAIT), 9);

	sniff = raw_sniffer();
	raw_send(pe, pb, "loop");
	n = count_between(sniff, pb, pe, 1000);
	close(sniff);
	ck_assert_msg(n <= 1, "%d datagrams between ports %u and %u after one "
	    "forged one:\n%s", n, pb, pe, it_tail(d->log));
	ck_assert_msg(tu_wait_log(d, "udp_loop_guard dropped a datagram", IT_WAIT),
	    "the guard's drop is not logged:\n%s", it_tail(d->log));
	it_stop(d);
}
END_TEST

/*
 * The shipped echo-udp is safe to copy: it does not answer a privileged
 * port, nor a datagram forged from its own address and port.
 */
START_TEST(echo_udp_drops_unsafe)
{
	uint16_t pe = tu_free_port();
	struct daemon *d;
	char got[128];
	int sniff, n;

	d = it_start(tu_write("sockd.conf", "services = (\n"
	    "  { name = \"echo-udp\"; protocol = \"udp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; wait = true; args = [ \"echo-udp\", \"1\" ]; }\n"
	    ");\n", pe, it_path("services/echo-udp")));
	ck_assert_int_eq(tu_udp_ask(pe, 0, "hi", 2, got, sizeof(got), IT_WAIT), 9);
	ck_assert_int_eq(tu_udp_ask(pe, 1023, "hi", 2, got, sizeof(got), 500), -1);

	sniff = raw_sniffer();
	raw_send(pe, pe, "self");
	n = count_between(sniff, pe, pe, 1000);
	close(sniff);
	ck_assert_msg(n <= 1, "%d datagrams from port %u to itself after one "
	    "forged one", n, pe);
	it_stop(d);
}
END_TEST

/*
 * A chargen client that never reads: the child fills the socket buffers
 * and would block in write() for good; it ends after idle_timeout instead.
 */
START_TEST(chargen_client_never_reads)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "services = (\n"
	    "  { name = \"chargen\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    builtin = \"chargen\"; idle_timeout = 1; }\n"
	    ");\n", port));
	int fd = tu_connect(port);
	long pid;

	ck_assert_int_ge(fd, 0);
	pid = it_conn_pid(d, "chargen", it_local_port(fd));
	/* The idle limit, the time to fill the buffers, and room to spare. */
	const char *how = it_wait_reaped(d, "chargen", pid, IT_WAIT);
	ck_assert_msg(how != NULL, "chargen child %ld still running with a client "
	    "that never reads:\n%s", pid, it_tail(d->log));
	close(fd);
	it_stop(d);
}
END_TEST

/* The same for echo: a client that sends but never reads the echo. */
START_TEST(echo_client_never_reads)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "services = (\n"
	    "  { name = \"echo\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    builtin = \"echo\"; idle_timeout = 1; }\n"
	    ");\n", port));
	int fd = tu_connect(port), rcv = 4096;
	static char junk[1 << 16];
	long pid;

	ck_assert_int_ge(fd, 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	pid = it_conn_pid(d, "echo", it_local_port(fd));
	/* Send until both directions are full: the child then blocks writing. */
	memset(junk, 'x', sizeof(junk));
	while (send(fd, junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		;
	const char *how = it_wait_reaped(d, "echo", pid, IT_WAIT);
	ck_assert_msg(how != NULL, "echo child %ld still running with a client "
	    "that never reads:\n%s", pid, it_tail(d->log));
	close(fd);
	it_stop(d);
}
END_TEST

/* One exec'd handler from services/ on 127.0.0.1:port, idle limit 1 s. */
static struct daemon *
start_handler(const char *name, uint16_t port)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "services/%s", name);
	return it_start(tu_write("sockd.conf", "services = (\n"
	    "  { name = \"%s\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; args = [ \"%s\", \"1\" ]; }\n"
	    ");\n", name, port, it_path(rel), name));
}

/* The shipped hello-tcp drops a client that never sends. */
START_TEST(hello_client_never_sends)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_handler("hello-tcp", port);
	int fd = tu_connect(port);
	char buf[64];
	long pid;

	ck_assert_int_ge(fd, 0);
	pid = it_conn_pid(d, "hello-tcp", it_local_port(fd));
	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	ck_assert_str_eq(buf, "Welcome!\n");
	ck_assert_msg(it_wait_eof(fd, IT_WAIT), "hello-tcp held a silent client");
	const char *how = it_wait_reaped(d, "hello-tcp", pid, IT_WAIT);
	ck_assert_msg(how && strncmp(how, IT_LOG_EXIT "0 ",
	    strlen(IT_LOG_EXIT "0 ")) == 0, "%s", how ? how : "not reaped");
	close(fd);
	it_stop(d);
}
END_TEST

/* The shipped timestamp drops a client that sends but never reads. */
START_TEST(timestamp_client_never_reads)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_handler("timestamp", port);
	int fd = tu_connect(port), rcv = 4096;
	static char lines[1 << 16];
	long pid;

	ck_assert_int_ge(fd, 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	pid = it_conn_pid(d, "timestamp", it_local_port(fd));
	for (size_t i = 0; i < sizeof(lines); i++)
		lines[i] = i % 64 == 63 ? '\n' : 'x';
	/* Until both directions are full and the handler blocks writing. */
	while (send(fd, lines, sizeof(lines), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		;
	const char *how = it_wait_reaped(d, "timestamp", pid, IT_WAIT);
	ck_assert_msg(how && strncmp(how, IT_LOG_EXIT "0 ",
	    strlen(IT_LOG_EXIT "0 ")) == 0,
	    "timestamp with a client that never reads: %s",
	    how ? how : "still running");
	close(fd);
	it_stop(d);
}
END_TEST

/*
 * shutdown = "leave": a handler left running writes to its stderr after
 * sockd has exited. It must not die of SIGPIPE, and its line still reaches
 * the log, written by the drain process sockd left behind, which exits
 * once the handler has gone.
 */
START_TEST(leave_keeps_stderr_reader)
{
	uint16_t port = tu_free_port();
	const char *srv = script("late",
	    "echo pid=$$\nread line\necho \"late: $line\" >&2\nexit 0\n");
	struct daemon *d;
	char buf[256];
	const char *p;
	long pid, drain = -1;
	int fd, status;

	it_subreaper();		/* the handler and the drain come to us */
	d = it_start(server_conf("", "late", port, srv, ""));
	ck_assert_int_ge(fd = tu_connect(port), 0);
	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	pid = line_value(buf, "pid");
	ck_assert(!d->exited);
	status = tu_kill_wait(d, SIGTERM, IT_WAIT);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "sockd: %#x\n%s", status, it_tail(d->log));
	if ((p = strstr(d->log, "children; pid ")) != NULL)
		drain = strtol(p + strlen("children; pid "), NULL, 10);

	it_send(fd, "go\n");
	status = it_wait_child(pid, IT_WAIT);
	if (status == -1)
		(void)kill(pid, SIGKILL);
	ck_assert_msg(status != -1, "handler %ld did not end", pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "handler left running: wait status %#x (SIGPIPE is %d)", status, SIGPIPE);
	ck_assert_msg(tu_wait_log(d, ": late: go\n", IT_WAIT),
	    "the handler's line is not logged:\n%s", it_tail(d->log));
	ck_assert_msg(drain > 0, "no drain process logged:\n%s", it_tail(d->log));
	status = it_wait_child(drain, IT_WAIT);
	if (status == -1)
		(void)kill(drain, SIGKILL);
	ck_assert_msg(status != -1, "drain %ld still running", drain);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
	close(d->errfd);
}
END_TEST

Suite *
reliability_suite(void)
{
	Suite *s = suite_create("reliability");
	TCase *tc;

	tu_tcase(s, "groups", it_setup, it_teardown, IT_TIMEOUT,
	    handler_kill_group_spares_master, max_lifetime_ends_group,
	    terminate_ends_group, leave_keeps_stderr_reader, NULL);
	tc = tu_tcase(s, "udp", it_setup, it_teardown, IT_TIMEOUT, NULL);
	tu_add_test(tc, udp_loop_through_exec_service, tu_root_skip());
	tu_add_test(tc, echo_udp_drops_unsafe, tu_root_skip());
	tu_tcase(s, "idle", it_setup, it_teardown, IT_TIMEOUT,
	    chargen_client_never_reads, echo_client_never_reads,
	    hello_client_never_sends, timestamp_client_never_reads, NULL);
	return s;
}
