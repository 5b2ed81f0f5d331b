/*
 * Integration: UDP services with a process per peer (protocol = "udp",
 * wait = false). Many peers at once each get their own handler and only
 * their own answers, every datagram answered once, including those that
 * came before the handler ran; the UCSPI environment; idle handlers end
 * and the next datagram starts a fresh one; instances, the access lists
 * and max_lifetime per peer; reloads; the master's descriptors and
 * children come back to where they were; the shipped echo-peer, with
 * short and long answers in order. Where a handler gets a UDP socket of
 * its own (udphand.h): it is connected to its peer, a burst sent before
 * it was is answered once and in order, another peer's flood during the
 * hand-over never reaches it, a handler that quits leaves the peer's next
 * datagram to a fresh one, and jailed services and reuseport keep the
 * relay.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

#define NPEERS 50
#define PER_PEER 3

static uint16_t port;

/* sockd with one per-peer service on 127.0.0.1:port running probe peer. */
static struct daemon *
start_peer_service(const char *extra)
{
	port = tu_free_port();
	return it_start(tu_write("sockd.conf",
	    "services = ( { name = \"peer\"; protocol = \"udp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; wait = false; server = \"%s\";\n"
	    "  args = [ \"probe\", \"peer\" ]; %s } );\n", port, it_probe(),
	    extra));
}

