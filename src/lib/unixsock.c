/*
 * UNIX-domain listening sockets at a path or an abstract name: stale
 * files replaced, live ones left alone, the file's owner and mode set
 * before anyone can connect, the file removed with the service. The
 * socket's directory may belong to someone who swaps the file for a
 * symbolic link, so owner and mode are only ever set on the inode bind()
 * made, never through a path that follows links.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
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

/*
 * bind(), with the file born with mode (-1: as the umask leaves it), so no
 * chmod() follows at start-up. The master is single-threaded: nothing
 * else creates files while the umask is changed.
 */
static int
bind_mode(int fd, const struct sockaddr_un *sun, socklen_t len, int mode)
{
	mode_t old;
	int r;

	if (mode == -1)
		return bind(fd, (const struct sockaddr *)sun, len);
	old = umask(~(mode_t)mode & 0777);
	r = bind(fd, (const struct sockaddr *)sun, len);
	(void)umask(old);	/* never fails, nor touches errno */
	return r;
}

/* bind(), replacing a stale socket file once. */
static int
bind_path(int fd, const char *path, const struct sockaddr_un *sun,
    socklen_t len, int mode)
{
	struct stat st;

	if (bind_mode(fd, sun, len, mode) == 0)
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
	return bind_mode(fd, sun, len, mode);
}

/*
 * Records the file bind() just made. When its owner is to be changed, it
 * must be a socket of sockd's user: no other user can make one, so a file
 * put in its place between bind() and lstat() is not taken for sockd's.
 */
static int
record(const char *path, bool owned, struct unixsock_file *f)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return -1;
	if (owned && (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())) {
		errno = ESTALE;
		return -1;
	}
	*f = (struct unixsock_file){ .made = true, .dev = st.st_dev,
	    .ino = st.st_ino };
	return 0;
}

/* Owner and mode of the inode pfd holds (O_PATH). */
static int
set_perms(int pfd, int mode, uid_t uid, gid_t gid)
{
	char proc[32];

	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchownat(pfd, "", uid, gid, AT_EMPTY_PATH) == -1)
		return -1;
	if (mode == -1)
		return 0;
	/* fchmod() refuses an O_PATH descriptor. Its /proc link leads to the
	 * inode checked, whatever the directory holds by now. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	return chmod(proc, (mode_t)mode);
}

int
unixsock_perms(const char *path, const struct unixsock_file *f, int mode,
    uid_t uid, gid_t gid)
{
	struct stat st;
	int pfd, r = -1, saved;

	if (path[0] == '@')
		return 0;
	if (!f->made) {
		errno = ESTALE;
		return -1;
	}
	/* The name itself, a symbolic link included, never its target. */
	if ((pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(pfd, &st) == 0) {
		if (S_ISSOCK(st.st_mode) && st.st_dev == f->dev && st.st_ino == f->ino)
			r = set_perms(pfd, mode, uid, gid);
		else
			errno = ESTALE;
	}
	saved = errno;
	close(pfd);
	errno = saved;
	return r;
}

/*
 * The mode is the file's from birth, the owner is set before listen():
 * until then nobody connects.
 */
int
unixsock_listen(const char *path, int backlog, int mode, uid_t uid, gid_t gid,
    struct unixsock_file *f)
{
	struct sockaddr_un sun;
	socklen_t len = unix_addr(path, &sun);
	bool give = uid != (uid_t)-1 || gid != (gid_t)-1;
	int fd, saved;

	f->made = false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (bind_path(fd, path, &sun, len, path[0] == '@' ? -1 : mode) == -1)
		goto fail;
	if (path[0] != '@' && (record(path, give, f) == -1 ||
	    (give && unixsock_perms(path, f, -1, uid, gid) == -1)))
		goto fail;
	if (listen(fd, backlog) == -1)
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
