/*
 * A configuration is loaded first in a throw-away child, with a time
 * limit: whatever the library does with a hostile file (exits, leaks,
 * takes long) happens there, and the master loads only what the child
 * accepted. The child answers on a pipe: the error lines of config_load(),
 * then one byte, CFGCHECK_OK or CFGCHECK_FAILED. Logs nothing.
 */
#ifndef SOCKD_CFGCHECK_H
#define SOCKD_CFGCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "checkchild.h"
#include "config.h"

/* Bounded inputs load in well under a second; user lookups may be slow. */
#define CFGCHECK_TIMEOUT_MS 10000

struct cfgcheck {
	struct checkchild child;	/* checkchild.h */
};

/* Starts checking path in a child; 0, or -1 with errno. */
int cfgcheck_start(struct cfgcheck *, const char *path);
/* Whether a check is running, and the descriptor its answer comes on. */
bool cfgcheck_running(const struct cfgcheck *);
int cfgcheck_fd(const struct cfgcheck *);
/* Reads what the child said: 1 once it said all, 0 while more may come. */
int cfgcheck_read(struct cfgcheck *);
/*
 * Ends the check (killing the child if it has not answered, as after a
 * timeout) and returns 0 if the child loaded path, or -1 with the reasons
 * in err.
 */
int cfgcheck_finish(struct cfgcheck *, const char *path, struct cfgerr *err);
/* The whole check, waiting at most ms: for -t and the first start. */
int cfgcheck_run(const char *path, int ms, struct cfgerr *err);

#endif
