/* Signals as events: blocked, and read from a signalfd by the event loop. */
#ifndef SOCKD_SIG_H
#define SOCKD_SIG_H

#include <stdbool.h>

/*
 * Every signal whose default would end the daemon is either read from the
 * signalfd (those master.c acts on, and the unused ones it logs), ignored
 * (SIGPIPE, SIGXFSZ), or, for synchronous faults, noted on stderr by a
 * handler that removes the pidfile and lets the signal end the process.
 */
int sig_init(void);
/* The pidfile the fatal handler removes, in this process only. */
void sig_fatal_pidfile(const char *path);
/*
 * Whether the signalfd also reports SIGCHLD. Children are reaped through
 * their pidfds; SIGCHLD is wanted only for those that have none.
 */
int sig_children(int fd, bool on);
#include <stddef.h>

#define SIG_READ_MAX 8
/* Signal numbers are below this (the kernel's 64 and 0). */
#define SIG_NUM 65

int sig_read(int fd, int *sigs, size_t max);
void sig_child_reset(void);

#endif
