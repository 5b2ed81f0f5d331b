/*
 * The PROXY protocol through a real daemon: hand-made headers (whole,
 * split, stalled, malformed, from an untrusted source, LOCAL health
 * checks), the addresses they name in the handler's environment and in
 * the access lists, and a real HAProxy in front of two daemons.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

static char buf[65536];

static const uint8_t v2_sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A,
    0x51, 0x55, 0x49, 0x54, 0x0A };

/* A v2 PROXY header for TCP over IPv4, with tlvs appended; its length. */
static size_t
v2_header(uint8_t *out, const char *src, uint16_t sport, const char *dst,
    uint16_t dport, const void *tlvs, size_t tlen)
{
	size_t body = 12 + tlen;

	memcpy(out, v2_sig, 12);
	out[12] = 0x21;
	out[13] = 0x11;
	out[14] = body >> 8;
	out[15] = body & 0xff;
	inet_pton(AF_INET, src, out + 16);
	inet_pton(AF_INET, dst, out + 20);
	out[24] = sport >> 8;
	out[25] = sport & 0xff;
	out[26] = dport >> 8;
	out[27] = dport & 0xff;
	if (tlen)	/* tlvs may be NULL, which memcpy() never takes */
		memcpy(out + 28, tlvs, tlen);
	return 16 + body;
}

