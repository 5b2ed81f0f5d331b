/*
 * What an upgrade's new image inherited (adoptfd.h): found in
 * /proc/self/fd, checked with the kernel, the rest closed.
 */
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "adoptfd.h"
#include "upstate.h"

int
adoptfd_scan(struct adoptfd *a, int keep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int *fds;

	memset(a, 0, sizeof(*a));
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name), flags;
		if (fd <= 2 || fd == keep || fd == dirfd(d) ||
		    (flags = fcntl(fd, F_GETFD)) == -1 || (flags & FD_CLOEXEC))
			continue;
		if ((fds = realloc(a->fd, (a->n + 1) * sizeof(*fds))) == NULL) {
			closedir(d);
			free(a->fd);
			memset(a, 0, sizeof(*a));
			errno = ENOMEM;
			return -1;
		}
		a->fd = fds;
		a->fd[a->n++] = fd;
	}
	closedir(d);
	a->known = true;
	return 0;
}

static int *
slot(const struct adoptfd *a, int fd)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->fd[i] == fd)
			return &a->fd[i];
	return NULL;
}

bool
adoptfd_is(const struct adoptfd *a, int fd, int type)
{
	int t;
	socklen_t len = sizeof(t);

	if (a->known && slot(a, fd) == NULL)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &len) == -1)
		return false;
	return type == 0 || t == type;
}

/* The name of a UNIX-domain socket as the configuration writes it. */
static bool
same_path(const struct sockaddr_un *sun, socklen_t len, const char *path)
{
	size_t n = len > offsetof(struct sockaddr_un, sun_path) ?
	    len - offsetof(struct sockaddr_un, sun_path) : 0;

	if (n > 0 && sun->sun_path[0] == '\0')	/* abstract: "@name" */
		return path[0] == '@' && strlen(path + 1) == n - 1 &&
		    memcmp(path + 1, sun->sun_path + 1, n - 1) == 0;
	return n > 0 && strncmp(sun->sun_path, path, n) == 0 &&
	    strlen(path) == strnlen(sun->sun_path, n);
}

bool
adoptfd_listener(const struct adoptfd *a, const struct upstate_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct addr got;
	uint16_t port;

	if (!adoptfd_is(a, l->fd, l->proto == PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) ||
	    getsockname(l->fd, (struct sockaddr *)&ss, &len) == -1)
		return false;
	if (l->proto == PROTO_UNIX)
		return ss.ss_family == AF_UNIX &&
		    same_path((const struct sockaddr_un *)&ss, len, l->path);
	return addr_from_sockaddr((struct sockaddr *)&ss, &got, &port) == 0 &&
	    port == l->port && addr_equal(&got, &l->addr);
}

void
adoptfd_take(struct adoptfd *a, int fd)
{
	int *s = slot(a, fd);

	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (s)
		*s = -1;
}

size_t
adoptfd_rest(struct adoptfd *a)
{
	size_t closed = 0;

	for (size_t i = 0; i < a->n; i++)
		if (a->fd[i] != -1) {
			close(a->fd[i]);
			closed++;
		}
	free(a->fd);
	memset(a, 0, sizeof(*a));
	return closed;
}
