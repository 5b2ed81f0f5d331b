/*
 * The systemd readiness protocol without libsystemd: one datagram to
 * NOTIFY_SOCKET per state change, and the variable set again for the new
 * image of an upgrade.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

void
notify_open(struct notify *n)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	n->fd = -1;
	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(n->sa.sun_path))
		return;
	memset(&n->sa, 0, sizeof(n->sa));
	n->sa.sun_family = AF_UNIX;
	memcpy(n->sa.sun_path, path, len);
	if (path[0] == '@')
		n->sa.sun_path[0] = '\0';	/* an abstract socket */
	n->len = offsetof(struct sockaddr_un, sun_path) + len;
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* Handlers must not talk to the service manager in our name. */
	unsetenv("NOTIFY_SOCKET");
}

void
notify_send(const struct notify *n, const char *state)
{
	if (n->fd != -1)
		(void)sendto(n->fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT,
		    (const struct sockaddr *)&n->sa, n->len);
}

int
notify_env(const struct notify *n)
{
	char path[sizeof(n->sa.sun_path) + 1];
	size_t len;

	if (n->fd == -1)
		return 0;
	len = n->len - offsetof(struct sockaddr_un, sun_path);
	memcpy(path, n->sa.sun_path, len);
	path[len] = '\0';
	if (path[0] == '\0')
		path[0] = '@';		/* an abstract socket */
	return setenv("NOTIFY_SOCKET", path, 1);
}

void
notify_close(struct notify *n)
{
	if (n->fd != -1)
		close(n->fd);
	n->fd = -1;
}