static void
send_all(int fd, const void *p, size_t n)
{
	ck_assert_int_eq(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* A service on port with the keys in body; the handler is the probe. */
static struct daemon *
start_probe(uint16_t port, const char *body)
{
	return it_start(tu_write("sockd.conf", "services = ( { name = \"p\"; "
	    "protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;\n"
	    "  server = \"%s\"; args = [\"probe\", \"env\"];\n  %s } );\n",
	    port, it_probe(), body));
}

/* Sends n bytes of header (and nothing more) and reads the probe's report. */
static const char *
report_via(struct daemon *d, uint16_t port, const void *hdr, size_t n)
{
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	send_all(fd, hdr, n);
	shutdown(fd, SHUT_WR);
	tu_read_until(fd, buf, sizeof(buf), "\nend\n", IT_WAIT);
	close(fd);
	ck_assert_msg(strstr(buf, "\nend\n"), "no report: \"%s\"\n%s", buf,
	    it_tail(d->log));
	return buf;
}

START_TEST(v1_and_v2_addresses_reach_the_handler)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_probe(port, "proxy_protocol = \"any\"; "
	    "proxy_from = \"127.0.0.0/8\";");
	const char *v1 = "PROXY TCP4 192.0.2.10 198.51.100.20 40000 443\r\n";
	uint8_t h[256], tlvs[64];
	size_t tl = 0;

	report_via(d, port, v1, strlen(v1));
	ck_assert(it_has_line(buf, "env:TCPREMOTEIP=192.0.2.10"));
	ck_assert(it_has_line(buf, "env:TCPREMOTEPORT=40000"));
	ck_assert(it_has_line(buf, "env:TCPLOCALIP=198.51.100.20"));
	ck_assert(it_has_line(buf, "env:TCPLOCALPORT=443"));
	ck_assert(it_has_line(buf, "env:TCPPROXYIP=127.0.0.1"));
	ck_assert(tu_wait_log(d, "accepted 192.0.2.10 port 40000, pid", IT_WAIT));

	memcpy(tlvs + tl, "\x01\x00\x02h2", 5);
	tl += 5;
	memcpy(tlvs + tl, "\x02\x00\x0b" "example.org", 14);
	tl += 14;
	memcpy(tlvs + tl, "\x05\x00\x03u-1", 6);
	tl += 6;
	/* SSL: over TLS, verified; version and client CN. */
	memcpy(tlvs + tl, "\x20\x00\x13\x01\x00\x00\x00\x00"
	    "\x21\x00\x07TLSv1.3" "\x22\x00\x01x", 22);
	tl += 22;
	size_t n = v2_header(h, "203.0.113.5", 5555, "198.51.100.20", 25, tlvs, tl);
	report_via(d, port, h, n);
	ck_assert(it_has_line(buf, "env:TCPREMOTEIP=203.0.113.5"));
	ck_assert(it_has_line(buf, "env:TCPREMOTEPORT=5555"));
	ck_assert(it_has_line(buf, "env:TCPLOCALPORT=25"));
	ck_assert(it_has_line(buf, "env:PROXY_ALPN=h2"));
	ck_assert(it_has_line(buf, "env:PROXY_AUTHORITY=example.org"));
	ck_assert(it_has_line(buf, "env:PROXY_UNIQUE_ID=u-1"));
	ck_assert(it_has_line(buf, "env:SSL_PROTOCOL=TLSv1.3"));
	ck_assert(it_has_line(buf, "env:SSL_PEER_CERT_CN=x"));

	/*
	 * UNKNOWN: the connection's own addresses. Like v2 LOCAL it is what a
	 * balancer's health check sends, so a handler waits for a byte.
	 */
	report_via(d, port, "PROXY UNKNOWN\r\nx", 16);
	ck_assert(it_has_line(buf, "env:TCPREMOTEIP=127.0.0.1"));
	ck_assert(it_has_line(buf, "env:TCPLOCALIP=127.0.0.1"));
	it_stop(d);
}
END_TEST

/*
 * The handler gets every byte after the header and none of it, however
 * the header is cut into segments; a built-in answers too.
 */
START_TEST(split_header_and_data_after_it)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "services = ( { "
	    "name = \"e\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u; builtin = \"echo\";\n"
	    "  proxy_protocol = \"any\"; proxy_from = \"127.0.0.1\"; } );\n", port));
	uint8_t h[64];
	size_t n = v2_header(h, "192.0.2.1", 1, "192.0.2.2", 2, NULL, 0);
	const char *v1 = "PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n";
	int one = 1;

	for (int round = 0; round < 2; round++) {
		const uint8_t *p = round ? (const uint8_t *)v1 : h;
		size_t len = round ? strlen(v1) : n;
		int fd = tu_connect(port);
		ck_assert_int_ge(fd, 0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* Cut at 1, 7, 13 and 15 bytes: inside and around the signature. */
		size_t cuts[] = { 1, 7, 13, 15, len };
		for (size_t i = 0, at = 0; i < 5; at = cuts[i++]) {
			send_all(fd, p + at, cuts[i] - at);
			usleep(20000);	/* separate segments, not synchronisation */
		}
		it_send(fd, "after-the-header\n");
		ck_assert_uint_eq(it_read_n(fd, buf, 17, IT_WAIT), 17);
		ck_assert(memcmp(buf, "after-the-header\n", 17) == 0);
		close(fd);
	}
	ck_assert(tu_wait_log(d, "accepted 2001:db8::1 port 1, pid", IT_WAIT));
	it_stop(d);
}
END_TEST

/* A half header holds its own connection, nobody else's. */
START_TEST(stalled_header_delays_nobody)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "services = ( { "
	    "name = \"t\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u; builtin = \"daytime\";\n"
	    "  proxy_protocol = \"v1\"; proxy_from = \"127.0.0.1\"; "
	    "proxy_timeout = 2; } );\n", port));
	const char *v1 = "PROXY TCP4 192.0.2.1 192.0.2.2 1000 13\r\n";
	int stalled = tu_connect(port);
	long t0;

	send_all(stalled, "PROXY TCP4 192.0", 16);
	t0 = tu_now_ms();
	for (int i = 0; i < 200; i++) {
		int fd = tu_connect(port);
		ck_assert_int_ge(fd, 0);
		send_all(fd, v1, strlen(v1));
		ck_assert_int_gt(tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT), 0);
		ck_assert(strstr(buf, "\n"));
		close(fd);
	}
	/* All served well inside the stalled client's proxy_timeout. */
	ck_assert_msg(tu_now_ms() - t0 < 1500, "200 clients took %ld ms",
	    tu_now_ms() - t0);
	ck_assert(it_quiet(stalled, 0));
	ck_assert(it_wait_eof(stalled, 4000));
	ck_assert_msg(tu_now_ms() - t0 >= 1900, "dropped before proxy_timeout");
	close(stalled);
	ck_assert(tu_wait_log(d, "bad PROXY protocol header: header not complete "
	    "within proxy_timeout", IT_WAIT));
	it_stop(d);
}
END_TEST

