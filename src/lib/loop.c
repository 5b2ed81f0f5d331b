/*
 * The event loop: epoll for readiness, timers in a min-heap, and
 * the one monotonic clock of the master (loop_now_ms()).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_BATCH 64

int
loop_init(struct loop *l)
{
	*l = (struct loop){ .epfd = epoll_create1(EPOLL_CLOEXEC) };
	return l->epfd == -1 ? -1 : 0;
}

void
loop_free(struct loop *l)
{
	if (l->epfd != -1)
		close(l->epfd);
	l->epfd = -1;
	free(l->heap);
	l->heap = NULL;
	l->ntimers = l->cap = 0;
}

int
loop_enable(struct loop *l, struct watch *w, bool on)
{
	struct epoll_event ev = { .events = !on ? 0 : w->out ? EPOLLOUT : EPOLLIN,
	    .data.ptr = w };

	if (w->added && w->on == on)
		return 0;
	if (epoll_ctl(l->epfd, w->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    w->fd, &ev) == -1)
		return -1;
	w->added = true;
	w->on = on;
	return 0;
}

static void
forget(struct loop *l, struct watch *w)
{
	w->added = w->on = false;
	for (int i = 0; i < l->nbatch; i++)
		if (l->batch[i].data.ptr == w)
			l->batch[i].data.ptr = NULL;
}

void
loop_remove(struct loop *l, struct watch *w)
{
	if (w->added)
		(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	forget(l, w);
}

void
loop_close(struct loop *l, struct watch *w)
{
	forget(l, w);
	close(w->fd);
	w->fd = -1;
}

uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
heap_put(struct loop *l, size_t i, struct timer *t)
{
	l->heap[i] = t;
	t->slot = i + 1;
}

static void
heap_up(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];

	while (i > 0 && l->heap[(i - 1) / 2]->when > t->when) {
		heap_put(l, i, l->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_put(l, i, t);
}

static void
heap_down(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->ntimers)
			break;
		if (c + 1 < l->ntimers && l->heap[c + 1]->when < l->heap[c]->when)
			c++;
		if (l->heap[c]->when >= t->when)
			break;
		heap_put(l, i, l->heap[c]);
		i = c;
	}
	heap_put(l, i, t);
}

void
loop_timer_stop(struct loop *l, struct timer *t)
{
	size_t i;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (--l->ntimers == i)
		return;
	heap_put(l, i, l->heap[l->ntimers]);
	heap_up(l, i);
	heap_down(l, l->heap[i] == NULL ? i : l->heap[i]->slot - 1);
}

int
loop_timer_set(struct loop *l, struct timer *t, uint64_t delay_ms)
{
	loop_timer_stop(l, t);
	if (l->ntimers == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct timer **h = realloc(l->heap, cap * sizeof(*h));
		if (h == NULL)
			return -1;
		l->heap = h;
		l->cap = cap;
	}
	t->when = loop_now_ms() + delay_ms;
	heap_put(l, l->ntimers++, t);
	heap_up(l, l->ntimers - 1);
	return 0;
}

static int
next_timeout(const struct loop *l)
{
	uint64_t now;

	if (l->ntimers == 0)
		return -1;
	now = loop_now_ms();
	if (l->heap[0]->when <= now)
		return 0;
	return l->heap[0]->when - now > 60000 ? 60000 : (int)(l->heap[0]->when - now);
}

static void
run_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();

	while (l->ntimers > 0 && l->heap[0]->when <= now) {
		struct timer *t = l->heap[0];
		loop_timer_stop(l, t);
		t->fn(t);
	}
}

void
loop_defer(struct loop *l, struct deferred *d)
{
	if (l->batch == NULL) {
		d->fn(d);
		return;
	}
	if (d->queued)
		return;
	d->queued = true;
	d->next = l->deferred;
	l->deferred = d;
}

void
loop_defer_cancel(struct loop *l, struct deferred *d)
{
	for (struct deferred **dp = &l->deferred; *dp; dp = &(*dp)->next)
		if (*dp == d) {
			*dp = d->next;
			break;
		}
	d->queued = false;
}

void
loop_run_deferred(struct loop *l)
{
	while (l->deferred) {
		struct deferred *d = l->deferred;
		l->deferred = d->next;
		d->queued = false;
		d->fn(d);
	}
}

int
loop_once(struct loop *l)
{
	struct epoll_event evs[LOOP_BATCH];
	int n = epoll_wait(l->epfd, evs, LOOP_BATCH, next_timeout(l));

	if (n == -1) {
		if (errno != EINTR)
			return -1;
		n = 0;
	}
	l->batch = evs;
	l->nbatch = n;
	for (int i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;
		/* An earlier callback in this batch may have paused or removed it. */
		if (w && w->on)
			w->fn(w);
	}
	l->batch = NULL;
	l->nbatch = 0;
	loop_run_deferred(l);
	run_timers(l);
	return n;
}
