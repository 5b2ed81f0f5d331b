/*
 * Who is at the other end of a UNIX-domain connection, whether the
 * service lets that user in, and what its handler is told about it.
 * Never accepts, refuses or logs (accept.c does).
 */
#include <stdio.h>
#include <string.h>

#include "peercred.h"

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

bool
peercred_allows(const struct svc_conf *sc, const struct ucred *cred)
{
	if (listed(&sc->no_users, cred->uid) || listed(&sc->no_groups, cred->gid))
		return false;
	if (!sc->only_users.set && !sc->only_groups.set)
		return true;
	return listed(&sc->only_users, cred->uid) ||
	    listed(&sc->only_groups, cred->gid);
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

size_t
peercred_env(struct peercred_env *e, const struct svc_conf *sc,
    const struct ucred *cred, unsigned connnum, char **vars)
{
	size_t n = 0;

	vars[n++] = "PROTO=IPC";
	snprintf(e->path, sizeof(e->path), "IPCLOCALPATH=%s", sc->unix_path);
	vars[n++] = e->path;
	if (cred == NULL)
		return n;
	snprintf(e->euid, sizeof(e->euid), "IPCREMOTEEUID=%u", (unsigned)cred->uid);
	snprintf(e->egid, sizeof(e->egid), "IPCREMOTEEGID=%u", (unsigned)cred->gid);
	snprintf(e->pid, sizeof(e->pid), "IPCREMOTEPID=%ld", (long)cred->pid);
	vars[n++] = e->euid;
	vars[n++] = e->egid;
	vars[n++] = e->pid;
	if (connnum) {
		snprintf(e->connnum, sizeof(e->connnum), "IPCCONNNUM=%u", connnum);
		vars[n++] = e->connnum;
	}
	return n;
}
