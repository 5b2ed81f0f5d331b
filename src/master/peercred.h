/*
 * The peer of a UNIX-domain connection: its credentials (SO_PEERCRED),
 * whether the service's user and group lists let it in (by its uid, its
 * gid and its supplementary groups), the key its connections are counted
 * under (per_source counts per uid), and the handler's environment in the
 * UCSPI way of s6-ipcserver.
 */
#ifndef SOCKD_PEERCRED_H
#define SOCKD_PEERCRED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "addr.h"
#include "config.h"

/* The peer's credentials as of its connect(); -1 with errno. */
int peercred_get(int fd, struct ucred *);
/*
 * Whether the peer on fd may connect: 0 when its uid is in no_users or
 * one of its groups in no_groups; else, when only_users or only_groups is
 * set, 1 when its uid or one of its groups is in one of them, 0 when
 * not; else 1. Its groups are its gid and all its supplementary groups
 * (SO_PEERGROUPS, read once, only when a group list is set). -1 with
 * errno when those cannot be read (Linux before 4.13 has no
 * SO_PEERGROUPS): the caller refuses, as a no_groups member may be there.
 */
int peercred_allows(const struct svc_conf *, int fd, const struct ucred *);
/* Whether the peer's gid or one of its supplementary groups is gid: 1
 * or 0; -1 with errno when its groups cannot be read. */
int peercred_in_group(int fd, const struct ucred *, gid_t);
/* The per-source key of a peer: its uid, in an AF_UNIX struct addr. */
struct addr peercred_key(uid_t);
#endif
