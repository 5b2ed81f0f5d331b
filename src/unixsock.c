/*
 * UNIX-domain listening sockets at a path or an abstract name: stale
 * files replaced, live ones left alone, the file's owner and mode set
 * before anyone can connect, the file removed with the service.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixsock.h"

static socklen_t
unix_addr(const char *path, struct sockaddr_un *sun)
{
	size_t n = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n >= sizeof(sun->sun_path))
		n = sizeof(sun->sun_path) - 1;
	memcpy(sun->sun_path, path, n);
	/* "@name": the abstract namespace, named by a leading NUL. */
	if (path[0] == '@')
		sun->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '@' ? 0 : 1));
}

/*
 * Whether a process listens at the socket file: a connect() that is
 * refused means nobody does (a crash left the file behind). A full
 * backlog (EAGAIN) is somebody.
 */
static bool
live(const struct sockaddr_un *sun, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bool up;

	if (fd == -1)
		return true;
	up = connect(fd, (const struct sockaddr *)sun, len) == 0 ||
	    errno != ECONNREFUSED;
	close(fd);
	return up;
}

/* bind(), replacing a stale socket file once. */
static int
bind_path(int fd, const char *path, const struct sockaddr_un *sun, socklen_t len)
{
	struct stat st;

	if (bind(fd, (const struct sockaddr *)sun, len) == 0)
		return 0;
	if (errno != EADDRINUSE || path[0] == '@')
		return -1;
	if (lstat(path, &st) == -1)
		return -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = ENOTSOCK;
		return -1;
	}
	if (live(sun, len)) {
		errno = EADDRINUSE;
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	return bind(fd, (const struct sockaddr *)sun, len);
}

int
unixsock_perms(const char *path, int mode, uid_t uid, gid_t gid)
{
	if (path[0] == '@')
		return 0;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) == -1)
		return -1;
	if (mode != -1 && chmod(path, (mode_t)mode) == -1)
		return -1;
	return 0;
}

/* The owner and mode are set before listen(): until then nobody connects. */
int
unixsock_listen(const char *path, int backlog, int mode, uid_t uid, gid_t gid,
    struct unixsock_file *f)
{
	struct sockaddr_un sun;
	socklen_t len = unix_addr(path, &sun);
	struct stat st;
	int fd, saved;

	f->made = false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (bind_path(fd, path, &sun, len) == -1)
		goto fail;
	if (path[0] != '@') {
		if (lstat(path, &st) == -1)
			goto fail;
		*f = (struct unixsock_file){ .made = true, .dev = st.st_dev,
		    .ino = st.st_ino };
	}
	if (unixsock_perms(path, mode, uid, gid) == -1 || listen(fd, backlog) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	unixsock_remove(path, f);
	errno = saved;
	return -1;
}

void
unixsock_remove(const char *path, struct unixsock_file *f)
{
	struct stat st;

	if (!f->made)
		return;
	f->made = false;
	/* Another process may have replaced it meanwhile: leave that one. */
	if (lstat(path, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino)
		(void)unlink(path);
}