/*
 * The audit's attack: many connections from the balancer's address send
 * half a header and stall. They take no place under max_children (here
 * fewer than they are), so another service and a whole header on the same
 * service are answered while the stalled ones still wait; beyond
 * proxy_pending the oldest are dropped, counted as proxy_header.
 */
START_TEST(stalled_headers_hold_no_slots)
{
	enum { STALLED = 200, PENDING = 128, MAX_CHILDREN = 64 };
	uint16_t port = tu_free_port(), other = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "sockd = { "
	    "max_children = %d; };\nservices = (\n"
	    " { name = \"e\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u; builtin = \"echo\";\n"
	    "  proxy_protocol = \"v1\"; proxy_from = \"127.0.0.1\";\n"
	    "  proxy_timeout = 30; proxy_pending = %d; },\n"
	    " { name = \"h\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u; server = \"%s\"; } );\n",
	    MAX_CHILDREN, port, PENDING, other, it_path("services/hello-tcp")));
	const char *v1 = "PROXY TCP4 192.0.2.1 192.0.2.2 1000 7\r\nping\n";
	int stalled[STALLED], fd;

	for (int i = 0; i < STALLED; i++) {
		ck_assert_int_ge(stalled[i] = tu_connect(port), 0);
		send_all(stalled[i], "PROXY TCP4 192.0", 16);
	}
	/* Behind all of them in the backlog, and answered. */
	ck_assert_int_ge(fd = tu_connect(port), 0);
	send_all(fd, v1, strlen(v1));
	ck_assert_msg(it_read_n(fd, buf, 5, IT_WAIT) == 5 &&
	    memcmp(buf, "ping\n", 5) == 0, "%s", it_tail(d->log));
	close(fd);
	ck_assert_msg(it_hello(other, "x"), "%s", it_tail(d->log));
	/*
	 * Answered while the newest stalled ones still wait (the whole header
	 * may have come a moment after its connection: then it too waited, and
	 * one more stalled one went)...
	 */
	for (int i = STALLED - PENDING + 1; i < STALLED; i++)
		ck_assert_msg(it_quiet(stalled[i], 0), "stalled %d was closed: %s",
		    i, it_tail(d->log));
	/* ... and the older ones were dropped to make room for them. */
	for (int i = 0; i < STALLED - PENDING; i++)
		ck_assert_msg(it_wait_eof(stalled[i], IT_WAIT), "stalled %d open", i);
	kill(d->pid, SIGUSR1);
	const char *seen = "service \"e\": accepted 1, refused ";
	ck_assert_msg(tu_wait_log(d, seen, IT_WAIT), "%s", it_tail(d->log));
	const char *stats = strstr(d->log, seen);
	long dropped = strtol(stats + strlen(seen), NULL, 10);
	ck_assert_msg(dropped == STALLED - PENDING || dropped == STALLED -
	    PENDING + 1, "%s", stats);
	ck_assert(strstr(stats, "proxy_from 0, proxy_header "));
	ck_assert(strstr(d->log, "header not complete, dropped for a newer "
	    "connection: proxy_pending reached"));
	for (int i = 0; i < STALLED; i++)
		close(stalled[i]);
	it_stop(d);
}
END_TEST

/*
 * A header read while max_children is full waits for a handler, as the
 * backlog would, and gets one when a handler ends; one that gets none
 * within proxy_timeout is refused.
 */
