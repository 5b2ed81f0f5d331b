/*
 * The descriptors an upgrade's new image inherited across the exec: the
 * ones not close-on-exec when it starts (every descriptor sockd makes is
 * close-on-exec from birth, and the old image cleared the flag on those
 * it handed over). A record of the hand-over may name one of them only,
 * of the kind the kernel says it is; whatever no record takes is closed,
 * so that a service whose record was lost binds afresh. Never logs.
 */
#ifndef SOCKD_ADOPTFD_H
#define SOCKD_ADOPTFD_H

#include <stdbool.h>
#include <stddef.h>

struct adoptfd {
	int *fd;
	size_t n;
	bool known;		/* /proc/self/fd was read */
};

/* Lists them, but for keep (the state's memfd): 0, or -1 with errno
 * (known stays false, and every descriptor counts as inherited). */
int adoptfd_scan(struct adoptfd *, int keep);
/* Whether fd is one of them and a socket of this type (0: any). */
bool adoptfd_is(const struct adoptfd *, int fd, int type);
/* Takes fd: close-on-exec again, and no longer closed by adoptfd_rest(). */
void adoptfd_take(struct adoptfd *, int fd);
/* Closes those not taken and frees the list; returns how many it closed. */
size_t adoptfd_rest(struct adoptfd *);

#endif
