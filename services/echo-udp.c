/*
 * echo-udp - sockd datagram handler ("wait" style): fd 0 is the service's
 * bound, unconnected UDP socket.  Every datagram D is answered to its sender
 * with "Echo: D!".  After an idle period with no datagram (argv[1] seconds,
 * default 10) the handler exits so that sockd watches the socket again.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
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

	if (argc > 2 || (argc == 2 && (idle_ms = parse_idle(argv[1])) < 0)) {
		fprintf(stderr, "usage: echo-udp [idle-seconds]\n");
		return 2;
	}
	memcpy(buf, prefix, PREFIX_LEN);

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
