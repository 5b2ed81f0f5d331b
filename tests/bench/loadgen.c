/*
 * loadgen - a loopback load generator for the sockd benchmark.
 *
 *   loadgen HOST PORT tcp|udp CONCURRENCY TOTAL SECONDS MODE [PROCS]
 *   loadgen freeport N
 *   loadgen scrape HOST PORT INTERVAL_MS
 *   loadgen sink | loadgen source MIB
 *
 * MODE is hello (connect, read "Welcome!", send a line, read "Hello, ...!",
 * close), proxyhello (hello after a PROXY protocol v2 header naming
 * 198.51.100.1 and a port of its own for each connection), eof (connect, read to EOF), echo (send a line, read it back,
 * close), hold (connect CONCURRENCY clients, at most HOLD_PENDING of them
 * waiting for "Welcome!" at a time, so that each is timed from its own
 * connect and not from the first; print "held N" once each has its
 * welcome or failed, and keep them open until SECONDS pass or SIGTERM), or udp (CONCURRENCY
 * datagrams in flight, each answered reply sends the next one).
 * tlshello is hello through TLS 1.3 (X25519, no certificate check): a full
 * handshake on each connection; tlsresumed the same, each client offering
 * the session its previous connection got (a ticket), and the line counts
 * resumed=N. up and down (plain), tlsup and tlsdown move TOTAL MiB through
 * each of CONCURRENCY connections, once: up sends them, half-closes and
 * wants "got BYTES" back (the sink handler's answer), down reads them to
 * the end (the source handler's); their rate is in MiB/s, and SECONDS is
 * their time limit.
 *
 * It stops after TOTAL exchanges or SECONDS, whichever comes first, and
 * prints one line of key=value pairs: rate (exchanges per second), latency
 * percentiles in microseconds, and errors by kind. TCP clients bind to
 * 127.0.1.1-127.0.1.250 in turn before connecting, so TIME_WAIT spreads
 * over many source addresses and never exhausts the ports of one.
 * PROCS (default 1) splits the clients over that many processes, so that a
 * server faster than one client process is measured, not the client; their
 * counts and latencies are merged into the one line.
 * scrape is a Prometheus server's part: every INTERVAL_MS it sends
 * GET /metrics and reads the answer to its end, until SIGTERM; then it prints
 * scrapes=N scrape_bytes=B (the last answer's size) scrape_failed=F
 * scraper_cpu_us=U (its own CPU time). A scraper in C costs the machine what a remote Prometheus would
 * not: almost nothing; a shell loop forking cat and sleep ten times a
 * second took 3.5% of a core, which a two-core machine under load takes
 * from the load.
 * sink and source are those handlers, on stdin and stdout: sink reads to
 * the end and answers "got BYTES\n"; source writes MIB MiB of zeros.
 * Only loopback destinations are accepted. A HOST that starts with '/'
 * is the path of a UNIX-domain stream socket (PORT is then ignored; give 0).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_PROCS 16
#define CONN_TIMEOUT_US 5000000LL
#define UDP_TIMEOUT_US 1000000LL
/* Well under any listen backlog: the server's spawn rate paces the rest. */
#define HOLD_PENDING 128
#define SRC_FIRST 1
#define SRC_LAST 250
#define LINE "bench\n"

enum mode { M_HELLO, M_EOF, M_ECHO, M_HOLD, M_UDP, M_UP, M_DOWN };
enum err { E_REFUSED, E_RESET, E_TIMEOUT, E_SHORT, E_OTHER, E_NKINDS };
static const char *err_names[E_NKINDS] = {
	"refused", "reset", "timeout", "short", "other"
};

struct slot {
	int fd;
	int stage;		/* hello: 0 want welcome, 1 want reply */
	bool opened;		/* the PROXY header, if any, is sent */
	SSL *ssl;		/* TLS: the connection's, once connected */
	SSL_SESSION *sess;	/* tlsresumed: the last connection's session */
	uint32_t ev;		/* what epoll waits for on fd */
	long long start;	/* µs */
	size_t got;
	char buf[128];
};

