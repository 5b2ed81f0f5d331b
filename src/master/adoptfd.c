/*
 * What an upgrade's new image inherited (adoptfd.h): found in
 * /proc/self/fd, checked with the kernel, the rest closed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "adoptfd.h"

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