START_TEST(header_read_at_the_cap_waits_for_a_handler)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "sockd = { "
	    "max_children = 1; };\nservices = ( { name = \"h\"; protocol = \"tcp\"; address = \"127.0.0.1\"; "
	    "port = %u; server = \"%s\";\n  proxy_protocol = \"v1\"; "
	    "proxy_from = \"127.0.0.1\"; proxy_timeout = 2; } );\n", port,
	    it_path("services/hello-tcp")));
	const char *v1 = "PROXY TCP4 192.0.2.1 192.0.2.2 1000 7\r\n";
	int late = tu_connect(port), last = tu_connect(port), first;

	/* late and last are accepted, then first takes the only handler. */
	send_all(late, v1, 10);
	send_all(last, v1, 10);
	ck_assert(it_quiet(late, 200));
	first = tu_connect(port);
	send_all(first, v1, strlen(v1));
	ck_assert_int_gt(tu_read_until(first, buf, sizeof(buf), "Welcome!\n",
	    IT_WAIT), 0);
	send_all(late, v1 + 10, strlen(v1) - 10);
	ck_assert(it_quiet(late, 300));
	close(first);
	ck_assert_msg(tu_read_until(late, buf, sizeof(buf), "Welcome!\n",
	    IT_WAIT) > 0, "%s", it_tail(d->log));
	/* Now late holds the handler: last waits out its proxy_timeout. */
	send_all(last, v1 + 10, strlen(v1) - 10);
	ck_assert(it_quiet(last, 300));
	ck_assert(it_wait_eof(last, 2000 + IT_WAIT));
	ck_assert(tu_wait_log(d, "bad PROXY protocol header: header read, but no "
	    "handler free within proxy_timeout", IT_WAIT));
	close(last);
	close(late);
	it_stop(d);
}
END_TEST

/* Each bad header is closed unanswered and counted; nothing is started. */
START_TEST(malformed_headers_refused)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_probe(port, "proxy_protocol = \"any\"; "
	    "proxy_from = \"127.0.0.1\"; refuse_message = \"no\\r\\n\";");
	static const char *const text[] = {
		"GET / HTTP/1.0\r\n\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
		"PROXY TCP4 ::1 ::1 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n",
		"PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n",
		"PROXY TCP4",	/* and then the end */
	};
	/* v2: version/command, family, length field, bytes sent after 16. */
	static const struct { uint8_t vc, fam; uint16_t len; size_t body; } v2[] = {
		{ 0x11, 0x11, 12, 12 },		/* version 1 */
		{ 0x23, 0x11, 12, 12 },		/* command 3 */
		{ 0x21, 0x12, 12, 12 },		/* UDP */
		{ 0x21, 0x31, 216, 216 },	/* AF_UNIX */
		{ 0x21, 0x11, 4, 4 },		/* too short for IPv4 */
		{ 0x21, 0x11, 0xffff, 0 },	/* longer than sockd takes */
		{ 0x21, 0x11, 15, 15 },		/* a TLV that overruns */
		{ 0x21, 0x11, 12, 12 },		/* a wrong signature byte */
	};
	size_t nt = sizeof(text) / sizeof(text[0]), nv = sizeof(v2) / sizeof(v2[0]);
	size_t nbad = nt + nv;

	for (size_t i = 0; i < nbad; i++) {
		uint8_t h[256] = { 0 };
		size_t len;
		int fd = tu_connect(port);
		ck_assert_int_ge(fd, 0);
		if (i < nt) {
			len = strlen(text[i]);
			memcpy(h, text[i], len);
		} else {
			size_t k = i - nt;
			memcpy(h, v2_sig, 12);
			h[12] = v2[k].vc;
			h[13] = v2[k].fam;
			h[14] = v2[k].len >> 8;
			h[15] = v2[k].len & 0xff;
			/* The TLV case: type 1 claiming 9 bytes where 0 are left. */
			memcpy(h + 28, "\x01\x00\x09", 3);
			if (k == nv - 1)
				h[7] = 'X';
			len = 16 + v2[k].body;
		}
		send_all(fd, h, len);
		if (i == nt - 1)
			shutdown(fd, SHUT_WR);
		tu_read_until(fd, buf, sizeof(buf), NULL, IT_WAIT);
		ck_assert_msg(strcmp(buf, "no\r\n") == 0, "case %zu: \"%s\"", i, buf);
		close(fd);
	}
	kill(d->pid, SIGUSR1);
	snprintf(buf, sizeof(buf), "proxy_from 0, proxy_header %zu)", nbad);
	ck_assert_msg(tu_wait_log(d, buf, IT_WAIT), "%s", it_tail(d->log));
	ck_assert_int_eq(it_count(d->log, IT_LOG_CONN), 0);
	ck_assert(strstr(d->log, "refused 127.0.0.1 port "));
	ck_assert(strstr(d->log, ": bad PROXY protocol header: not a PROXY "
	    "protocol header"));
	it_stop(d);
}
END_TEST

