/* A small epoll event loop: readiness callbacks, nothing more. */
#ifndef SOCKD_LOOP_H
#define SOCKD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct watch {
	int fd;
	void (*fn)(struct watch *);
	void *arg;
	bool added;
	bool on;
};

struct loop {
	int epfd;
};

int loop_init(struct loop *);
void loop_free(struct loop *);
/* Starts or stops watching w->fd for input; idempotent. */
int loop_enable(struct loop *, struct watch *, bool on);
void loop_remove(struct loop *, struct watch *);
/* Waits up to timeout_ms (-1: forever) and runs the ready callbacks. */
int loop_once(struct loop *, int timeout_ms);

#endif
