/* The systemd readiness protocol (sd_notify), without libsystemd. */
#ifndef SOCKD_NOTIFY_H
#define SOCKD_NOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>

struct notify {
	int fd;			/* -1: no NOTIFY_SOCKET, nothing to do */
	struct sockaddr_un sa;
	socklen_t len;
};

void notify_open(struct notify *);
void notify_send(const struct notify *, const char *state);
void notify_close(struct notify *);
/* Puts NOTIFY_SOCKET back into the environment, for an exec of sockd
 * itself (an upgrade in place); 0, or -1 with errno. */
int notify_env(const struct notify *);

#endif
