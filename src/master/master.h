/* The master process: its life from binding to exit (master.c). */
#ifndef SOCKD_MASTER_H
#define SOCKD_MASTER_H

#include "sockd.h"

/* Binds every enabled service, all or nothing; logs what failed. */
int master_open(struct sockd *, struct config *);
/* After daemonizing: signals, and the descriptors children borrow. */
int master_start(struct sockd *);
int master_run(struct sockd *);
void master_close(struct sockd *);

#endif
