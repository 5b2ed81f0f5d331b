/* The master process: its state and its reactions to events. */
#ifndef SOCKD_MASTER_H
#define SOCKD_MASTER_H

#include <stdbool.h>
#include <stddef.h>

#include "children.h"
#include "config.h"
#include "loop.h"
#include "service.h"

struct dgram_batch;

struct sockd {
	struct config *cfg;
	struct service *svcs;	/* the enabled services */
	size_t nsvcs;
	struct children children;
	struct loop loop;
	struct watch sigwatch;
	struct dgram_batch *dgram;	/* buffers for UDP built-ins */
	bool quit;
};

/* Binds every enabled service, all or nothing; logs what failed. */
int master_open(struct sockd *, struct config *);
int master_run(struct sockd *);
void master_close(struct sockd *);

#endif