static enum mode mode;
static bool proxy;		/* proxyhello: a PROXY v2 header first */
static SSL_CTX *tls;		/* the TLS modes' client context */
static bool resume;		/* tlsresumed */
static unsigned long resumed;
static struct sockaddr_storage dst;
static socklen_t dstlen;
static int epfd, src_next = SRC_FIRST;
static long long *lat;
static size_t nlat, latcap;
static unsigned long errs[E_NKINDS], started, done_ok;
static unsigned long total;
static volatile sig_atomic_t stop;

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void
record(long long us)
{
	if (nlat == latcap) {
		latcap = latcap ? latcap * 2 : 65536;
		if ((lat = realloc(lat, latcap * sizeof(*lat))) == NULL) {
			perror("loadgen: realloc");
			exit(1);
		}
	}
	lat[nlat++] = us;
}

static enum err
err_kind(int e)
{
	switch (e) {
	case ECONNREFUSED:	return E_REFUSED;
	case ECONNRESET:
	case EPIPE:		return E_RESET;
	case ETIMEDOUT:		return E_TIMEOUT;
	default:		return E_OTHER;
	}
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int
parse_dst(const char *host, const char *port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&dst;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&dst;
	struct sockaddr_un *su = (struct sockaddr_un *)&dst;
	int p = atoi(port);

	memset(&dst, 0, sizeof(dst));
	if (host[0] == '/') {
		if (strlen(host) >= sizeof(su->sun_path))
			return -1;
		su->sun_family = AF_UNIX;
		strcpy(su->sun_path, host);
		dstlen = sizeof(*su);
		return 0;
	}
	if (p < 1 || p > 65535)
		return -1;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		if ((ntohl(s4->sin_addr.s_addr) >> 24) != 127)
			return -1;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(p);
		dstlen = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p);
		dstlen = sizeof(*s6);
		return 0;
	}
	return -1;
}

/* A non-blocking TCP socket bound to the next 127.0.1.X source, connecting. */
static int
tcp_open(void)
{
	int fd, one = 1;

	fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (dst.ss_family == AF_INET) {
		struct sockaddr_in src = { .sin_family = AF_INET };
		src.sin_addr.s_addr = htonl(0x7f000100u | (unsigned)src_next);
		if (++src_next > SRC_LAST)
			src_next = SRC_FIRST;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1) {
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (struct sockaddr *)&dst, dstlen) == -1 &&
	    errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
slot_close(struct slot *s)
{
	if (s->ssl != NULL) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd != -1) {
		close(s->fd);	/* also leaves the epoll set */
		s->fd = -1;
	}
}

static void
slot_fail(struct slot *s, enum err kind)
{
	errs[kind]++;
	slot_close(s);
}

static void
slot_start(struct slot *s)
{
	struct epoll_event ev = { .data.ptr = s };

	s->stage = 0;
	s->got = 0;
	s->start = now_us();
	started++;
	if ((s->fd = tcp_open()) == -1) {
		errs[err_kind(errno)]++;
		return;
	}
	/* Echo, TLS and a PROXY header go first, on connect; the others wait. */
	s->opened = !proxy;
	ev.events = mode == M_ECHO || proxy || tls ? EPOLLOUT : EPOLLIN;
	s->ev = ev.events;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) == -1)
		slot_fail(s, E_OTHER);
}

static void
slot_done(struct slot *s)
{
	record(now_us() - s->start);
	done_ok++;
	slot_close(s);
}

static bool
has(const struct slot *s, const char *text)
{
	return memmem(s->buf, s->got, text, strlen(text)) != NULL;
}

static int
send_line(struct slot *s)
{
	if (send(s->fd, LINE, sizeof(LINE) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(LINE) - 1) {
		slot_fail(s, errno ? err_kind(errno) : E_SHORT);
		return -1;
	}
	return 0;
}

/* Whether the connect() of s failed; then s is failed and closed. */
static bool
connect_failed(struct slot *s)
{
	int e = 0;
	socklen_t el = sizeof(e);

	(void)getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &el);
	if (e)
		slot_fail(s, err_kind(e));
	return e != 0;
}

/* Once connected: the PROXY v2 header, TCP over IPv4. */
static void
send_proxy_header(struct slot *s, uint32_t events)
{
	uint8_t h[28] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51,
	    0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0, 12, 198, 51, 100, 1,
	    127, 0, 0, 1 };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };

	if (connect_failed(s) || !(events & EPOLLOUT))
		return;
	h[24] = (started >> 8) & 0xff;
	h[25] = started & 0xff;
	memcpy(h + 26, &((const struct sockaddr_in *)&dst)->sin_port, 2);
	errno = 0;
	if (send(s->fd, h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h)) {
		slot_fail(s, errno ? err_kind(errno) : E_SHORT);
		return;
	}
	s->opened = true;
	(void)epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

