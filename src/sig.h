/* Signals as events: blocked, and read from a signalfd by the event loop. */
#ifndef SOCKD_SIG_H
#define SOCKD_SIG_H

int sig_init(void);
int sig_next(int fd);
void sig_child_reset(void);

#endif