/* A UDP socket of a new peer on 127.0.0.1, connected to the service. */
static int
peer_socket(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sin.sin_port = htons(port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* One answer within ms into buf (NUL-terminated); its length, or -1. */
static ssize_t
answer(int fd, char *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) != 1 || (n = recv(fd, buf, len - 1, 0)) < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Sends s and returns the pid that answered "<pid> <n> s" as the n-th. */
static long
ask(int fd, const char *s, unsigned n)
{
	char buf[256], want[128];
	long pid;

	ck_assert_int_eq(send(fd, s, strlen(s), 0), (ssize_t)strlen(s));
	ck_assert_int_gt(answer(fd, buf, sizeof(buf), IT_WAIT), 0);
	pid = strtol(buf, NULL, 10);
	snprintf(want, sizeof(want), "%ld %u %s", pid, n, s);
	ck_assert_msg(pid > 0 && strcmp(buf, want) == 0, "answer \"%s\", want \"%s\"",
	    buf, want);
	return pid;
}

START_TEST(peers_each_get_their_own)
{
	struct daemon *d = start_peer_service("idle_timeout = 1; instances = 60;");
	int fds = tu_count_fds(d->pid), sock[NPEERS];
	long pid[NPEERS];
	char buf[256], want[64];

	/* All at once: most datagrams wait in the service's socket while the
	 * handlers of their peers are being started. */
	for (int i = 0; i < NPEERS; i++)
		sock[i] = peer_socket();
	for (int j = 1; j <= PER_PEER; j++)
		for (int i = 0; i < NPEERS; i++) {
			int n = snprintf(want, sizeof(want), "peer%d-%d", i, j);
			ck_assert_int_eq(send(sock[i], want, n, 0), n);
		}
	for (int i = 0; i < NPEERS; i++) {
		for (int j = 1; j <= PER_PEER; j++) {
			ck_assert_msg(answer(sock[i], buf, sizeof(buf), IT_WAIT) > 0,
			    "peer %d: no answer %d", i, j);
			long p = strtol(buf, NULL, 10);
			if (j == 1)
				pid[i] = p;
			snprintf(want, sizeof(want), "%ld %d peer%d-%d", pid[i], j, i, j);
			ck_assert_msg(strcmp(buf, want) == 0, "peer %d got \"%s\", want "
			    "\"%s\"", i, buf, want);
		}
		for (int k = 0; k < i; k++)
			ck_assert_int_ne(pid[k], pid[i]);
	}
	/* No datagram answered twice. */
	for (int i = 0; i < NPEERS; i++)
		ck_assert_msg(it_quiet(sock[i], i == 0 ? 300 : 0), "peer %d: more", i);
	for (int i = 0; i < NPEERS; i++)
		close(sock[i]);
	ck_assert_msg(it_wait_idle(d->pid, fds, IT_WAIT), "children or fds left");
	/* One handler per peer, and each ended at its idle time. */
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", NPEERS, IT_WAIT));
	ck_assert_int_eq(it_count(d->log, IT_LOG_CONN), NPEERS);
	it_stop(d);
}
END_TEST

START_TEST(handler_sees_its_peer)
{
	struct daemon *d = start_peer_service("idle_timeout = 1;");
	int fd = peer_socket();
	char buf[60000], line[64];

	ck_assert_int_eq(send(fd, "env", 3, 0), 3);
	ck_assert_int_gt(answer(fd, buf, sizeof(buf), IT_WAIT), 0);
	ck_assert_msg(it_has_line(buf, "env:PROTO=UDP"), "%s", buf);
	ck_assert(it_has_line(buf, "env:UDPREMOTEIP=127.0.0.1"));
	snprintf(line, sizeof(line), "env:UDPREMOTEPORT=%u", it_local_port(fd));
	ck_assert_msg(it_has_line(buf, line), "no %s in %s", line, buf);
	ck_assert(it_has_line(buf, "env:UDPLOCALIP=127.0.0.1"));
	snprintf(line, sizeof(line), "env:UDPLOCALPORT=%u", port);
	ck_assert(it_has_line(buf, line));
	/* Its datagrams on 0 and 1, its stderr on 2, and nothing else. */
	ck_assert_int_eq(it_count_prefix(buf, "fd:"), 3);
	long pid = it_line_num(buf, "pid");
	ck_assert_int_eq(ask(fd, "second", 2), pid);
	close(fd);
	it_stop(d);
}
END_TEST

START_TEST(idle_handler_ends_and_a_fresh_one_starts)
{
	struct daemon *d = start_peer_service("idle_timeout = 1;");
	int fds = tu_count_fds(d->pid), fd = peer_socket();
	long first = ask(fd, "a", 1);

	ck_assert_int_eq(ask(fd, "b", 2), first);
	ck_assert_ptr_nonnull(it_wait_reaped(d, "peer", first, IT_WAIT));
	ck_assert(it_wait_idle(d->pid, fds, IT_WAIT));
	long second = ask(fd, "c", 1);
	ck_assert_int_ne(second, first);
	close(fd);
	it_stop(d);
}
END_TEST

START_TEST(instances_count_peers)
{
	struct daemon *d = start_peer_service("idle_timeout = 1; instances = 2;");
	int a = peer_socket(), b = peer_socket(), c = peer_socket();
	char buf[256];

	ask(a, "a", 1);
	ask(b, "b", 1);
	/* At the cap a new peer's datagram is dropped; known peers go on. */
	ck_assert_int_eq(send(c, "c", 1, 0), 1);
	ck_assert_int_eq(answer(c, buf, sizeof(buf), 300), -1);
	ask(a, "a", 2);
	ck_assert(it_wait_idle(d->pid, -1, IT_WAIT));
	ask(c, "c", 1);
	close(a);
	close(b);
	close(c);
	it_stop(d);
}
END_TEST

START_TEST(access_lists_per_peer)
{
	struct daemon *d = start_peer_service("idle_timeout = 1; no_access = \"127.0.0.1\";");
	int fd = peer_socket();
	char buf[256];

	ck_assert_int_eq(send(fd, "x", 1, 0), 1);
	ck_assert_int_eq(answer(fd, buf, sizeof(buf), 300), -1);
	ck_assert(it_wait_log_count(d, "refused", 1, IT_WAIT));
	ck_assert_int_eq(it_count(d->log, IT_LOG_CONN), 0);
	close(fd);
	it_stop(d);
}
END_TEST

START_TEST(max_lifetime_per_peer)
{
	struct daemon *d = start_peer_service("idle_timeout = 2; max_lifetime = 1;");
	int fd = peer_socket();
	long first = ask(fd, "a", 1);

	const char *how = it_wait_reaped(d, "peer", first, IT_WAIT);
	ck_assert_ptr_nonnull(how);
	ck_assert_msg(strstr(how, "signal 15"), "%s", how);
	ck_assert_int_ne(ask(fd, "b", 1), first);
	close(fd);
	it_stop(d);
}
END_TEST

/* A handler that never reads: its peer's flood is dropped, and the
 * master goes on serving another service's peers. */
START_TEST(handler_that_never_reads)
{
	uint16_t stuck = tu_free_port();
	port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "services = (\n"
	    "  { name = \"stuck\"; protocol = \"udp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    wait = false; server = \"/bin/sleep\"; args = [ \"sleep\", \"60\" ];\n"
	    "    idle_timeout = 1; max_lifetime = 2; },\n"
	    "  { name = \"peer\"; protocol = \"udp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    wait = false; server = \"%s\"; args = [ \"probe\", \"peer\" ];\n"
	    "    idle_timeout = 1; } );\n", stuck, port, it_probe()));
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(stuck),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int flood = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), fd = peer_socket();
	char big[8192] = { 0 };

	ck_assert_int_ge(flood, 0);
	for (int i = 0; i < 2000; i++)
		(void)sendto(flood, big, sizeof(big), MSG_DONTWAIT,
		    (struct sockaddr *)&sin, sizeof(sin));
	for (unsigned i = 1; i <= 20; i++)
		ask(fd, "still here", i);
	ck_assert(it_wait_log_count(d, "outlived max_lifetime", 1, IT_WAIT));
	close(flood);
	close(fd);
	it_stop(d);
}
END_TEST

