/*
 * What a jailed service's connections share, made once for the running
 * service (service.c), not by the loader: the template mount namespace,
 * built to the read-only root, which each connection's child joins and
 * copies, and, with no_sockets, the one empty network namespace they all
 * join. A jail with a user namespace shares nothing: its mounts belong to
 * each connection's own user namespace. The loader's trial (cfgjail.c)
 * makes a pair for the trial alone and closes it.
 */
#ifndef SOCKD_JAILNS_H
#define SOCKD_JAILNS_H

#include "jail.h"


/*
 * Builds them in a child of j->clone_flags: JAIL_OK, or the step that
 * failed with *err its errno (JAIL_MOUNT with EAGAIN-like errnos when the
 * child could not be made or read). Nothing to build is JAIL_OK with none.
 */
enum jail_step jailns_make(const struct jail_conf *j, struct jailns *ns,
    int *err);
void jailns_close(struct jailns *ns);

#endif
