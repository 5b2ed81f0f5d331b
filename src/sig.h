/* Signals as events: blocked, and read from a signalfd by the event loop. */
#ifndef SOCKD_SIG_H
#define SOCKD_SIG_H

#include <stdbool.h>

int sig_init(void);
/*
 * Whether the signalfd also reports SIGCHLD. Children are reaped through
 * their pidfds; SIGCHLD is wanted only for those that have none.
 */
int sig_children(int fd, bool on);
#include <stddef.h>

#define SIG_READ_MAX 8

int sig_read(int fd, int *sigs, size_t max);
void sig_child_reset(void);

#endif