/* A reload keeps the peers of a kept service; one that drops the
 * service ends their handlers' stdin. */
START_TEST(reload_keeps_or_ends_peers)
{
	struct daemon *d = start_peer_service("idle_timeout = 30;");
	int fds = tu_count_fds(d->pid), fd = peer_socket();
	long pid = ask(fd, "a", 1);

	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert(tu_wait_log(d, "reloaded: 1 services", IT_WAIT));
	ck_assert_int_eq(ask(fd, "b", 2), pid);
	tu_write("sockd.conf", "services = ( { name = \"other\"; protocol = \"udp\";\n"
	    "  port = %u; address = \"127.0.0.1\"; builtin = \"echo\"; } );\n",
	    tu_free_port());
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	const char *how = it_wait_reaped(d, "peer", pid, IT_WAIT);
	ck_assert_ptr_nonnull(how);
	ck_assert_msg(strstr(how, "exited with status 0"), "%s", how);
	/* The service's socket and the peer's pair are gone; the new one is bound. */
	ck_assert(it_wait_idle(d->pid, fds, IT_WAIT));
	close(fd);
	it_stop(d);
}
END_TEST

/* What the handler of fd's peer has on its fd 0: "sock" asked as the n-th
 * datagram; the answer's " type=..." part into buf. Returns its pid. */
static long
sock_of(int fd, unsigned n, char *buf, size_t len)
{
	char got[256], head[64];
	long pid;
	int at = 0;

	ck_assert_int_eq(send(fd, "sock", 4, 0), 4);
	ck_assert_int_gt(answer(fd, got, sizeof(got), IT_WAIT), 0);
	pid = strtol(got, NULL, 10);
	snprintf(head, sizeof(head), "%ld %u sock%n", pid, n, &at);
	ck_assert_msg(pid > 0 && strncmp(got, head, (size_t)at) == 0, "%s", got);
	snprintf(buf, len, "%s", got + at);
	return pid;
}

/*
 * An attack on another peer: a handler connects its fd 0 to the address
 * of a peer that already has a handler, to read that peer's datagrams
 * and answer them itself. Through the relay's pair (the default) it
 * cannot: the victim's datagrams keep reaching the victim's handler
 * alone, numbered on, and no answer of the thief's reaches the victim.
 * (With peer_socket = true it can; sockd.conf(5) says so.)
 */
static void
thief_gets_nothing(const char *extra)
{
	struct daemon *d = start_peer_service(extra);
	int victim = peer_socket(), thief = peer_socket();
	char steal[32], buf[256], mine[64];
	long vpid, tpid;
	unsigned n = 1;

	vpid = ask(victim, "mine-1", 1);
	/* The thief's fd 0 as its own peer has it, not as it is while the
	 * master still feeds it (with peer_socket): a pair, or connected to
	 * the thief's client. */
	snprintf(mine, sizeof(mine), " type=%d peer=127.0.0.1:%u ", SOCK_DGRAM,
	    it_local_port(thief));
	tpid = sock_of(thief, n, buf, sizeof(buf));
	while (strncmp(buf, " type=5 ", 8) != 0 &&
	    strncmp(buf, mine, strlen(mine)) != 0 && n < 50)
		ck_assert_int_eq(sock_of(thief, ++n, buf, sizeof(buf)), tpid);
	ck_assert_int_ne(tpid, vpid);
	snprintf(steal, sizeof(steal), "steal %u", it_local_port(victim));
	ck_assert_int_eq(ask(thief, steal, ++n), tpid);
	for (unsigned i = 2; i <= 6; i++) {
		char s[16];
		snprintf(s, sizeof(s), "mine-%u", i);
		ck_assert_int_eq(ask(victim, s, i), vpid);
	}
	ck_assert(it_quiet(victim, 200));
	close(victim);
	close(thief);
	it_stop(d);
}

