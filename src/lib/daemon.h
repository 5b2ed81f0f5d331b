/* Detaching from the terminal, and the pidfile. */
#ifndef SOCKD_DAEMON_H
#define SOCKD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

int daemon_stdio(void);
int daemon_detach(bool keep_stderr);

struct pidfile {
	char *path;
	int fd;
};

/* Opens and locks; on EWOULDBLOCK *holder is the running sockd's pid. */
int pidfile_open(struct pidfile *, const char *path, pid_t *holder);
int pidfile_write(struct pidfile *);
void pidfile_remove(struct pidfile *);

#endif
