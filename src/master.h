/* The master process: its state and its reactions to events. */
#ifndef SOCKD_MASTER_H
#define SOCKD_MASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfgcheck.h"
#include "children.h"
#include "config.h"
#include "loop.h"
#include "notify.h"
#include "service.h"
#include "sig.h"
#include "spawn.h"

struct errlog;

struct dgram_batch;

struct sockd {
	struct config *cfg;
	struct service **svcs;	/* the enabled services */
	size_t nsvcs;
	struct children children;
	struct loop loop;
	struct watch sigwatch;
	struct notify notify;
	struct errlog *errlogs;	/* handlers' stderr pipes being read */
	int devnull;		/* fd 2 of handlers with stderr = "null" */
	struct spawner spawner;
	struct dgram_batch *dgram;	/* buffers for UDP built-ins */
	bool by_pidfd;		/* new children get pidfds (master.c: Reaping) */
	bool sigchld_on;	/* the signalfd reports SIGCHLD */
	bool quit, reload;
	/* A reload's configuration is checked in a child first (cfgcheck.h). */
	struct cfgcheck check;
	struct watch check_watch;
	struct timer check_timer;
	bool reload_again;	/* SIGHUP came during the check */
	bool foreground;
	int cli_log_level;	/* -d: overrides the configuration; -1: unset */
	/* Signals ignored (master.c): when each was last logged, and how
	 * many times it came since. */
	uint64_t sig_logged_ms[SIG_NUM];
	unsigned sig_unlogged[SIG_NUM];
};

/* Binds every enabled service, all or nothing; logs what failed. */
int master_open(struct sockd *, struct config *);
/* After daemonizing: signals, and the descriptors children borrow. */
int master_start(struct sockd *);
void master_log_config(const struct sockd *);
int master_run(struct sockd *);
void master_close(struct sockd *);

#endif