START_TEST(relay_keeps_peers_apart)
{
	thief_gets_nothing("idle_timeout = 5;");
}
END_TEST

START_TEST(handler_owns_a_connected_socket)
{
	struct daemon *d = start_peer_service("peer_socket = true; idle_timeout = 1;");
	int fds = tu_count_fds(d->pid), fd = peer_socket();
	char buf[256], want[128];
	long pid = sock_of(fd, 1, buf, sizeof(buf));
	unsigned n = 1;

	/* Until the master has connected it to the peer, the socket is
	 * connected to the master's feeding socket. */
	snprintf(want, sizeof(want), " type=%d peer=127.0.0.1:%u local=127.0.0.1:%u",
	    SOCK_DGRAM, it_local_port(fd), port);
	while (strcmp(buf, want) != 0 && n < 50) {
		ck_assert_msg(strncmp(buf, " type=2 peer=127.0.0.1:", 23) == 0, "%s", buf);
		ck_assert_int_eq(sock_of(fd, ++n, buf, sizeof(buf)), pid);
	}
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(ask(fd, "two", n + 1), pid);
	ck_assert(it_quiet(fd, 100));
	/* Idle: it ends, and the master holds nothing of it any more. */
	ck_assert_ptr_nonnull(it_wait_reaped(d, "peer", pid, IT_WAIT));
	ck_assert(it_wait_idle(d->pid, fds, IT_WAIT));
	close(fd);
	it_stop(d);
}
END_TEST

/* Sends "<tag>-1".."<tag>-n" at once on fd; checks that one handler
 * answers each once, in order. Returns its pid. */
static long
burst(int fd, const char *tag, int n)
{
	char buf[256], want[128];
	long pid = 0;

	for (int i = 1; i <= n; i++) {
		int len = snprintf(want, sizeof(want), "%s-%d", tag, i);
		ck_assert_int_eq(send(fd, want, (size_t)len, 0), len);
	}
	for (int i = 1; i <= n; i++) {
		ck_assert_msg(answer(fd, buf, sizeof(buf), IT_WAIT) > 0,
		    "%s: no answer %d", tag, i);
		if (i == 1)
			pid = strtol(buf, NULL, 10);
		snprintf(want, sizeof(want), "%ld %d %s-%d", pid, i, tag, i);
		ck_assert_msg(strcmp(buf, want) == 0, "got \"%s\", want \"%s\"",
		    buf, want);
	}
	return pid;
}

/* Sends "<tag>-1".."<tag>-n" at once on fd; checks that one handler
 * answers each exactly once, in any order (a switch of its socket under
 * another peer's flood may let one overtake another, as sockd.conf(5)
 * says): none lost, none twice. */
static void
burst_once_each(int fd, const char *tag, int n)
{
	char buf[256], want[128];
	bool seen[64] = { false };
	long pid = 0;

	ck_assert_int_le(n, 64);
	for (int i = 1; i <= n; i++) {
		int len = snprintf(want, sizeof(want), "%s-%d", tag, i);
		ck_assert_int_eq(send(fd, want, (size_t)len, 0), len);
	}
	for (int i = 1; i <= n; i++) {
		char *end;
		long p, k;
		ck_assert_msg(answer(fd, buf, sizeof(buf), IT_WAIT) > 0,
		    "%s: %d answers of %d", tag, i - 1, n);
		p = strtol(buf, &end, 10);
		(void)strtol(end, &end, 10);
		snprintf(want, sizeof(want), " %s-", tag);
		ck_assert_msg(strncmp(end, want, strlen(want)) == 0, "%s: got "
		    "\"%s\"", tag, buf);
		k = strtol(end + strlen(want), NULL, 10);
		ck_assert_msg(k >= 1 && k <= n && !seen[k - 1], "%s: got \"%s\" "
		    "(twice, or not sent)", tag, buf);
		seen[k - 1] = true;
		if (i == 1)
			pid = p;
		ck_assert_msg(p == pid, "%s: answered by %ld and %ld", tag, pid, p);
	}
}