/* Only proxy_from may send a header; the rest are refused unread. */
START_TEST(untrusted_source_refused)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_probe(port, "proxy_protocol = \"v1\"; "
	    "proxy_from = \"127.0.0.2\";");
	const char *v1 = "PROXY TCP4 192.0.2.1 192.0.2.2 1000 13\r\n";
	int fd = tu_connect(port);

	send_all(fd, v1, strlen(v1));
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert(tu_wait_log(d, "refused 127.0.0.1 port", IT_WAIT));
	ck_assert(tu_wait_log(d, ": not in proxy_from", IT_WAIT));
	/* The trusted one is served. */
	fd = tu_connect_from("127.0.0.2", "127.0.0.1", port);
	send_all(fd, v1, strlen(v1));
	shutdown(fd, SHUT_WR);
	tu_read_until(fd, buf, sizeof(buf), "\nend\n", IT_WAIT);
	close(fd);
	ck_assert(it_has_line(buf, "env:TCPREMOTEIP=192.0.2.1"));
	ck_assert(it_has_line(buf, "env:TCPPROXYIP=127.0.0.2"));
	it_stop(d);
}
END_TEST

/* only_from, per_source and the refusal log see the header's address. */
START_TEST(access_lists_use_the_header)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_probe(port, "proxy_protocol = \"v1\"; "
	    "proxy_from = \"127.0.0.1\"; only_from = \"192.0.2.0/24\"; "
	    "per_source = 1;");
	const char *in = "PROXY TCP4 192.0.2.7 192.0.2.2 1000 13\r\n";
	const char *in2 = "PROXY TCP4 192.0.2.7 192.0.2.2 1001 13\r\n";
	const char *out = "PROXY TCP4 198.51.100.7 192.0.2.2 1002 13\r\n";
	int held = tu_connect(port), fd;

	/* The probe reads until EOF: this one holds 192.0.2.7's only place. */
	send_all(held, in, strlen(in));
	tu_read_until(held, buf, sizeof(buf), "\nend\n", IT_WAIT);
	ck_assert(it_has_line(buf, "env:TCPREMOTEIP=192.0.2.7"));
	fd = tu_connect(port);
	send_all(fd, in2, strlen(in2));
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert(tu_wait_log(d, "refused 192.0.2.7 port 1001: per_source limit",
	    IT_WAIT));
	fd = tu_connect(port);
	send_all(fd, out, strlen(out));
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert(tu_wait_log(d, "refused 198.51.100.7 port 1002: access denied",
	    IT_WAIT));
	close(held);
	it_stop(d);
}
END_TEST

/*
 * A balancer's health check (v2 LOCAL) that only connects starts no
 * handler; one that sends data is served with the real addresses.
 */
