/*
 * Handler stderr into the log: each child gets the write end of its own
 * pipe as fd 2, and every line it writes is logged with its service and
 * pid, never sent to the client.
 */
#ifndef SOCKD_ERRLOG_H
#define SOCKD_ERRLOG_H

#include <sys/types.h>

struct loop;
struct service;
struct errlog;

/* Returns the pipe's write end for the child, or -1 with errno. The
 * record joins the list at *all (the daemon's, for errlog_close_all). */
int errlog_open(struct loop *, struct service *, struct errlog **all,
    struct errlog **);
/* Names the child once it exists; a failed spawn passes -1 to discard. */
void errlog_started(struct errlog *, pid_t);
/* On exit: logs what is pending and closes every pipe. */
void errlog_close_all(struct errlog **all);

#endif
