/*
 * systemd's socket activation, receiving side: reads what was passed,
 * describes each socket by its type and bound address, and matches
 * services to them by name (LISTEN_FDNAMES) or else by protocol, address
 * and port. The passed descriptors stay open for the daemon's life, so a
 * service that a reload binds anew takes its socket again; services get
 * copies. Never binds, and never decides what a mismatch means for the
 * daemon (master.c and reload.c do).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "activation.h"

#define FIRST_FD 3
#define MAX_FDS 1024

/* The unsigned number in s, or -1. */
static long
number(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end ? -1 : v;
}

/* Type and bound address of fd; -1 if it is not an IP socket. */
static int
describe(struct passed *p)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(p->type);

	if (getsockopt(p->fd, SOL_SOCKET, SO_TYPE, &p->type, &len) == -1)
		return -1;
	len = sizeof(ss);
	if (getsockname(p->fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (addr_from_sockaddr((struct sockaddr *)&ss, &p->addr, &p->port) == -1) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return 0;
}

/* The i-th name of LISTEN_FDNAMES (colon-separated), or "". */
static char *
name_at(const char *names, size_t i)
{
	const char *s = names ? names : "";
	size_t len;

	for (; i > 0 && *s; i--)
		s += strcspn(s, ":") + (s[strcspn(s, ":")] == ':');
	len = strcspn(s, ":");
	return strndup(s, len);
}

int
activation_take(struct activation *a)
{
	long pid = number(getenv("LISTEN_PID")), n = number(getenv("LISTEN_FDS"));
	const char *names = getenv("LISTEN_FDNAMES");

	memset(a, 0, sizeof(*a));
	if (pid != (long)getpid() || n <= 0)
		goto out;
	if (n > MAX_FDS || (a->p = calloc(n, sizeof(*a->p))) == NULL) {
		errno = n > MAX_FDS ? E2BIG : errno;
		return -1;
	}
	for (long i = 0; i < n; i++, a->n++) {
		struct passed *p = &a->p[i];
		int fd = FIRST_FD + i, fl;

		p->fd = fd;
		if ((p->name = name_at(names, i)) == NULL ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
		    (fl = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 || describe(p) == -1)
			return -1;
	}
out:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 0;
}

static const char *
type_name(int type)
{
	return type == SOCK_STREAM ? "tcp" : type == SOCK_DGRAM ? "udp" : "?";
}

static void
say(const struct passed *p, char *buf, size_t len)
{
	char ip[ADDR_STRLEN];

	addr_format(&p->addr, ip);
	snprintf(buf, len, "socket %d%s%s%s (%s %s port %u)", p->fd,
	    p->name[0] ? " \"" : "", p->name, p->name[0] ? "\"" : "",
	    type_name(p->type), ip, p->port);
}

static bool
fits(const struct passed *p, int type, const struct addr *addr,
    uint16_t port)
{
	return p->type == type && p->port == port && addr_equal(&p->addr, addr);
}

static int
take(struct passed *p)
{
	int fd = fcntl(p->fd, F_DUPFD_CLOEXEC, FIRST_FD);

	if (fd != -1)
		p->used = true;
	return fd;
}

int
activation_claim(struct activation *a, const char *service, int type,
    const struct addr *addr, uint16_t port)
{
	const struct passed *named = NULL;

	a->why[0] = '\0';
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->p[i].name, service) == 0) {
			if (fits(&a->p[i], type, addr, port))
				return take(&a->p[i]);
			named = &a->p[i];
		}
	for (size_t i = 0; i < a->n; i++)
		if (fits(&a->p[i], type, addr, port))
			return take(&a->p[i]);
	if (named == NULL)
		return -1;
	say(named, a->why, sizeof(a->why));
	snprintf(a->why + strlen(a->why), sizeof(a->why) - strlen(a->why),
	    " is named after the service but is not this socket");
	return -2;
}

bool
activation_unused(const struct activation *a, char *buf, size_t len)
{
	for (size_t i = 0; i < a->n; i++)
		if (!a->p[i].used) {
			say(&a->p[i], buf, len);
			return true;
		}
	return false;
}

void
activation_free(struct activation *a)
{
	for (size_t i = 0; i < a->n; i++) {
		close(a->p[i].fd);
		free(a->p[i].name);
	}
	free(a->p);
	memset(a, 0, sizeof(*a));
}
