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

/* Returns the pipe's write end for the child, or -1 with errno. */
int errlog_open(struct loop *, struct service *, struct errlog **);
/* Names the child once it exists; a failed spawn passes -1 to discard. */
void errlog_started(struct errlog *, pid_t);
/* At exit: drops every pipe still open, unlogged. */
void errlog_close_all(void);

#endif
