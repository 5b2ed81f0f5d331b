/* A small epoll event loop: readiness callbacks and timers, nothing more. */
#ifndef SOCKD_LOOP_H
#define SOCKD_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct watch {
	int fd;
	void (*fn)(struct watch *);
	void *arg;
	bool added;
	bool on;
	bool out;	/* watch for room to write instead of input */
};

struct timer {
	uint64_t when;		/* loop_now_ms() deadline */
	void (*fn)(struct timer *);
	void *arg;
	size_t slot;		/* heap index + 1; 0 when not armed */
};

/* Work a callback leaves for the end of the batch it runs in. */
struct deferred {
	void (*fn)(struct deferred *);
	void *arg;
	struct deferred *next;
	bool queued;
};

struct epoll_event;

struct loop {
	int epfd;
	/* The batch being dispatched, so a removed watch gets no more of it. */
	struct epoll_event *batch;
	int nbatch;
	struct timer **heap;	/* min-heap on when */
	size_t ntimers, cap;
	struct deferred *deferred;	/* runs after the batch, then timers */
};

int loop_init(struct loop *);
void loop_free(struct loop *);
/* Starts or stops watching w->fd for input (or output: w->out); idempotent.
 * Change w->out only while w is not added. */
int loop_enable(struct loop *, struct watch *, bool on);
/* Stops watching w; safe from a callback, even one of the same batch,
 * so w may be freed right after. */
void loop_remove(struct loop *, struct watch *);
/*
 * The same, and closes w->fd, which must be the only descriptor of its
 * file (a pidfd, say): the close alone takes it out of epoll, so this
 * spares a system call.
 */
void loop_close(struct loop *, struct watch *);
/* Milliseconds on the monotonic clock. */
uint64_t loop_now_ms(void);
/* Arms (or re-arms) t to fire once after delay_ms. */
int loop_timer_set(struct loop *, struct timer *, uint64_t delay_ms);
void loop_timer_stop(struct loop *, struct timer *);
static inline bool loop_timer_armed(const struct timer *t) { return t->slot != 0; }
/*
 * Runs d once after the callbacks of the current batch (at once if none
 * is being dispatched), so that work for many events, a batch of sends,
 * takes one system call; idempotent until it runs.
 */
void loop_defer(struct loop *, struct deferred *d);
/* Forgets d if it is queued, so it may be freed. */
void loop_defer_cancel(struct loop *, struct deferred *d);
/* Runs what was deferred now, in a callback that ends the process's image
 * (an exec) before its batch ends. */
void loop_run_deferred(struct loop *);
/* Waits for events or the next timer and runs what is due. */
int loop_once(struct loop *);

#endif
