#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errlog.h"
#include "log.h"
#include "loop.h"
#include "service.h"

/* Longer lines are cut; one read per wake-up keeps a chatty handler from
 * stalling the loop, and the pipe throttles it when we fall behind. */
#define ERRLOG_LINE_MAX 1024
#define ERRLOG_READ 4096

struct errlog {
	struct watch w;
	struct loop *loop;
	struct service *svc;
	pid_t pid;
	char *part;		/* an unfinished line, allocated only when needed */
	size_t partlen;
	struct errlog *prev, *next;
};

/* Every open pipe, so that an exit can release them (process-wide, like
 * the children they belong to). */
static struct errlog *all;

static void
emit(struct errlog *el, const char *p, size_t n, bool cut)
{
	char line[ERRLOG_LINE_MAX * 4 + 8];
	size_t at = 0;
	struct log_kv kv[] = { KV_S("service", el->svc->conf->name),
	    KV_I("pid", el->pid) };

	if (n > 0 && p[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			line[at++] = c;
		else if (c == '\\') {
			line[at++] = '\\';
			line[at++] = '\\';
		} else
			at += snprintf(line + at, sizeof(line) - at, "\\x%02x", c);
	}
	line[at] = '\0';
	log_event(LOG_INFO, "stderr", kv, 2, "service \"%s\": pid %ld: %s%s",
	    el->svc->conf->name, (long)el->pid, line, cut ? " [cut]" : "");
}

static void
errlog_free(struct errlog *el)
{
	if (el->prev)
		el->prev->next = el->next;
	else
		all = el->next;
	if (el->next)
		el->next->prev = el->prev;
	loop_remove(el->loop, &el->w);
	close(el->w.fd);
	service_unref(el->svc);
	free(el->part);
	free(el);
}

/* Feeds bytes in; emits every complete line, and cuts over-long ones. */
static void
feed(struct errlog *el, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		size_t room = ERRLOG_LINE_MAX - el->partlen;

		if (take > room || (!nl && take == room)) {
			take = room;
			nl = NULL;
		}
		if (el->partlen == 0 && nl) {
			emit(el, p, take, false);
		} else {
			if (el->part == NULL && (el->part = malloc(ERRLOG_LINE_MAX)) == NULL)
				return;
			memcpy(el->part + el->partlen, p, take);
			el->partlen += take;
			if (nl || el->partlen == ERRLOG_LINE_MAX) {
				emit(el, el->part, el->partlen, !nl);
				el->partlen = 0;
			}
		}
		p += take + (nl ? 1 : 0);
		n -= take + (nl ? 1 : 0);
	}
}

static void
on_readable(struct watch *w)
{
	struct errlog *el = w->arg;
	char buf[ERRLOG_READ];
	ssize_t n = read(w->fd, buf, sizeof(buf));

	if (n > 0) {
		feed(el, buf, n);
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (el->partlen > 0)
		emit(el, el->part, el->partlen, false);
	errlog_free(el);
}

int
errlog_open(struct loop *loop, struct service *svc, struct errlog **out)
{
	struct errlog *el = calloc(1, sizeof(*el));
	int p[2];

	if (el == NULL)
		return -1;
	if (pipe2(p, O_CLOEXEC) == -1) {
		free(el);
		return -1;
	}
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	el->w = (struct watch){ .fd = p[0], .fn = on_readable, .arg = el };
	el->loop = loop;
	el->svc = service_ref(svc);
	if ((el->next = all) != NULL)
		all->prev = el;
	all = el;
	*out = el;
	return p[1];
}

void
errlog_started(struct errlog *el, pid_t pid)
{
	el->pid = pid;
	if (pid <= 0 || loop_enable(el->loop, &el->w, true) == -1)
		errlog_free(el);
}

void
errlog_close_all(void)
{
	while (all)
		errlog_free(all);
}
