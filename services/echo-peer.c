/*
 * echo-peer - sockd datagram handler with a process per peer (protocol =
 * "udp", wait = false): fd 0 gives the datagrams of one peer, one per
 * read(), and each write() to fd 1 is one datagram back to that peer.
 * Every datagram D is answered with "Echo: D!", as echo-udp answers it.
 * It ends when its stdin does: sockd ends it after the service's
 * idle_timeout without a datagram. Its fds 0 and 1 may be a UDP socket
 * connected to its peer (sockd-handler(7)): a peer whose port has closed
 * is then reported (ECONNREFUSED) by the next read() or write(), and the
 * peer may come back on that port, so that is no reason to end.
 *
 * sockd's master keeps its UDP built-ins from answering a service port,
 * but an exec'd handler guards its own replies: nothing is answered to a
 * privileged port (the classic services live there) or to our own port
 * on our own address, where the answer would come straight back to us.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECV_MAX 65536
/* The largest payload a UDP datagram can carry over IPv4. */
#define REPLY_MAX 65507

static const char prefix[] = "Echo: ", suffix[] = "!";
#define PREFIX_LEN (sizeof prefix - 1)
#define SUFFIX_LEN (sizeof suffix - 1)

/* Whether the peer sockd names in the environment must go unanswered. */
static int unsafe_peer(void)
{
	const char *rport = getenv("UDPREMOTEPORT"), *lport = getenv("UDPLOCALPORT");
	const char *rip = getenv("UDPREMOTEIP"), *lip = getenv("UDPLOCALIP");

	if (rport == NULL || atoi(rport) < 1024)
		return 1;
	return lport && rip && lip && strcmp(rport, lport) == 0 &&
	    strcmp(rip, lip) == 0;
}

int main(void)
{
	/* The datagram is read right behind the prefix: no copying. */
	static char buf[PREFIX_LEN + RECV_MAX + SUFFIX_LEN];
	ssize_t got;

	if (unsafe_peer())
		return 0;
	memcpy(buf, prefix, PREFIX_LEN);
	while ((got = read(STDIN_FILENO, buf + PREFIX_LEN, RECV_MAX)) != 0) {
		size_t len = (size_t)got;

		if (got < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			return 1;
		}
		if (len > REPLY_MAX - PREFIX_LEN - SUFFIX_LEN)
			len = REPLY_MAX - PREFIX_LEN - SUFFIX_LEN;
		memcpy(buf + PREFIX_LEN + len, suffix, SUFFIX_LEN);
		while (write(STDOUT_FILENO, buf, PREFIX_LEN + len + SUFFIX_LEN) < 0)
			if (errno == ECONNREFUSED)
				break;	/* lost, as it would be unreported */
			else if (errno != EINTR)
				return errno == EPIPE ? 0 : 1;
	}
	return 0;
}
