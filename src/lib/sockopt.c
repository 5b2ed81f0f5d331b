/*
 * Socket options: which are set before bind(2), which on the listening
 * socket (Linux copies them to every accepted connection, so a handler's
 * fd 0 has them without a system call per connection), and which a kept
 * socket can take on a reload. Never logs and never decides whether an
 * option is allowed for a service (the loader does).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sockopt.h"

/* The kernel's defaults, for a keepalive setting a reload removes. */
static int
sysctl_int(const char *path, int fallback)
{
	FILE *fp = fopen(path, "re");
	int v;

	if (fp == NULL)
		return fallback;
	if (fscanf(fp, "%d", &v) != 1 || v < 1)
		v = fallback;
	fclose(fp);
	return v;
}

static int
set(int fd, int level, int name, int v, const char *what, const char **failed)
{
	if (setsockopt(fd, level, name, &v, sizeof(v)) == 0)
		return 0;
	*failed = what;
	return -1;
}

int
sockopt_bind(int fd, const struct sockopts *so, const char **failed)
{
	if (so->reuseport &&
	    set(fd, SOL_SOCKET, SO_REUSEPORT, 1, "reuseport", failed) == -1)
		return -1;
	if (so->freebind &&
	    set(fd, IPPROTO_IP, IP_FREEBIND, 1, "freebind", failed) == -1)
		return -1;
	if (so->interface[0] && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE,
	    so->interface, strlen(so->interface)) == -1) {
		*failed = "interface";
		return -1;
	}
	return 0;
}

static int
keepalive(int fd, const struct sockopts *so, const char **failed)
{
	int idle = so->keepidle ? (int)so->keepidle :
	    sysctl_int("/proc/sys/net/ipv4/tcp_keepalive_time", 7200);
	int intvl = so->keepintvl ? (int)so->keepintvl :
	    sysctl_int("/proc/sys/net/ipv4/tcp_keepalive_intvl", 75);
	int cnt = so->keepcnt ? (int)so->keepcnt :
	    sysctl_int("/proc/sys/net/ipv4/tcp_keepalive_probes", 9);

	if (set(fd, SOL_SOCKET, SO_KEEPALIVE, so->keepalive, "keepalive",
	    failed) == -1)
		return -1;
	if (!so->keepalive)
		return 0;
	if (set(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle, "keepalive_idle",
	    failed) == -1 ||
	    set(fd, IPPROTO_TCP, TCP_KEEPINTVL, intvl, "keepalive_interval",
	    failed) == -1 ||
	    set(fd, IPPROTO_TCP, TCP_KEEPCNT, cnt, "keepalive_count",
	    failed) == -1)
		return -1;
	return 0;
}

int
sockopt_live(int fd, const struct sockopts *so, bool stream,
    const char **failed)
{
	if (so->rcvbuf &&
	    set(fd, SOL_SOCKET, SO_RCVBUF, so->rcvbuf, "rcvbuf", failed) == -1)
		return -1;
	if (so->sndbuf &&
	    set(fd, SOL_SOCKET, SO_SNDBUF, so->sndbuf, "sndbuf", failed) == -1)
		return -1;
	if (!stream)
		return 0;
	if (keepalive(fd, so, failed) == -1 ||
	    set(fd, IPPROTO_TCP, TCP_NODELAY, so->nodelay, "nodelay",
	    failed) == -1 ||
	    set(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, so->defer_accept,
	    "defer_accept", failed) == -1 ||
	    set(fd, IPPROTO_TCP, TCP_FASTOPEN, so->fastopen, "fastopen",
	    failed) == -1)
		return -1;
	return 0;
}

bool
sockopt_needs_rebind(const struct sockopts *a, const struct sockopts *b,
    const char **which)
{
	if (a->reuseport != b->reuseport)
		*which = "reuseport";
	else if (a->freebind != b->freebind)
		*which = "freebind";
	else if (strcmp(a->interface, b->interface) != 0)
		*which = "interface";
	else if (a->rcvbuf && !b->rcvbuf)
		*which = "rcvbuf";
	else if (a->sndbuf && !b->sndbuf)
		*which = "sndbuf";
	else
		return false;
	return true;
}
