/*
 * UNIX-domain listening sockets: binding at a path (replacing a stale
 * socket file, never a live one) or an abstract name, the file's owner
 * and mode (on the socket bound, never on what its path may have been
 * replaced with), and removing the file when the service goes. Never
 * logs: -1 with errno, and the caller reports it.
 */
#ifndef SOCKD_UNIXSOCK_H
#define SOCKD_UNIXSOCK_H

#include <stdbool.h>
#include <sys/types.h>

/* Room for a path or "@name" and its NUL: sockaddr_un's sun_path. */
#define UNIXSOCK_PATH_MAX 108

/* The file a listener made, so that only that file is ever removed. */
struct unixsock_file {
	bool made;
	dev_t dev;
	ino_t ino;
};

/*
 * A listening, non-blocking, close-on-exec stream socket at path ("@name":
 * abstract). The file is made with mode (-1: as the umask leaves it) and
 * given to uid and gid ((uid_t)-1: left as bind() made it). A path held
 * by a socket that nobody listens on is replaced; fails with EADDRINUSE
 * when another process listens there, ENOTSOCK when something other than
 * a socket is in the way, and ESTALE when the file was replaced after
 * bind() and before its owner was set.
 */
int unixsock_listen(const char *path, int backlog, int mode, uid_t, gid_t,
    struct unixsock_file *);
/*
 * Sets the owner and mode of the file f made at path again (a reload
 * changed them); mode -1, uid and gid (uid_t)-1 are left alone. Fails
 * with ESTALE, changing nothing, when path no longer names that socket
 * (it was replaced, by a symbolic link say). Needs /proc for the mode.
 */
int unixsock_perms(const char *path, const struct unixsock_file *, int mode,
    uid_t, gid_t);
/* Removes the file made at path, if it is still the one made. */
void unixsock_remove(const char *path, struct unixsock_file *);

#endif
