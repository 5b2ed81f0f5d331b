/*
 * What a daemon does once: descriptors 0-2 made safe, the detach from
 * the terminal (fork, setsid), and the pidfile, written only once the
 * sockets are bound and removed on the way out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "daemon.h"

/* Linux before 5.11 cannot flag a range at once: one by one, then. */
static void
cloexec_from(int lowfd)
{
	DIR *d;
	struct dirent *e;

	if (close_range(lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0 ||
	    (d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (fd >= lowfd && fd != dirfd(d))
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

/*
 * Makes sure fds 0-2 are open, so no socket of ours ever lands on them
 * and is mistaken for stdio by a handler; and whatever else we inherited
 * is close-on-exec, so it never reaches a handler either.
 */
int
daemon_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 &&
		    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			return -1;
	cloexec_from(3);
	return 0;
}

int
daemon_detach(bool keep_stderr)
{
	int fd;

	switch (fork()) {
	case -1:
		return -1;
	case 0:
		break;
	default:
		_exit(0);
	}
	if (setsid() == -1 || chdir("/") == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	if (dup2(fd, 0) == -1 || dup2(fd, 1) == -1 ||
	    (!keep_stderr && dup2(fd, 2) == -1))
		return -1;
	if (fd > 2)
		close(fd);
	return 0;
}

/*
 * The lock lives as long as the open file description, which survives
 * daemon_detach()'s fork, so two sockds can never share a pidfile; a stale
 * file left by a dead one is simply taken over.
 */
int
pidfile_open(struct pidfile *pf, const char *path, pid_t *holder)
{
	char buf[32];
	ssize_t n;

	char cwd[4096];

	pf->fd = -1;
	*holder = 0;
	/* Absolute, so it can still be removed after chdir("/"). */
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
		if (asprintf(&pf->path, "%s/%s", cwd, path) == -1)
			pf->path = NULL;
	} else
		pf->path = strdup(path);
	if (pf->path == NULL)
		return -1;
	pf->fd = open(pf->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pf->fd == -1)
		goto fail;
	if (flock(pf->fd, LOCK_EX | LOCK_NB) == -1) {
		int saved = errno;
		if ((n = pread(pf->fd, buf, sizeof(buf) - 1, 0)) > 0) {
			buf[n] = '\0';
			*holder = (pid_t)atol(buf);
		}
		close(pf->fd);
		pf->fd = -1;
		errno = saved;
		goto fail;
	}
	return 0;
fail:;
	int saved = errno;
	free(pf->path);
	pf->path = NULL;
	errno = saved;
	return -1;
}

int
pidfile_write(struct pidfile *pf)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(pf->fd, 0) == -1 || pwrite(pf->fd, buf, n, 0) != n)
		return -1;
	return 0;
}

void
pidfile_remove(struct pidfile *pf)
{
	if (pf->path == NULL)
		return;
	(void)unlink(pf->path);
	close(pf->fd);
	free(pf->path);
	pf->path = NULL;
	pf->fd = -1;
}