START_TEST(local_health_checks)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_probe(port, "proxy_protocol = \"v2\"; "
	    "proxy_from = \"127.0.0.1\";");
	const uint8_t local[16] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A,
	    0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0, 0 };

	for (int i = 0; i < 3; i++) {
		int fd = tu_connect(port);
		send_all(fd, local, 16);
		close(fd);
	}
	ck_assert(it_wait_log_count(d, "a balancer's health check ended", 3,
	    IT_WAIT));
	ck_assert_int_eq(it_count(d->log, "accepted"), 0);
	int fd = tu_connect(port);
	send_all(fd, local, 16);
	it_send(fd, "x");
	shutdown(fd, SHUT_WR);
	tu_read_until(fd, buf, sizeof(buf), "\nend\n", IT_WAIT);
	close(fd);
	ck_assert(it_has_line(buf, "env:TCPREMOTEIP=127.0.0.1"));
	it_stop(d);
}
END_TEST

#define HAPROXY "/usr/sbin/haproxy"

static const char *
haproxy_skip(void)
{
	return access(HAPROXY, X_OK) == 0 ? NULL :
	    "needs HAProxy (Debian's haproxy package)";
}

/* Whether something listens on 127.0.0.1:port: then a bind fails. */
static bool
listening(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool in_use = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno == EADDRINUSE;

	close(fd);
	return in_use;
}

/* haproxy -db (in the foreground) with conf, once its frontend listens. */
static pid_t
haproxy_start(const char *conf, uint16_t port)
{
	pid_t parent = getpid(), pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(it_tmp("haproxy.log"), O_WRONLY | O_CREAT | O_TRUNC,
		    0600);
		/* It never exits by itself: it goes with a test that failed
		 * before its kill(). */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(HAPROXY, "haproxy", "-db", "-f", conf, (char *)NULL);
		_exit(127);
	}
	for (long end = tu_now_ms() + IT_WAIT; !listening(port);) {
		ck_assert_msg(tu_now_ms() < end && it_alive(pid, NULL),
		    "haproxy did not listen on port %u", port);
		usleep(10000);
	}
	return pid;
}

/* A client from src through HAProxy; the probe's report, the client's port. */
static uint16_t
through(uint16_t port, const char *src, int *fdp)
{
	int fd = tu_connect_from(src, "127.0.0.1", port);
	uint16_t me = it_local_port(fd);

	if (fdp == NULL)
		shutdown(fd, SHUT_WR);
	tu_read_until(fd, buf, sizeof(buf), "\nend\n", IT_WAIT);
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return me;
}