/* The TLS modes' client: TLS 1.3 and X25519 only, as the bench's servers
 * are compared on; the certificate is not checked (no CA: a bench's
 * self-signed one). A peer that ends without close_notify ends the stream. */
static void
tls_init(void)
{
	if ((tls = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(tls, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set1_groups_list(tls, "X25519") != 1) {
		ERR_print_errors_fp(stderr);
		exit(1);
	}
	SSL_CTX_set_verify(tls, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(tls, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Each slot keeps its own session; nothing is cached for all. */
	SSL_CTX_set_session_cache_mode(tls, SSL_SESS_CACHE_OFF);
}

static void
slot_want(struct slot *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (s->ev != events && epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev) == 0)
		s->ev = events;
}

/* The exchange is done: keep the session for the next connection, say
 * goodbye (close_notify, not waited for) and close. */
static void
tls_done(struct slot *s)
{
	if (resume) {
		SSL_SESSION *sess = SSL_get1_session(s->ssl);

		resumed += SSL_session_reused(s->ssl) == 1;
		if (sess && SSL_SESSION_is_resumable(sess)) {
			SSL_SESSION_free(s->sess);
			s->sess = sess;
		} else
			SSL_SESSION_free(sess);
	}
	(void)SSL_shutdown(s->ssl);
	ERR_clear_error();
	slot_done(s);
}

/* The SSL call's failure r: wait for what it wants, or fail the slot. */
static void
tls_wait(struct slot *s, int r)
{
	int e = errno;

	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		slot_want(s, EPOLLIN);
		return;
	case SSL_ERROR_WANT_WRITE:
		slot_want(s, EPOLLOUT);
		return;
	case SSL_ERROR_ZERO_RETURN:
		slot_fail(s, E_SHORT);
		break;
	case SSL_ERROR_SYSCALL:
		slot_fail(s, e ? err_kind(e) : E_SHORT);
		break;
	default:
		slot_fail(s, E_OTHER);
		break;
	}
	ERR_clear_error();
}

/* One readiness event of a tlshello or tlsresumed slot: the handshake
 * (inside SSL_read), "Welcome!", the line, "Hello, bench!". */
static void
tls_event(struct slot *s)
{
	int r;

	if (s->ssl == NULL) {
		if (connect_failed(s))
			return;
		if ((s->ssl = SSL_new(tls)) == NULL ||
		    SSL_set_fd(s->ssl, s->fd) != 1 ||
		    (s->sess && SSL_set_session(s->ssl, s->sess) != 1)) {
			slot_fail(s, E_OTHER);
			return;
		}
		SSL_set_connect_state(s->ssl);
	}
	for (;;) {
		errno = 0;
		if (s->stage == 1) {
			if ((r = SSL_write(s->ssl, LINE, sizeof(LINE) - 1)) <= 0)
				break;
			s->stage = 2;
			s->got = 0;
			continue;
		}
		if (s->got == sizeof(s->buf))
			s->got = 0;	/* only the tail matters */
		if ((r = SSL_read(s->ssl, s->buf + s->got, (int)(sizeof(s->buf) - s->got))) <= 0)
			break;
		s->got += (size_t)r;
		if (s->stage == 0 && has(s, "Welcome!\n"))
			s->stage = 1;
		else if (s->stage == 2 && has(s, "Hello, bench!\n")) {
			tls_done(s);
			return;
		}
	}
	tls_wait(s, r);
}

/* One readiness event on a TCP slot. */
static void
slot_event(struct slot *s, uint32_t events)
{
	ssize_t n;

	if (tls) {
		tls_event(s);
		return;
	}
	if (!s->opened) {
		send_proxy_header(s, events);
		return;
	}
	if (mode == M_ECHO && s->stage == 0) {
		if (connect_failed(s))
			return;
		if (events & EPOLLOUT) {
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
			errno = 0;
			if (send_line(s) == -1)
				return;
			s->stage = 1;
			(void)epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
		}
		return;
	}
	for (;;) {
		if (s->got == sizeof(s->buf))
			s->got = 0;	/* only the tail matters */
		n = recv(s->fd, s->buf + s->got, sizeof(s->buf) - s->got, 0);
		if (n == -1) {
			if (errno == EAGAIN)
				return;
			slot_fail(s, err_kind(errno));
			return;
		}
		if (n == 0) {
			if (mode == M_EOF && s->got > 0)
				slot_done(s);
			else
				slot_fail(s, E_SHORT);
			return;
		}
		s->got += n;
		switch (mode) {
		case M_HELLO:
			if (s->stage == 0 && has(s, "Welcome!\n")) {
				s->stage = 1;
				s->got = 0;
				errno = 0;
				if (send_line(s) == -1)
					return;
			} else if (s->stage == 1 && has(s, "Hello, bench!\n")) {
				slot_done(s);
				return;
			}
			break;
		case M_ECHO:
			if (s->got >= sizeof(LINE) - 1) {
				slot_done(s);
				return;
			}
			break;
		case M_HOLD:
			if (s->stage == 0 && has(s, "Welcome!\n")) {
				s->stage = 1;
				record(now_us() - s->start);
				done_ok++;
			}
			break;
		default:
			break;
		}
	}
}

static void
expire(struct slot *slots, int conc, long long now)
{
	for (int i = 0; i < conc; i++)
		if (slots[i].fd != -1 && now - slots[i].start > CONN_TIMEOUT_US &&
		    !(mode == M_HOLD && slots[i].stage == 1))
			slot_fail(&slots[i], E_TIMEOUT);
}

static unsigned long
errs_total(void)
{
	unsigned long n = 0;

	for (int k = 0; k < E_NKINDS; k++)
		n += errs[k];
	return n;
}

/*
 * Hold mode starts each slot once, in order, while fewer than HOLD_PENDING
 * wait for their welcome (a held client that fails later counts twice,
 * which only lets one more start early).
 */
static void
hold_start(struct slot *slots, int conc)
{
	while (started < (unsigned long)conc &&
	    (long)(started - done_ok - errs_total()) < HOLD_PENDING)
		slot_start(&slots[started]);
}

static void
run_tcp(int conc, long long deadline)
{
	struct slot *slots = calloc(conc, sizeof(*slots));
	struct epoll_event evs[256];
	long long last_scan = now_us();
	bool announced = false;

	if (slots == NULL) {
		perror("loadgen");
		exit(1);
	}
	for (int i = 0; i < conc; i++)
		slots[i].fd = -1;
	while (!stop) {
		long long now = now_us();
		int live = 0;

		if (now >= deadline)
			break;
		if (mode == M_HOLD)
			hold_start(slots, conc);
		else
			for (int i = 0; i < conc; i++) {
				if (slots[i].fd == -1 && started < total)
					slot_start(&slots[i]);
				live += slots[i].fd != -1;
			}
		if (mode == M_HOLD && !announced && done_ok + errs_total() >=
		    (unsigned long)conc) {
			printf("held %lu\n", done_ok);
			fflush(stdout);
			announced = true;
		}
		if (live == 0 && mode != M_HOLD)
			break;
		int n = epoll_wait(epfd, evs, 256, 100);
		for (int i = 0; i < n; i++) {
			struct slot *s = evs[i].data.ptr;
			if (s->fd != -1)
				slot_event(s, evs[i].events);
		}
		if (now - last_scan > 100000) {
			expire(slots, conc, now);
			last_scan = now;
		}
	}
	for (int i = 0; i < conc; i++) {
		slot_close(&slots[i]);
		SSL_SESSION_free(slots[i].sess);
	}
	free(slots);
}

/*
 * Datagrams carry "bench <slot> <seq>"; replies may wrap them ("Echo: ...!").
 * Replies are taken and the next requests sent in batches, so that the
 * server, not this client, is the bottleneck.
 */
#define UDP_BATCH 64
#define UDP_MSG 64

struct udpslot {
	long long sent;
	unsigned seq;
};

struct udpout {
	struct mmsghdr hdr[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	char msg[UDP_BATCH][UDP_MSG];
	int n;
};

static void
udp_queue(struct udpout *o, struct udpslot *slots, int i, long long now)
{
	int len = snprintf(o->msg[o->n], UDP_MSG, "bench %d %u", i, ++slots[i].seq);

	slots[i].sent = now;
	started++;
	o->iov[o->n] = (struct iovec){ o->msg[o->n], len };
	o->hdr[o->n].msg_hdr = (struct msghdr){ .msg_iov = &o->iov[o->n],
	    .msg_iovlen = 1 };
	o->n++;
}

static void
udp_flush(int fd, struct udpout *o)
{
	int sent = 0, r;

	while (sent < o->n) {
		r = sendmmsg(fd, o->hdr + sent, o->n - sent, 0);
		if (r == -1) {
			errs[err_kind(errno)]++;
			sent++;
		} else
			sent += r;
	}
	o->n = 0;
}

static void
run_udp(int conc, long long deadline)
{
	static struct mmsghdr in[UDP_BATCH];
	static struct iovec iin[UDP_BATCH];
	static char buf[UDP_BATCH][2048];
	static struct udpout out;
	struct udpslot *slots;
	int fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rcvbuf = 4 << 20;
	struct epoll_event ev = { .events = EPOLLIN };
	long long last_scan = now_us(), now;

	if (fd == -1 || connect(fd, (struct sockaddr *)&dst, dstlen) == -1 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1 ||
	    (slots = calloc(conc, sizeof(*slots))) == NULL) {
		perror("loadgen: udp");
		exit(1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	now = now_us();
	for (int i = 0; i < conc; i++) {
		udp_queue(&out, slots, i, now);
		if (out.n == UDP_BATCH)
			udp_flush(fd, &out);
	}
	udp_flush(fd, &out);
	while (!stop && done_ok < total) {
		int n;

		if ((now = now_us()) >= deadline)
			break;
		if (epoll_wait(epfd, &ev, 1, 50) == -1 && errno != EINTR)
			break;
		for (int i = 0; i < UDP_BATCH; i++) {
			iin[i] = (struct iovec){ buf[i], sizeof(buf[i]) - 1 };
			in[i].msg_hdr = (struct msghdr){ .msg_iov = &iin[i],
			    .msg_iovlen = 1 };
		}
		while ((n = recvmmsg(fd, in, UDP_BATCH, MSG_DONTWAIT, NULL)) > 0) {
			now = now_us();
			for (int k = 0; k < n; k++) {
				char *p;
				int i;
				unsigned seq;
				buf[k][in[k].msg_len] = '\0';
				if ((p = strstr(buf[k], "bench ")) == NULL ||
				    sscanf(p, "bench %d %u", &i, &seq) != 2 || i < 0 ||
				    i >= conc || seq != slots[i].seq) {
					errs[E_SHORT]++;
					continue;
				}
				record(now - slots[i].sent);
				done_ok++;
				if (started < total)
					udp_queue(&out, slots, i, now);
			}
			udp_flush(fd, &out);
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			errs[err_kind(errno)]++;
		now = now_us();
		if (now - last_scan > 100000) {
			for (int i = 0; i < conc; i++)
				if (now - slots[i].sent > UDP_TIMEOUT_US) {
					errs[E_TIMEOUT]++;
					udp_queue(&out, slots, i, now);
					if (out.n == UDP_BATCH)
						udp_flush(fd, &out);
				}
			udp_flush(fd, &out);
			last_scan = now;
		}
	}
	free(slots);
	close(fd);
}

/*
 * The bulk modes, one blocking connection at a time: up sends TOTAL MiB,
 * half-closes (close_notify through TLS) and wants the sink's "got BYTES";
 * down reads the source's TOTAL MiB to the end. 0, or the error's kind.
 */
#define BULK_CHUNK 65536

static ssize_t
bulk_io(SSL *ssl, int fd, void *buf, size_t len, bool out)
{
	int r;

	if (ssl == NULL)
		return out ? send(fd, buf, len, MSG_NOSIGNAL) : recv(fd, buf, len, 0);
	errno = 0;
	r = out ? SSL_write(ssl, buf, (int)len) : SSL_read(ssl, buf, (int)len);
	if (r > 0)
		return r;
	r = SSL_get_error(ssl, r);
	ERR_clear_error();
	if (r == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (r == SSL_ERROR_SYSCALL && errno == 0)
		return 0;	/* the end, without close_notify */
	if (r != SSL_ERROR_SYSCALL)
		errno = EPROTO;
	return -1;
}

/* The connection made, blocking, with the time left as its timeouts. */
static int
bulk_connect(long long deadline)
{
	long long left = deadline - now_us();
	struct timeval tv = { .tv_sec = left / 1000000, .tv_usec = left % 1000000 };
	struct pollfd p = { .events = POLLOUT };
	int e = 0;
	socklen_t el = sizeof(e);

	if (left <= 0 || (p.fd = tcp_open()) == -1)
		return -1;
	if (poll(&p, 1, (int)(left / 1000)) != 1 ||
	    getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1 || e ||
	    fcntl(p.fd, F_SETFL, 0) == -1 ||
	    setsockopt(p.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(p.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		close(p.fd);
		errno = e ? e : ETIMEDOUT;
		return -1;
	}
	return p.fd;
}

static enum err
bulk_kind(void)
{
	return errno == EAGAIN ? E_TIMEOUT : errno == EPROTO ? E_OTHER : err_kind(errno);
}

/* Moves the bytes of one connection; -1 with errno, or the bytes that
 * came back (down: the source's; up: what the sink counted). */
static long long
bulk_move(SSL *ssl, int fd, unsigned long long want)
{
	static char buf[BULK_CHUNK];
	unsigned long long moved = 0, got = 0;
	ssize_t n;

	for (; mode == M_UP && moved < want; moved += (size_t)n)
		if ((n = bulk_io(ssl, fd, buf, want - moved < sizeof(buf) ?
		    want - moved : sizeof(buf), true)) <= 0)
			return -1;
	if (mode == M_UP && (ssl ? SSL_shutdown(ssl) < 0 : shutdown(fd, SHUT_WR) == -1))
		return -1;
	while ((n = bulk_io(ssl, fd, buf + (mode == M_UP ? got : 0),
	    mode == M_UP ? sizeof(buf) - 1 - got : sizeof(buf), false)) > 0)
		got += (size_t)n;
	if (n == -1)
		return -1;
	if (mode == M_UP) {
		buf[got] = '\0';
		if (sscanf(buf, "got %llu", &got) != 1)
			return 0;
	}
	return (long long)got;
}

static void
bulk_one(long long deadline)
{
	unsigned long long want = (unsigned long long)total << 20;
	long long start = now_us(), got;
	SSL *ssl = NULL;
	int fd;

	started++;
	if ((fd = bulk_connect(deadline)) == -1) {
		errs[err_kind(errno)]++;
		return;
	}
	if (tls && ((ssl = SSL_new(tls)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    SSL_connect(ssl) != 1)) {
		ERR_clear_error();
		errs[E_OTHER]++;
	} else if ((got = bulk_move(ssl, fd, want)) == -1)
		errs[bulk_kind()]++;
	else if ((unsigned long long)got != want)
		errs[E_SHORT]++;
	else {
		record(now_us() - start);
		done_ok++;
	}
	SSL_free(ssl);
	close(fd);
}

/* The bulk modes' handlers: the sink counts its input, the source writes. */
static int
sink(void)
{
	static char buf[BULK_CHUNK];
	unsigned long long n = 0;
	ssize_t r;

	while ((r = read(0, buf, sizeof(buf))) > 0)
		n += (size_t)r;
	if (r == -1)
		return 1;
	printf("got %llu\n", n);
	return fflush(stdout) == 0 ? 0 : 1;
}

static void put(int fd, const void *p, size_t len);

static int
source(long mib)
{
	static char buf[BULK_CHUNK];

	for (long i = 0; i < mib * (1 << 20) / BULK_CHUNK; i++)
		put(1, buf, sizeof(buf));
	return 0;
}

static void
freeports(int n)
{
	for (int i = 0; i < n; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		socklen_t len = sizeof(sin);
		int t = socket(AF_INET, SOCK_STREAM, 0), u;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(t, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    getsockname(t, (struct sockaddr *)&sin, &len) == -1)
			exit(1);
		u = socket(AF_INET, SOCK_DGRAM, 0);
		if (bind(u, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
			close(u);
			close(t);
			i--;
			continue;
		}
		/* Both stay open until exit, so the N ports are distinct. */
		printf("%u\n", ntohs(sin.sin_port));
	}
}

/* One process's share of the load. */
static void
run(int conc, long long deadline)
{
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("loadgen: epoll");
		exit(1);
	}
	if (mode == M_UDP)
		run_udp(conc, deadline);
	else if (mode == M_UP || mode == M_DOWN)
		for (int i = 0; i < conc && !stop; i++)
			bulk_one(deadline);
	else
		run_tcp(conc, deadline);
}

static void
put(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t w = write(fd, c, len);
		if (w <= 0)
			_exit(1);
		c += w;
		len -= (size_t)w;
	}
}

static int
get(int fd, void *p, size_t len)
{
	char *c = p;

	while (len > 0) {
		ssize_t r = read(fd, c, len);
		if (r <= 0)
			return -1;
		c += r;
		len -= (size_t)r;
	}
	return 0;
}

/*
 * Forks procs workers, each with its share of the clients and of the total
 * and its own source addresses, and merges what they report over a pipe:
 * how long it ran, counts, then every latency. Returns the longest run in µs.
 */
static long long
run_workers(int procs, int conc, long long deadline)
{
	long long start = now_us(), longest = 0;
	int fds[MAX_PROCS];
	pid_t pids[MAX_PROCS];
	unsigned long all = total;

	for (int w = 0; w < procs; w++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) == -1 || (pids[w] = fork()) == -1) {
			perror("loadgen: worker");
			exit(1);
		}
		if (pids[w] == 0) {
			close(p[0]);
			total = all / procs + ((unsigned long)w < all % procs);
			src_next = SRC_FIRST + w * (SRC_LAST - SRC_FIRST + 1) / procs;
			run(conc / procs + (w < conc % procs), deadline);
			longest = now_us() - start;
			put(p[1], &longest, sizeof(longest));
			put(p[1], &done_ok, sizeof(done_ok));
			put(p[1], &resumed, sizeof(resumed));
			put(p[1], errs, sizeof(errs));
			put(p[1], &nlat, sizeof(nlat));
			put(p[1], lat, nlat * sizeof(*lat));
			_exit(0);
		}
		close(p[1]);
		fds[w] = p[0];
	}
	for (int w = 0; w < procs; w++) {
		unsigned long ok, re, e[E_NKINDS];
		long long took, *us;
		size_t n;

		if (get(fds[w], &took, sizeof(took)) == -1 ||
		    get(fds[w], &ok, sizeof(ok)) == -1 ||
		    get(fds[w], &re, sizeof(re)) == -1 ||
		    get(fds[w], e, sizeof(e)) == -1 ||
		    get(fds[w], &n, sizeof(n)) == -1) {
			fprintf(stderr, "loadgen: worker %d failed\n", w);
			exit(1);
		}
		if (took > longest)
			longest = took;
		done_ok += ok;
		resumed += re;
		for (int k = 0; k < E_NKINDS; k++)
			errs[k] += e[k];
		if ((us = malloc(n * sizeof(*us) + 1)) == NULL ||
		    get(fds[w], us, n * sizeof(*us)) == -1) {
			fprintf(stderr, "loadgen: worker %d: latencies lost\n", w);
			exit(1);
		}
		for (size_t i = 0; i < n; i++)
			record(us[i]);
		free(us);
		close(fds[w]);
		waitpid(pids[w], NULL, 0);
	}
	return longest;
}

/* One GET /metrics read to EOF: the answer's size, or -1 if it failed. */
static long
scrape_once(void)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	char buf[65536];
	long size = 0;
	bool ok = false;
	ssize_t r;
	int fd = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&dst, dstlen) == -1 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		close(fd);
		return -1;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		/* "HTTP/1.x 200": the first read holds the status line. */
		if (size == 0)
			ok = r >= 12 && memcmp(buf + 8, " 200", 4) == 0;
		size += r;
	}
	close(fd);
	return r == 0 && ok ? size : -1;
}

static int
scrape_loop(long interval_ms)
{
	unsigned long n = 0, failed = 0;
	long last = 0;
	struct rusage ru;

	while (!stop) {
		long got = scrape_once();
		struct timespec ts = {
			.tv_sec = interval_ms / 1000,
			.tv_nsec = interval_ms % 1000 * 1000000L
		};
		if (stop)	/* SIGTERM cut this one short */
			break;
		if (got < 0)
			failed++;
		else
			n++, last = got;
		nanosleep(&ts, NULL);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("scrapes=%lu scrape_bytes=%ld scrape_failed=%lu scraper_cpu_us=%lld\n", n, last, failed,
	    (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	return failed ? 1 : 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen host port tcp|udp concurrency total seconds "
	    "hello|proxyhello|eof|echo|hold|udp|tlshello|tlsresumed|up|down|tlsup|tlsdown"
	    " [procs]\n       loadgen freeport n\n"
	    "       loadgen scrape host port interval_ms\n"
	    "       loadgen sink | loadgen source mib\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct rlimit rl;
	long long t0, t1;
	double secs;
	int conc, procs;

	if (argc == 3 && strcmp(argv[1], "freeport") == 0) {
		freeports(atoi(argv[2]));
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "sink") == 0)
		return sink();
	if (argc == 3 && strcmp(argv[1], "source") == 0 && atol(argv[2]) > 0)
		return source(atol(argv[2]));
	if (argc == 5 && strcmp(argv[1], "scrape") == 0) {
		long ms = atol(argv[4]);
		if (ms < 1 || ms > 60000 || parse_dst(argv[2], argv[3]) == -1)
			usage();
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		return scrape_loop(ms);
	}
	if (argc != 8 && argc != 9)
		usage();
	if (parse_dst(argv[1], argv[2]) == -1) {
		fprintf(stderr, "loadgen: %s port %s: loopback addresses only\n",
		    argv[1], argv[2]);
		return 2;
	}
	conc = atoi(argv[4]);
	total = strtoul(argv[5], NULL, 10);
	secs = atof(argv[6]);
	procs = argc == 9 ? atoi(argv[8]) : 1;
	if (conc < 1 || conc > 100000 || total < 1 || secs <= 0 || secs > 600 ||
	    procs < 1 || procs > MAX_PROCS || procs > conc)
		usage();
	if (strcmp(argv[7], "hello") == 0) mode = M_HELLO;
	else if (strcmp(argv[7], "proxyhello") == 0) mode = M_HELLO, proxy = true;
	else if (strcmp(argv[7], "eof") == 0) mode = M_EOF;
	else if (strcmp(argv[7], "echo") == 0) mode = M_ECHO;
	else if (strcmp(argv[7], "hold") == 0) mode = M_HOLD;
	else if (strcmp(argv[7], "udp") == 0) mode = M_UDP;
	else if (strcmp(argv[7], "tlshello") == 0) mode = M_HELLO, tls_init();
	else if (strcmp(argv[7], "tlsresumed") == 0)
		mode = M_HELLO, resume = true, tls_init();
	else if (strcmp(argv[7], "up") == 0) mode = M_UP;
	else if (strcmp(argv[7], "down") == 0) mode = M_DOWN;
	else if (strcmp(argv[7], "tlsup") == 0) mode = M_UP, tls_init();
	else if (strcmp(argv[7], "tlsdown") == 0) mode = M_DOWN, tls_init();
	else usage();
	if ((mode == M_UDP) != (strcmp(argv[3], "udp") == 0) ||
	    (mode == M_HOLD && procs > 1))
		usage();

	/* Room for every client socket. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	t0 = now_us();
	if (procs == 1) {
		run(conc, t0 + (long long)(secs * 1e6));
		t1 = now_us();
	} else
		t1 = t0 + run_workers(procs, conc, t0 + (long long)(secs * 1e6));

	qsort(lat, nlat, sizeof(*lat), cmp_ll);
	/* The bulk modes' rate is in MiB/s. */
	printf("rate=%.0f ok=%lu secs=%.3f p50_us=%lld p99_us=%lld max_us=%lld",
	    mode == M_HOLD ? 0.0 : done_ok * (mode == M_UP || mode == M_DOWN ?
	    (double)total : 1.0) / ((t1 - t0) / 1e6), done_ok,
	    (t1 - t0) / 1e6, nlat ? lat[nlat / 2] : 0,
	    nlat ? lat[nlat * 99 / 100] : 0, nlat ? lat[nlat - 1] : 0);
	for (int k = 0; k < E_NKINDS; k++)
		printf(" %s=%lu", err_names[k], errs[k]);
	if (resume)
		printf(" resumed=%lu", resumed);
	printf("\n");
	return 0;
}
