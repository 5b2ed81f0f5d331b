/*
 * The listening sockets this process inherited (inherit.h): systemd's,
 * read from the environment, and an upgrade's, added by adopt.c; each
 * described by the kernel and claimed by one rule. The sockets systemd
 * passed stay open for the daemon's life, so a service that a reload
 * binds anew takes its socket again; those services get copies. Never
 * binds, and never decides what a mismatch means for the daemon (master.c
 * and reload.c do).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "inherit.h"

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

/* A UNIX-domain socket's name as the configuration writes it ("@name":
 * abstract); -1 if it has none or it is too long. */
static int
local_name(const struct sockaddr_un *sun, socklen_t len, char path[UNIXSOCK_PATH_MAX])
{
	size_t n = len > offsetof(struct sockaddr_un, sun_path) ?
	    len - offsetof(struct sockaddr_un, sun_path) : 0;

	if (n == 0 || n >= UNIXSOCK_PATH_MAX)
		return -1;
	if (sun->sun_path[0] == '\0') {
		path[0] = '@';
		memcpy(path + 1, sun->sun_path + 1, n - 1);
		path[n] = '\0';
	} else
		snprintf(path, UNIXSOCK_PATH_MAX, "%.*s", (int)n, sun->sun_path);
	return 0;
}

/* What the kernel says p->fd is: type and bound address; -1 if it is no
 * IP or UNIX-domain socket. */