/* Whether a or b logs text within IT_WAIT. */
static bool
either_logs(struct daemon *a, struct daemon *b, const char *text)
{
	for (long end = tu_now_ms() + IT_WAIT; tu_now_ms() < end;) {
		if (tu_wait_log(a, text, 0) || tu_wait_log(b, text, 0))
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * HAProxy in mode tcp in front of two daemons, one sent v2 headers and
 * one v1: the handlers see the client (127.0.0.2 and its port), both
 * serve, only_from and per_source act on the client, and HAProxy's health
 * checks start no handler.
 */
START_TEST(haproxy_in_front)
{
	uint16_t fport = tu_free_port(), p2 = tu_free_port(), p1 = tu_free_port();
	const char *keys = "proxy_from = \"127.0.0.1\"; "
	    "only_from = \"127.0.0.2\"; per_source = 1;";
	struct daemon *d2, *d1;
	char line[128];
	int held[2];

	d2 = it_start(tu_write("v2.conf", "services = ( { "
	    "name = \"p\"; protocol = \"tcp\"; address = \"127.0.0.1\"; "
	    "port = %u;\n  server = \"%s\"; args = [\"probe\", \"env\"];\n"
	    "  proxy_protocol = \"v2\"; %s } );\n", p2, it_probe(), keys));
	d1 = it_start(tu_write("v1.conf", "services = ( { "
	    "name = \"p\"; protocol = \"tcp\"; address = \"127.0.0.1\"; "
	    "port = %u;\n  server = \"%s\"; args = [\"probe\", \"env\"];\n"
	    "  proxy_protocol = \"v1\"; %s } );\n", p1, it_probe(), keys));
	pid_t hap = haproxy_start(tu_write("haproxy.cfg",
	    "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n"
	    "  timeout server 10s\n  timeout check 1s\n"
	    "frontend f\n  bind 127.0.0.1:%u\n  default_backend b\n"
	    "backend b\n  balance roundrobin\n"
	    "  server v2 127.0.0.1:%u send-proxy-v2 check check-send-proxy "
	    "inter 100\n"
	    "  server v1 127.0.0.1:%u send-proxy check check-send-proxy "
	    "inter 100\n", fport, p2, p1), fport);

	/* Both see checks, and start nothing for them. */
	ck_assert(it_wait_log_count(d2, "health check ended", 2, IT_WAIT));
	ck_assert(it_wait_log_count(d1, "health check ended", 2, IT_WAIT));
	for (int i = 0; i < 2; i++) {
		uint16_t me = through(fport, "127.0.0.2", &held[i]);
		ck_assert_msg(it_has_line(buf, "env:TCPREMOTEIP=127.0.0.2"), "%s",
		    buf);
		snprintf(line, sizeof(line), "env:TCPREMOTEPORT=%u", me);
		ck_assert_msg(it_has_line(buf, line), "%s", buf);
		ck_assert(it_has_line(buf, "env:TCPPROXYIP=127.0.0.1"));
	}
	/* Round robin: one client each, held open. */
	ck_assert(tu_wait_log(d2, "accepted 127.0.0.2 port", IT_WAIT));
	ck_assert(tu_wait_log(d1, "accepted 127.0.0.2 port", IT_WAIT));
	/* per_source = 1 on both: a third client from 127.0.0.2 is refused. */
	through(fport, "127.0.0.2", NULL);
	ck_assert_msg(strstr(buf, "\nend\n") == NULL, "%s", buf);
	ck_assert(either_logs(d2, d1, "refused 127.0.0.2 port"));
	/* only_from: 127.0.0.3 is refused on either backend. */
	through(fport, "127.0.0.3", NULL);
	ck_assert_msg(strstr(buf, "\nend\n") == NULL, "%s", buf);
	ck_assert(either_logs(d2, d1, "refused 127.0.0.3 port"));
	close(held[0]);
	close(held[1]);
	kill(hap, SIGTERM);
	ck_assert_int_ne(it_wait_child(hap, IT_WAIT), -1);
	/* Checks and refusals started no handler: two children each at most. */
	ck_assert_int_eq(it_count(d2->log, "accepted 127.0.0.1"), 0);
	ck_assert_int_eq(it_count(d1->log, "accepted 127.0.0.1"), 0);
	ck_assert_int_eq(it_count(d2->log, "accepted ") +
	    it_count(d1->log, "accepted "), 2);
	it_stop(d2);
	it_stop(d1);
}
END_TEST

Suite *
proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = tcase_create("headers");

	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_test(tc, v1_and_v2_addresses_reach_the_handler);
	tcase_add_test(tc, split_header_and_data_after_it);
	tcase_add_test(tc, stalled_header_delays_nobody);
	tcase_add_test(tc, stalled_headers_hold_no_slots);
	tcase_add_test(tc, header_read_at_the_cap_waits_for_a_handler);
	tcase_add_test(tc, malformed_headers_refused);
	tcase_add_test(tc, untrusted_source_refused);
	tcase_add_test(tc, access_lists_use_the_header);
	tcase_add_test(tc, local_health_checks);
	suite_add_tcase(s, tc);
	tc = tcase_create("haproxy");
	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_set_timeout(tc, IT_TIMEOUT);
	tu_add_test(tc, haproxy_in_front, haproxy_skip());
	suite_add_tcase(s, tc);
	return s;
}
