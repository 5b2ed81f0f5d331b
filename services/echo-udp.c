/*
 * echo-udp - sockd datagram handler ("wait" style): fd 0 is the service's
 * bound, unconnected UDP socket.  Every datagram D is answered to its sender
 * with "Echo: D!".  After an idle period with no datagram (argv[1] seconds,
 * default 10) the handler exits so that sockd watches the socket again.
 *
 * Like the UDP built-ins of sockd, it never answers what could start a
 * loop or a reflection: a datagram from a privileged port (the classic
 * services such as echo and chargen live there), or one from its own
 * address and port, which would come back to it for ever. sockd's
 * udp_loop_guard keeps the built-ins from answering this handler's port;
 * a handler must guard its own replies.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define IDLE_DEFAULT 10
#define RECV_MAX 65536
/* The largest payload a UDP datagram can carry over IPv4. */
#define REPLY_MAX 65507

static const char prefix[] = "Echo: ", suffix[] = "!";
#define PREFIX_LEN (sizeof prefix - 1)
#define SUFFIX_LEN (sizeof suffix - 1)

/* Returns the idle timeout in milliseconds, or -1 if s is not valid. */
static int parse_idle(const char *s)
{
	char *end;
	long v;

	/* strtol() would also take leading blanks and a sign. */
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || v > INT_MAX / 1000)
		return -1;
	return (int)v * 1000;
}

/* The port of an AF_INET or AF_INET6 address; 0 for any other family. */
static unsigned port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

/* Whether the address of ss is the wildcard, or the same as that of o. */
static int same_or_any(const struct sockaddr_storage *ss,
		       const struct sockaddr_storage *o)
{
	if (ss->ss_family == AF_INET) {
		in_addr_t a = ((const struct sockaddr_in *)ss)->sin_addr.s_addr;
		return a == htonl(INADDR_ANY) || (o->ss_family == AF_INET &&
		    a == ((const struct sockaddr_in *)o)->sin_addr.s_addr);
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		return IN6_IS_ADDR_UNSPECIFIED(a) || (o->ss_family == AF_INET6 &&
		    IN6_ARE_ADDR_EQUAL(a, &((const struct sockaddr_in6 *)o)->sin6_addr));
	}
	return 0;
}

/*
 * Whether a datagram from peer must go unanswered: from a privileged port,
 * or from our own port on our own address (any address, when we are bound
 * to the wildcard), since the answer would come straight back.
 */
static int unsafe_peer(const struct sockaddr_storage *peer,
		       const struct sockaddr_storage *local)
{
	unsigned port = port_of(peer);

	return port < 1024 ||
	       (port == port_of(local) && same_or_any(local, peer));
}

/* Errors that concern one datagram or a past peer, not the socket itself. */
static int transient(int err)
{
	return err == EINTR || err == EAGAIN || err == EWOULDBLOCK ||
	       err == ECONNREFUSED || err == ECONNRESET ||
	       err == EHOSTUNREACH || err == ENETUNREACH;
}

int main(int argc, char **argv)
{
	/* The datagram is received right behind the prefix: no copying. */
	static char buf[PREFIX_LEN + RECV_MAX + SUFFIX_LEN];
	int idle_ms = IDLE_DEFAULT * 1000;
	struct sockaddr_storage local;
	socklen_t locallen = sizeof local;

	if (argc > 2 || (argc == 2 && (idle_ms = parse_idle(argv[1])) < 0)) {
		fprintf(stderr, "usage: echo-udp [idle-seconds]\n");
		return 2;
	}
	memcpy(buf, prefix, PREFIX_LEN);
	if (getsockname(STDIN_FILENO, (struct sockaddr *)&local, &locallen) < 0) {
		fprintf(stderr, "echo-udp: getsockname: %s\n", strerror(errno));
		return 1;
	}

	for (;;) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof peer;
		ssize_t got;
		size_t len;
		int r;

		r = poll(&pfd, 1, idle_ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "echo-udp: poll: %s\n", strerror(errno));
			return 1;
		}
		if (r == 0)
			return 0;
		if (pfd.revents & POLLNVAL) {
			fprintf(stderr, "echo-udp: fd 0 is not open\n");
			return 1;
		}

		/*
		 * Readable need not mean a datagram is still there (Linux drops
		 * one with a bad checksum only now), and blocking here would
		 * defeat the idle timeout.
		 */
		got = recvfrom(STDIN_FILENO, buf + PREFIX_LEN, RECV_MAX,
			       MSG_DONTWAIT, (struct sockaddr *)&peer, &peerlen);
		if (got < 0) {
			if (transient(errno))
				continue;
			fprintf(stderr, "echo-udp: recvfrom: %s\n",
				strerror(errno));
			return 1;
		}

		if (unsafe_peer(&peer, &local))
			continue;

		len = (size_t)got;
		if (len > REPLY_MAX - PREFIX_LEN - SUFFIX_LEN)
			len = REPLY_MAX - PREFIX_LEN - SUFFIX_LEN;
		memcpy(buf + PREFIX_LEN + len, suffix, SUFFIX_LEN);

		/*
		 * A reply that cannot be delivered concerns that one client
		 * only, so its error is dropped; a broken socket shows up in
		 * poll() or recvfrom() instead.
		 */
		while (sendto(STDIN_FILENO, buf, PREFIX_LEN + len + SUFFIX_LEN,
			      MSG_NOSIGNAL, (struct sockaddr *)&peer,
			      peerlen) < 0 && errno == EINTR)
			;
	}
}