static int
describe(struct inherited_sock *p)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(p->type);

	if (getsockopt(p->fd, SOL_SOCKET, SO_TYPE, &p->type, &len) == -1)
		return -1;
	len = sizeof(ss);
	if (getsockname(p->fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	p->local = ss.ss_family == AF_UNIX;
	if (p->local ? local_name((struct sockaddr_un *)&ss, len, p->path) :
	    addr_from_sockaddr((struct sockaddr *)&ss, &p->addr, &p->port)) {
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
	return strndup(s, len < INHERIT_NAME_MAX ? len : INHERIT_NAME_MAX - 1);
}

/* A new zeroed entry at the end; NULL without memory. */
static struct inherited_sock *
grow(struct inherited *in)
{
	struct inherited_sock *s = realloc(in->s, (in->n + 1) * sizeof(*s));

	if (s == NULL)
		return NULL;
	in->s = s;
	memset(&s[in->n], 0, sizeof(*s));
	s[in->n].fd = -1;
	return &s[in->n++];
}

/* The systemd socket at fd: kept, close-on-exec, non-blocking, an IP one. */
static int
take_systemd(struct inherited *in, int fd, const char *names, long i)
{
	struct inherited_sock *p = grow(in);
	int fl;

	if (p == NULL)
		return -1;
	p->fd = fd;
	p->kept = true;
	if ((p->name = name_at(names, i)) == NULL ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 || describe(p) == -1)
		return -1;
	/* systemd's UNIX-domain sockets are not taken (sockd(8)). */
	if (p->local) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return 0;
}

int
inherit_systemd(struct inherited *in)
{
	long pid = number(getenv("LISTEN_PID")), n = number(getenv("LISTEN_FDS"));
	const char *names = getenv("LISTEN_FDNAMES");

	if (pid == (long)getpid() && n > MAX_FDS) {
		errno = E2BIG;
		return -1;
	}
	for (long i = 0; pid == (long)getpid() && i < n; i++)
		if (take_systemd(in, FIRST_FD + (int)i, names, i) == -1)
			return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 0;
}

static bool
fits(const struct inherited_sock *p, int type, const struct addr *addr,
    uint16_t port, const char *path)
{
	if (p->fd == -1 || p->type != type || p->local != (path != NULL))
		return false;
	return path ? strcmp(p->path, path) == 0 :
	    p->port == port && addr_equal(&p->addr, addr);
}

int
inherit_handed(struct inherited *in, int fd, int type, const struct addr *addr,
    uint16_t port, const char *path, const struct unixsock_file *file,
    const char *name, bool kept)
{
	struct inherited_sock *p = grow(in);

	if (p == NULL)
		return -1;
	p->fd = fd;
	p->handed = true;
	p->kept = kept;
	if (file)
		p->file = *file;
	if ((p->name = strdup(name ? name : "")) != NULL && describe(p) == 0 &&
	    fits(p, type, addr, port, path))
		return 0;
	free(p->name);
	in->n--;
	errno = errno == ENOMEM ? ENOMEM : EINVAL;
	return -1;
}

static const char *
type_name(int type)
{
	return type == SOCK_STREAM ? "tcp" : type == SOCK_DGRAM ? "udp" : "?";
}

static void
say(const struct inherited_sock *p, char *buf, size_t len)
{
	char ip[ADDR_STRLEN];

	if (p->local)
		snprintf(ip, sizeof(ip), "unix");
	else
		addr_format(&p->addr, ip);
	snprintf(buf, len, "socket %d%s%s%s (%s %s port %u)", p->fd,
	    p->name[0] ? " \"" : "", p->name, p->name[0] ? "\"" : "",
	    type_name(p->type), p->local ? p->path : ip, p->port);
}

/* A kept socket is lent as a copy; another is given away. */
static int
take(struct inherited_sock *p, struct unixsock_file *file)
{
	int fd = p->kept ? fcntl(p->fd, F_DUPFD_CLOEXEC, FIRST_FD) : p->fd;

	if (fd == -1)
		return -1;
	p->used = true;
	if (file)
		*file = p->kept ? (struct unixsock_file){ 0 } : p->file;
	if (!p->kept)
		p->fd = -1;
	return fd;
}

int
inherit_claim(struct inherited *in, const char *service, int type,
    const struct addr *addr, uint16_t port, const char *path,
    struct unixsock_file *file)
{
	const struct inherited_sock *named = NULL;

	in->why[0] = '\0';
	/* What a service had before the upgrade keeps its descriptor's number,
	 * which the hand-over's other records name (a busy listener). */
	for (size_t i = 0; i < in->n; i++)
		if (!in->s[i].kept && fits(&in->s[i], type, addr, port, path))
			return take(&in->s[i], file);
	for (size_t i = 0; i < in->n; i++)
		if (in->s[i].fd != -1 && strcmp(in->s[i].name, service) == 0) {
			if (fits(&in->s[i], type, addr, port, path))
				return take(&in->s[i], file);
			named = &in->s[i];
		}
	for (size_t i = 0; i < in->n; i++)
		if (fits(&in->s[i], type, addr, port, path))
			return take(&in->s[i], file);
	if (named == NULL)
		return -1;
	say(named, in->why, sizeof(in->why));
	snprintf(in->why + strlen(in->why), sizeof(in->why) - strlen(in->why),
	    " is named after the service but is not this socket");
	return -2;
}

bool
inherit_unused(const struct inherited *in, char *buf, size_t len)
{
	for (size_t i = 0; i < in->n; i++)
		if (in->s[i].kept && !in->s[i].handed && !in->s[i].used) {
			say(&in->s[i], buf, len);
			return true;
		}
	return false;
}

size_t
inherit_settle(struct inherited *in)
{
	size_t kept = 0, closed = 0;

	for (size_t i = 0; i < in->n; i++) {
		struct inherited_sock *p = &in->s[i];
		if (p->kept) {
			in->s[kept++] = *p;
			continue;
		}
		if (p->fd != -1) {
			close(p->fd);
			closed++;
		}
		free(p->name);
	}
	in->n = kept;
	return closed;
}

void
inherit_free(struct inherited *in)
{
	for (size_t i = 0; i < in->n; i++) {
		if (in->s[i].fd != -1)
			close(in->s[i].fd);
		free(in->s[i].name);
	}
	free(in->s);
	memset(in, 0, sizeof(*in));
}
