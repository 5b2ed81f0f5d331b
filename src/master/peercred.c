/*
 * Who is at the other end of a UNIX-domain connection, whether the
 * service lets that user and its groups in (its handler's IPC* variables
 * are connenv.c's).
 * Never accepts, refuses or logs (accept.c does).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peercred.h"

/* Groups read onto the stack; a peer in more takes one malloc(). */
#define PEERCRED_GROUPS_STACK 64

int
peercred_get(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len);
}

static bool
listed(const struct idlist *l, unsigned id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == id)
			return true;
	return false;
}

/* Whether the peer's gid or one of its supplementary groups is in l. */
static bool
any_listed(const struct idlist *l, gid_t gid, const gid_t *g, size_t n)
{
	if (listed(l, gid))
		return true;
	for (size_t i = 0; i < n; i++)
		if (listed(l, g[i]))
			return true;
	return false;
}

/*
 * The peer's supplementary groups into buf (room entries), or into *out
 * from malloc() when they do not fit; the count, or -1 with errno.
 * Growing, rather than refusing on ERANGE, keeps a member of many groups
 * from being turned away by only_groups; the kernel reports the room it
 * needs, which its own limit (NGROUPS_MAX) bounds, and the peer's groups
 * are those of its connect(), so they cannot grow between the two calls.
 */
static ssize_t
peer_groups(int fd, gid_t *buf, size_t room, gid_t **out)
{
	socklen_t len = room * sizeof(*buf);

	*out = buf;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buf, &len) == 0)
		return len / sizeof(*buf);
	if (errno != ERANGE)
		return -1;
	if (len > NGROUPS_MAX * sizeof(*buf)) {
		errno = E2BIG;
		return -1;
	}
	if ((*out = malloc(len)) == NULL)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, *out, &len) == -1) {
		free(*out);
		*out = buf;
		return -1;
	}
	return len / sizeof(*buf);
}

int
peercred_allows(const struct svc_conf *sc, int fd, const struct ucred *cred)
{
	gid_t buf[PEERCRED_GROUPS_STACK], *g = buf;
	ssize_t n = 0;
	int allowed;

	if ((sc->no_groups.set || sc->only_groups.set) &&
	    (n = peer_groups(fd, buf, PEERCRED_GROUPS_STACK, &g)) == -1)
		return -1;
	if (listed(&sc->no_users, cred->uid) ||
	    any_listed(&sc->no_groups, cred->gid, g, n))
		allowed = 0;
	else if (!sc->only_users.set && !sc->only_groups.set)
		allowed = 1;
	else
		allowed = listed(&sc->only_users, cred->uid) ||
		    any_listed(&sc->only_groups, cred->gid, g, n);
	if (g != buf)
		free(g);
	return allowed;
}

int
peercred_in_group(int fd, const struct ucred *cred, gid_t gid)
{
	gid_t buf[PEERCRED_GROUPS_STACK], *g = buf;
	ssize_t n;
	bool in;

	if (cred->gid == gid)
		return 1;
	if ((n = peer_groups(fd, buf, PEERCRED_GROUPS_STACK, &g)) == -1)
		return -1;
	in = false;
	for (ssize_t i = 0; i < n && !in; i++)
		in = g[i] == gid;
	if (g != buf)
		free(g);
	return in;
}

struct addr
peercred_key(uid_t uid)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_UNIX;
	a.u.v4.s_addr = uid;
	return a;
}
