/*
 * Handler stderr into the log. The handlers of one service share one Unix
 * stream socket as fd 2. The kernel tags every write with the writer's pid
 * (SO_PASSCRED) and never joins two writers' bytes in one read, so each
 * line is logged with its service and the pid that wrote it, and is never
 * sent to the client. A connection costs the master nothing for this.
 */
#ifndef SOCKD_ERRLOG_H
#define SOCKD_ERRLOG_H

#include <sys/types.h>

struct loop;
struct service;
struct errlog;

/* A new log for svc's handlers, or NULL with errno. The record joins the
 * list at *all (the daemon's, for errlog_close_all). */
struct errlog *errlog_open(struct loop *, struct service *, struct errlog **all);
/* The descriptor a child gets as fd 2. */
int errlog_fd(const struct errlog *);
/* pid has been reaped: its unfinished line, if any, is logged as it is. */
void errlog_ended(struct errlog *, pid_t);
/* No more children will be given it; it goes once the last has gone. */
void errlog_retire(struct errlog *);
/* For an upgrade in place (upstate.c, adopt.c): the list, each log's
 * reading end and service, and a log taken over from the old image,
 * retired (no new child is given it). */
const struct errlog *errlog_next(const struct errlog *);
int errlog_reader(const struct errlog *);
struct service *errlog_service(const struct errlog *);
struct errlog *errlog_adopt(struct loop *, struct service *, int fd,
    struct errlog **all);
/* Logs every unfinished line as it is (before the exec of an upgrade). */
void errlog_flush_all(struct errlog *all);
/* On exit: logs what is pending and closes everything. */
void errlog_close_all(struct errlog **all);
/*
 * On exit with handlers left running: a forked "drain" process takes every
 * log in the list and reads and logs on, the same way, until all their
 * writers have closed; then it exits. Handlers writing to stderr would get
 * SIGPIPE with no reader left. Returns the drain's pid, the list emptied
 * here without logging (the drain has what is pending); -1 with errno and
 * the list untouched when no process could be made.
 */
pid_t errlog_handover(struct errlog **all);

#endif
