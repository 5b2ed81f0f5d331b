/*
 * Upgrade in place (SIGUSR2): the master execs its binary again, keeping
 * its pid, its children and its listening sockets. upgrade.c runs the old
 * image's side, adopt.c the new one's; upstate.h is what passes between.
 */
#ifndef SOCKD_UPGRADE_H
#define SOCKD_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "adoptfd.h"
#include "checkchild.h"
#include "loop.h"

/*
 * The environment variables of the hand-over: the memfd of the state; for
 * "sockd -t", the request to name the format it reads, and a snapshot of
 * the running daemon's state that it must read first (releases before
 * this one set only the request).
 */
#define UPGRADE_ENV_FD "SOCKD_UPGRADE_FD"
#define UPGRADE_ENV_CHECK "SOCKD_UPGRADE_CHECK"
#define UPGRADE_ENV_STATE "SOCKD_UPGRADE_STATE"
/* How long the new binary's check may take. */
#define UPGRADE_CHECK_MS 10000
#define UPGRADE_OUT_MAX 4096
/* Control clients waiting for an upgrade's verdict that are handed over. */
#define UPGRADE_WAITERS_MAX 8

struct upstate;

struct upgrade {
	char *self;		/* argv[0] at start, absolute; NULL: unknown */
	const char *pidfile;	/* -p's, made absolute; NULL: none given */
	struct checkchild check;	/* the new binary's check */
	struct watch w;		/* its output */
	struct timer timer;	/* its time limit, then the wait for scrapes */
	bool exec_pending;	/* checked; waiting for scrapes to end */
	struct upstate *from;	/* new image: what was handed over */
	struct adoptfd fds;	/* new image: the descriptors inherited */
	/* Upgrades that failed, and what the last one logged, for the
	 * clients of control.c that wait; a success is answered by the new
	 * image (adopt.c). */
	unsigned long long failures;
	char *why;		/* malloc'd; NULL: none */
	/* New image: the clients the old one left waiting. */
	int waiters[UPGRADE_WAITERS_MAX];
	size_t nwaiters;
};

#endif