/* A burst sent before the handler's socket is connected to its peer (the
 * master reads, feeds and connects meanwhile), and one after: each
 * datagram answered once, in order, by the one handler. */
START_TEST(burst_before_handoff_in_order)
{
	struct daemon *d = start_peer_service("peer_socket = true; idle_timeout = 5;");
	int fd = peer_socket();
	char buf[256];
	long pid = burst(fd, "early", 100);

	ck_assert(it_quiet(fd, 200));
	ck_assert_int_eq(sock_of(fd, 101, buf, sizeof(buf)), pid);
	ck_assert_msg(strstr(buf, " type=2 "), "%s", buf);	/* SOCK_DGRAM */
	for (int i = 102; i <= 200; i++)
		ck_assert_int_eq(ask(fd, "late", (unsigned)i), pid);
	ck_assert(it_quiet(fd, 100));
	close(fd);
	it_stop(d);
}
END_TEST

/*
 * The flooder: sends "B-<i>" to the service from its own socket as fast
 * as its answers come back, FLOOD_WINDOW unanswered at most (more would
 * overflow the sockets, and the kernel would drop other peers' datagrams
 * too), until stop is readable (its writer closed); writes a byte to
 * ready at its first answer. Exits 0 when every answer was to one of its
 * own datagrams ("<pid> <n> B-<i>"), each answered once; 2 when one was
 * not its own, 4 when one was answered twice, 3 when none came. Answers
 * may come out of order: at the instant a socket is connected to its
 * peer, the master still relays what the handler wrote before.
 */
#define FLOOD_MAX (1u << 22)
#define FLOOD_WINDOW 64
static void __attribute__((noreturn))
flood(int stop, int ready)
{
	static unsigned char seen[FLOOD_MAX / 8];
	int fd = peer_socket();
	unsigned sent = 0, answers = 0;
	char buf[256];

	for (;;) {
		struct pollfd p[2] = { { .fd = stop, .events = POLLIN },
		    { .fd = fd, .events = POLLIN } };
		ssize_t n;
		while (sent - answers < FLOOD_WINDOW && sent < FLOOD_MAX) {
			int len = snprintf(buf, sizeof(buf), "B-%u", sent++);
			(void)send(fd, buf, (size_t)len, 0);
		}
		if (poll(p, 2, IT_WAIT) <= 0 || p[0].revents)
			break;
		while ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
			char *end;
			buf[n] = '\0';
			(void)strtol(buf, &end, 10);
			(void)strtol(end, &end, 10);
			if (strncmp(end, " B-", 3) != 0)
				_exit(2);
			unsigned long k = strtoul(end + 3, NULL, 10);
			if (k >= FLOOD_MAX || (seen[k / 8] & (1u << (k % 8))))
				_exit(4);
			seen[k / 8] |= (unsigned char)(1u << (k % 8));
			if (answers++ == 0)
				(void)write(ready, "r", 1);
		}
	}
	_exit(answers ? 0 : 3);
}

/*
 * An attack on the hand-over: while one peer floods the port, twenty
 * others start their handlers one after another (each socket is bound,
 * fed and connected under the flood). They start once the flood has an
 * answer. No datagram of the flood reaches
 * their handlers (their answers would come to them), none of theirs is
 * lost, answered twice or reaches the flood's handler (in any order: a
 * switch under the flood may let one overtake another), and the flood's
 * handler answers its own datagrams only.
 */
