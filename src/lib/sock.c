/*
 * Socket helpers: a bound, listening socket with the service's options,
 * accept, the non-blocking switch, the local address. They never log: -1 with errno, and the caller,
 * who knows the service, reports it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include "sock.h"
#include "sockopt.h"

/* Listening sockets are non-blocking so a client that vanishes between
 * readiness and accept() can never stall the master. */
int
sock_listen(int type, const struct sockaddr *sa, socklen_t len, int backlog,
    bool v6only, const struct sockopts *so, const char **failed)
{
	int fd, one = 1, only = v6only;

	fd = socket(sa->sa_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (type == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	/* Set either way: the sysctl default (bindv6only) is not ours to trust. */
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof(only)) == -1)
		goto fail;
	*failed = NULL;
	if (sockopt_bind(fd, so, failed) == -1 ||
	    bind(fd, sa, len) == -1)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, backlog) == -1)
		goto fail;
	if (sockopt_live(fd, so, type == SOCK_STREAM, failed) == -1)
		goto fail;
	return fd;
fail:;
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* The accepted socket is blocking (handlers expect that) but close-on-exec. */
int
sock_accept(int lfd, struct sockaddr_storage *ss, socklen_t *len)
{
	*len = sizeof(*ss);
	return accept4(lfd, (struct sockaddr *)ss, len, SOCK_CLOEXEC);
}

int
sock_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

int
sock_local(int fd, struct sockaddr_storage *ss, socklen_t *len)
{
	*len = sizeof(*ss);
	return getsockname(fd, (struct sockaddr *)ss, len);
}
