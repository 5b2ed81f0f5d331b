#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_BATCH 64

int
loop_init(struct loop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd == -1 ? -1 : 0;
}

void
loop_free(struct loop *l)
{
	if (l->epfd != -1)
		close(l->epfd);
	l->epfd = -1;
}

int
loop_enable(struct loop *l, struct watch *w, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.ptr = w };

	if (w->added && w->on == on)
		return 0;
	if (epoll_ctl(l->epfd, w->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    w->fd, &ev) == -1)
		return -1;
	w->added = true;
	w->on = on;
	return 0;
}

void
loop_remove(struct loop *l, struct watch *w)
{
	if (w->added)
		(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->added = w->on = false;
}

int
loop_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[LOOP_BATCH];
	int n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout_ms);

	if (n == -1)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;
		/* An earlier callback in this batch may have paused it. */
		if (w->on)
			w->fn(w);
	}
	return n;
}