START_TEST(flood_never_reaches_another_handler)
{
	struct daemon *d = start_peer_service("peer_socket = true; idle_timeout = 5; instances = 40;");
	int stop[2], ready[2], status, fds[20];
	char tag[16];
	pid_t flooder;

	ck_assert_int_eq(pipe2(stop, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_ne(flooder = fork(), -1);
	if (flooder == 0) {
		close(stop[1]);
		close(ready[0]);
		flood(stop[0], ready[1]);
	}
	close(stop[0]);
	close(ready[1]);
	ck_assert_msg(it_read_n(ready[0], tag, 1, IT_WAIT) == 1,
	    "the flood: no answer");
	close(ready[0]);
	/* Each keeps its socket, so that no two share a port: one peer. */
	for (int k = 0; k < 20; k++) {
		fds[k] = peer_socket();
		snprintf(tag, sizeof(tag), "A%d", k);
		burst_once_each(fds[k], tag, 10);
		ck_assert_msg(it_quiet(fds[k], 50), "%s: more", tag);
	}
	for (int k = 0; k < 20; k++)
		close(fds[k]);
	close(stop[1]);
	status = it_wait_child(flooder, IT_WAIT);
	if (status == -1)
		(void)kill(flooder, SIGKILL), (void)it_wait_child(flooder, IT_WAIT);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the flood: status %d", status);
	it_stop(d);
}
END_TEST

/* A handler that quits after one answer: the peer's next datagram, sent
 * as soon as the answer came (to the dead handler's socket, or after it
 * is gone to the service's), is answered once, by a fresh handler. */
START_TEST(quitting_handler_leaves_the_next_datagram_to_a_new_one)
{
	struct daemon *d = start_peer_service("peer_socket = true; idle_timeout = 5;");
	int fd = peer_socket();
	long pid = 0;

	for (int i = 0; i < 10; i++) {
		long next = ask(fd, "quit", 1);
		ck_assert_int_ne(next, pid);
		pid = next;
	}
	ck_assert(it_quiet(fd, 100));
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", 10, IT_WAIT));
	close(fd);
	it_stop(d);
}
END_TEST

/*
 * A handler left running by a daemon that exited still holds a socket of
 * the port: a new daemon's service socket, bound beside it, would join
 * that socket's reuseport group behind it, and the group's program would
 * send the port's datagrams to that handler. The new daemon relays
 * instead: a new peer's datagram reaches a new handler (through a pair),
 * and nothing reaches the old one, which never reads.
 */
START_TEST(port_held_by_an_old_handler_is_relayed)
{
	const char *svc = "services = ( { name = \"%s\"; protocol = \"udp\";"
	    " port = %u; address = \"127.0.0.1\"; wait = false; server = \"%s\";"
	    " args = [ %s ]; idle_timeout = 1; peer_socket = true; } );\n";
	struct daemon *d;
	int old, fd;
	char buf[256];
	long pid;
	pid_t stuck;

	port = tu_free_port();
	d = it_start(tu_write("sockd.conf", svc, "stuck", port, "/bin/sleep",
	    "\"sleep\", \"60\""));
	old = peer_socket();
	ck_assert_int_eq(send(old, "x", 1, 0), 1);
	ck_assert(it_wait_log_count(d, IT_LOG_CONN, 1, IT_WAIT));
	stuck = it_conn_pid(d, "stuck", it_local_port(old));
	it_stop(d);	/* shutdown = "leave": sleep keeps its socket */
	ck_assert(it_alive(stuck, NULL));
	d = it_start(tu_write("sockd.conf", svc, "peer", port, it_probe(),
	    "\"probe\", \"peer\""));
	fd = peer_socket();
	pid = sock_of(fd, 1, buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, " type=5 peer=- ", 15) == 0, "%s", buf);
	ck_assert_int_eq(ask(fd, "two", 2), pid);
	ck_assert_int_eq(send(old, "y", 1, 0), 1);
	ck_assert(it_wait_log_count(d, IT_LOG_CONN, 2, IT_WAIT));
	(void)kill(stuck, SIGKILL);
	ck_assert(it_pid_gone(stuck, IT_WAIT));
	close(old);
	close(fd);
	it_stop(d);
}
END_TEST

/* Where a socket of its own would undo what the service asks, its
 * handlers keep the relay: fd 0 is the pair (SOCK_SEQPACKET). */
static void
relay_kept(const char *extra, const char *server)
{
	port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf",
	    "services = ( { name = \"peer\"; protocol = \"udp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; wait = false; server = \"%s\";\n"
	    "  args = [ \"probe\", \"peer\" ]; idle_timeout = 1; peer_socket = true;\n"
	    "  %s } );\n",
	    port, server, extra));
	int fd = peer_socket();
	char buf[256], want[64];

	(void)sock_of(fd, 1, buf, sizeof(buf));
	snprintf(want, sizeof(want), " type=%d peer=- ", SOCK_SEQPACKET);
	ck_assert_msg(strncmp(buf, want, strlen(want)) == 0, "%s: %s", extra, buf);
	close(fd);
	it_stop(d);
}

