/*
 * A child that checks something with a time limit: the configuration
 * (cfgcheck.c) for a reload, a start or -t, and the new binary of an
 * upgrade (upgrade.c). One way for both: forked, dying with the master,
 * known by a pidfd made at once, so that it is killed and waited for as
 * itself even where a waitpid(-1) elsewhere reaped it first and its pid
 * now names a handler; its output read from a pipe up to a bound. The
 * caller watches fd and sets the time limit; this never logs.
 */
#ifndef SOCKD_CHECKCHILD_H
#define SOCKD_CHECKCHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct checkchild {
	pid_t pid;		/* -1: none running */
	int pidfd;		/* -1: none (Linux before 5.3: by pid) */
	int fd;			/* its output, non-blocking; -1: none */
	char *out;		/* what it wrote, NUL-terminated, at most max;
				 * NULL: nothing yet */
	size_t len, max;
	bool overflow;		/* it wrote more than max */
};

/*
 * Starts fn(arg, out) in a child, its output on out (a pipe's write end);
 * fn must not return. 0, or -1 with errno.
 */
int checkchild_start(struct checkchild *, size_t max,
    void (*fn)(void *arg, int out), void *arg);
/* Reads what is there: 1 once it closed its output (or wrote too much or
 * the pipe failed), 0 while more may come. */
int checkchild_read(struct checkchild *);
/*
 * Ends it: killed unless it is gone, then waited for. Returns its wait
 * status, or -1 if it could not be had (another wait took it). Its output
 * stays in out until checkchild_free().
 */
int checkchild_end(struct checkchild *);
void checkchild_free(struct checkchild *);

#endif
