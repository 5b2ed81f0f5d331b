/*
 * A per-peer UDP handler's own socket (udphand.h). Measured against the
 * relay in tests/bench/README.md, "Run K".
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>

#include "addr.h"
#include "udphand.h"

bool
udphand_wanted(const struct svc_conf *sc)
{
	if (!sc->per_peer || !sc->peer_socket || sc->so.reuseport ||
	    sc->so.interface[0] || sc->jail)
		return false;
	for (size_t i = 0; i < sc->naddrs; i++)
		if (addr_is_any(&sc->addrs[i]))
			return false;	/* answers must leave from the address
					 * written to: connect() would pick one */
	return true;
}

static int
close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
	return -1;
}

bool
udphand_port_free(const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;
	bool free;

	if (fd == -1)
		return false;
	if (sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	free = bind(fd, sa, len) == 0;
	close(fd);
	return free;
}

/* A socket bound, with SO_REUSEPORT, to the address of the service socket
 * lfd, with its IPV6_V6ONLY: a member of its port's group. */
static int
member(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss), olen = sizeof(int);
	int one = 1, only = 0, s;

	if (getsockname(lfd, (struct sockaddr *)&ss, &len) == -1 ||
	    (ss.ss_family == AF_INET6 && getsockopt(lfd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &only, &olen) == -1))
		return -1;
	/* Blocking, as a handler expects its fds 0 and 1. */
	if ((s = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if ((ss.ss_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6,
	    IPV6_V6ONLY, &only, sizeof(only)) == -1) ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
	    bind(s, (struct sockaddr *)&ss, len) == -1)
		return close_keep_errno(s);
	return s;
}

/*
 * The group's program: one classic BPF instruction, "return 0", the index
 * of the group's first member, the service socket (it is bound first and,
 * the kernel filling a leaver's slot with the last member, keeps its
 * slot). Without it the kernel would spread datagrams over the members by
 * a hash of the addresses, and a handler's socket between its bind() and
 * its connect() would take some. This is no syscall filter (those are
 * libseccomp's, cfgseccomp.c); no kernel mechanism without a program
 * picks one member (SO_INCOMING_CPU only prefers one on a given CPU).
 */
int
udphand_group(int fd)
{
	static struct sock_filter first[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { 1, first };
	int on = 0;
	socklen_t len = sizeof(on);

	if (getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, &len) == -1)
		return -1;
	if (!on) {
		errno = EINVAL;
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
	    sizeof(prog)) == -1)
		return -1;
	return member(fd);
}

/* The feeding socket: local's address, any port, sending to local. */
static int
feeder(const struct sockaddr *local, socklen_t len)
{
	struct sockaddr_storage ss;
	int f = socket(local->sa_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (f == -1)
		return -1;
	memcpy(&ss, local, len);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	if (bind(f, (struct sockaddr *)&ss, len) == -1 ||
	    connect(f, local, len) == -1)
		return close_keep_errno(f);
	return f;
}

int
udphand_open(int lfd, int *anchor, int *feed, bool *stray)
{
	int s, a, f = udphand_feeder(lfd);
	int n;

	if (f == -1)
		return -1;
	/* s joins through the anchor, the next anchor through s, while both
	 * are unconnected members of the group. */
	if ((s = member(lfd)) == -1)
		return close_keep_errno(f);
	if ((a = member(lfd)) == -1 || udphand_to_feed(s, f) == -1) {
		if (a != -1)
			close(a);
		close_keep_errno(f);
		return close_keep_errno(s);
	}
	close(*anchor);
	*anchor = a;
	*feed = f;
	*stray = recv(s, &n, sizeof(n), MSG_PEEK | MSG_DONTWAIT) >= 0;
	return s;
}

int
udphand_feeder(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(lfd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return feeder((struct sockaddr *)&ss, len);
}

int
udphand_to_feed(int s, int feed)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(feed, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return connect(s, (struct sockaddr *)&ss, len);
}

int
udphand_to_peer(int s, const struct sockaddr *peer, socklen_t len)
{
	return connect(s, peer, len);
}