START_TEST(relay_kept_for_reuseport)
{
	relay_kept("reuseport = true;", it_probe());
}
END_TEST

START_TEST(relay_kept_for_jails)
{
	const char *probe = it_jail_prog("tests/probe");

	relay_kept("jail = { namespaces = [\"pid\", \"mount\", \"net\"]; };", probe);
	relay_kept("jail = { no_sockets = true; };", probe);
	relay_kept("jail = { namespaces = [\"pid\", \"mount\"]; };", probe);
}
END_TEST

/* The shipped echo-peer: the UDP echo as a stdin/stdout program. */
START_TEST(shipped_echo_peer)
{
	port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf",
	    "services = ( { name = \"echo\"; protocol = \"udp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; wait = false; idle_timeout = 1;\n"
	    "  server = \"%s\"; } );\n", port, it_path("services/echo-peer")));
	int fd = peer_socket();
	char buf[256];

	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(send(fd, "hi", 2, 0), 2);
		ck_assert_int_gt(answer(fd, buf, sizeof(buf), IT_WAIT), 0);
		ck_assert_str_eq(buf, "Echo: hi!");
	}
	/* Short answers wait for the end of the master's batch, a long one
	 * goes at once: in a burst they still come back in order. */
	static char big[4000], got[8192];
	memset(big, 'x', sizeof(big));
	for (int round = 0; round < 3; round++) {
		ck_assert_int_eq(send(fd, "a", 1, 0), 1);
		ck_assert_int_eq(send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
		ck_assert_int_eq(send(fd, "b", 1, 0), 1);
		ck_assert_int_gt(answer(fd, got, sizeof(got), IT_WAIT), 0);
		ck_assert_str_eq(got, "Echo: a!");
		ck_assert_int_eq(answer(fd, got, sizeof(got), IT_WAIT),
		    (ssize_t)sizeof(big) + 7);
		ck_assert(got[6] == 'x' && got[sizeof(big) + 5] == 'x' &&
		    got[sizeof(big) + 6] == '!');
		ck_assert_int_gt(answer(fd, got, sizeof(got), IT_WAIT), 0);
		ck_assert_str_eq(got, "Echo: b!");
	}
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", 1, IT_WAIT));
	ck_assert_int_eq(it_count(d->log, IT_LOG_CONN), 1);
	close(fd);
	it_stop(d);
}
END_TEST

Suite *
udppeer_suite(void)
{
	Suite *s = suite_create("udppeer");
	TCase *tc = tcase_create("udppeer");

	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_add_test(tc, peers_each_get_their_own);
	tcase_add_test(tc, handler_sees_its_peer);
	tcase_add_test(tc, relay_keeps_peers_apart);
	tcase_add_test(tc, idle_handler_ends_and_a_fresh_one_starts);
	tcase_add_test(tc, instances_count_peers);
	tcase_add_test(tc, access_lists_per_peer);
	tcase_add_test(tc, max_lifetime_per_peer);
	tcase_add_test(tc, handler_that_never_reads);
	tcase_add_test(tc, reload_keeps_or_ends_peers);
	tcase_add_test(tc, handler_owns_a_connected_socket);
	tcase_add_test(tc, burst_before_handoff_in_order);
	tcase_add_test(tc, flood_never_reaches_another_handler);
	tcase_add_test(tc, quitting_handler_leaves_the_next_datagram_to_a_new_one);
	tcase_add_test(tc, relay_kept_for_reuseport);
	tcase_add_test(tc, port_held_by_an_old_handler_is_relayed);
	if (it_jail_skip() == NULL)
		(void)it_jail_prog("tests/probe");	/* before the tests fork */
	tu_add_test(tc, relay_kept_for_jails, it_jail_skip());
	tcase_add_test(tc, shipped_echo_peer);
	suite_add_tcase(s, tc);
	return s;
}
