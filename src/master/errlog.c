/*
 * Handlers' stderr into the log: one stream socket per service as the
 * handlers' fd 2, read by the master with the writer's pid (SO_PASSCRED),
 * cut into lines and logged with the service and that pid.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "errlog.h"
#include "forked.h"
#include "log.h"
#include "loop.h"
#include "service.h"

/*
 * Longer lines are cut. A few reads per wake-up keep a chatty handler from
 * stalling the loop; when we fall behind, the socket's buffer fills and
 * its writers block, so the daemon's memory stays bounded.
 */
#define ERRLOG_LINE_MAX 1024
#define ERRLOG_READ 4096
#define ERRLOG_READS 4
/* Writers with an unfinished line at once; one more logs the oldest. */
#define ERRLOG_PARTS 8
/* Reaped pids remembered, whose last bytes may still be unread. */
#define ERRLOG_ENDED 32

struct part {
	pid_t pid;		/* 0: free */
	size_t len;
	uint64_t seq;		/* for evicting the oldest */
	char buf[ERRLOG_LINE_MAX];
};

struct errlog {
	struct watch w;		/* our end */
	int wfd;		/* the end children get; -1 once retired */
	struct loop *loop;
	struct service *svc;
	struct part *parts;	/* ERRLOG_PARTS, allocated when first needed */
	uint64_t seq;
	pid_t ended[ERRLOG_ENDED];
	unsigned ended_next;
	struct errlog *next, **prevp;	/* the daemon's list */
};

static void
emit(const struct errlog *el, pid_t pid, const char *p, size_t n, bool cut)
{
	char line[ERRLOG_LINE_MAX * 4 + 8];
	size_t at = 0;
	struct log_kv kv[] = { KV_S("service", el->svc->conf->name),
	    KV_I("pid", pid) };

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
	    el->svc->conf->name, (long)pid, line, cut ? " [cut]" : "");
}

static void
part_flush(const struct errlog *el, struct part *pt)
{
	if (pt->len > 0)
		emit(el, pt->pid, pt->buf, pt->len, false);
	pt->pid = 0;
	pt->len = 0;
}

static struct part *
part_find(const struct errlog *el, pid_t pid)
{
	if (el->parts)
		for (int i = 0; i < ERRLOG_PARTS; i++)
			if (el->parts[i].pid == pid)
				return &el->parts[i];
	return NULL;
}

/* A buffer for pid's unfinished line; the oldest other one is logged to
 * make room. NULL only when out of memory. */
static struct part *
part_new(struct errlog *el, pid_t pid)
{
	struct part *pt = NULL;

	if (el->parts == NULL &&
	    (el->parts = calloc(ERRLOG_PARTS, sizeof(*el->parts))) == NULL)
		return NULL;
	for (int i = 0; i < ERRLOG_PARTS; i++) {
		struct part *p = &el->parts[i];
		if (p->pid == 0) {
			pt = p;
			break;
		}
		if (pt == NULL || p->seq < pt->seq)
			pt = p;
	}
	part_flush(el, pt);
	pt->pid = pid;
	pt->seq = ++el->seq;
	return pt;
}

static bool
has_ended(const struct errlog *el, pid_t pid)
{
	for (int i = 0; i < ERRLOG_ENDED; i++)
		if (el->ended[i] == pid)
			return true;
	return false;
}

/* Feeds what pid wrote; emits every complete line, and cuts over-long ones. */
static void
feed(struct errlog *el, pid_t pid, const char *p, size_t n)
{
	struct part *pt = part_find(el, pid);

	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t have = pt ? pt->len : 0;
		size_t take = nl ? (size_t)(nl - p) : n;
		size_t room = ERRLOG_LINE_MAX - have;

		/* Cut only once a byte beyond the limit is known not to end
		 * the line: a full buffer waits for the next byte. */
		bool cut = take > room;

		if (cut) {
			take = room;
			nl = NULL;
		}
		if (have == 0 && (nl || cut)) {
			emit(el, pid, p, take, cut);
		} else {
			if (pt == NULL && (pt = part_new(el, pid)) == NULL)
				return;
			memcpy(pt->buf + pt->len, p, take);
			pt->len += take;
			if (nl || cut) {
				emit(el, pid, pt->buf, pt->len, cut);
				pt->len = 0;
			}
		}
		p += take + (nl ? 1 : 0);
		n -= take + (nl ? 1 : 0);
	}
	/* A reaped writer adds nothing more: its last words are complete. */
	if (pt && (pt->len == 0 || has_ended(el, pid)))
		part_flush(el, pt);
}

/* Logs every unfinished line. */
static void
parts_flush(struct errlog *el)
{
	for (int i = 0; el->parts && i < ERRLOG_PARTS; i++)
		part_flush(el, &el->parts[i]);
}

/* Unless flush is false, the unfinished lines are logged first. */
static void
errlog_free(struct errlog *el, bool flush)
{
	if (flush)
		parts_flush(el);
	if (el->next)
		el->next->prevp = el->prevp;
	*el->prevp = el->next;
	loop_remove(el->loop, &el->w);
	close(el->w.fd);
	if (el->svc->errlog == el)	/* a read error, not the usual EOF */
		el->svc->errlog = NULL;
	if (el->wfd != -1)
		close(el->wfd);
	service_unref(el->svc);
	free(el->parts);
	free(el);
}

/*
 * One read: the bytes of one writer, and who it was. 0 at EOF, -1 when
 * nothing is left (or on error). The control buffer has room for the
 * credentials alone: descriptors a handler sends along find none, and the
 * kernel drops them rather than give them to us.
 */
static ssize_t
read_one(int fd, char *buf, size_t len, pid_t *pid)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	*pid = -1;		/* no credentials: not expected, but logged */
	if (n <= 0)
		return n == 0 ? 0 : -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			*pid = uc.pid;
		}
	return n;
}

static void
on_readable(struct watch *w)
{
	struct errlog *el = w->arg;
	char buf[ERRLOG_READ];
	pid_t pid;

	for (int i = 0; i < ERRLOG_READS; i++) {
		ssize_t n = read_one(w->fd, buf, sizeof(buf), &pid);
		if (n > 0) {
			feed(el, pid, buf, n);
			continue;
		}
		/* EOF: every handler, and our own write end, are gone. */
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			errlog_free(el, true);
		return;
	}
}

/* Puts el at the head of the daemon's list. */
static void
errlog_link(struct errlog *el, struct errlog **all)
{
	if ((el->next = *all) != NULL)
		el->next->prevp = &el->next;
	el->prevp = all;
	*all = el;
}

struct errlog *
errlog_open(struct loop *loop, struct service *svc, struct errlog **all)
{
	struct errlog *el;
	int sv[2], on = 1, e;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return NULL;
	/* Our end only reads, theirs only writes. */
	(void)shutdown(sv[0], SHUT_WR);
	(void)shutdown(sv[1], SHUT_RD);
	if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0 &&
	    (el = errlog_adopt(loop, svc, sv[0], all)) != NULL) {
		el->wfd = sv[1];
		return el;
	}
	e = errno;
	close(sv[0]);
	close(sv[1]);
	errno = e;
	return NULL;
}

struct errlog *
errlog_adopt(struct loop *loop, struct service *svc, int fd, struct errlog **all)
{
	struct errlog *el = calloc(1, sizeof(*el));

	if (el == NULL)
		return NULL;
	el->w = (struct watch){ .fd = fd, .fn = on_readable, .arg = el };
	el->wfd = -1;
	el->loop = loop;
	if (loop_enable(loop, &el->w, true) == -1) {
		free(el);
		return NULL;
	}
	el->svc = service_ref(svc);
	errlog_link(el, all);
	return el;
}

const struct errlog *
errlog_next(const struct errlog *el)
{
	return el->next;
}

int
errlog_reader(const struct errlog *el)
{
	return el->w.fd;
}

struct service *
errlog_service(const struct errlog *el)
{
	return el->svc;
}

void
errlog_flush_all(struct errlog *all)
{
	for (struct errlog *el = all; el; el = el->next)
		parts_flush(el);
}

int
errlog_fd(const struct errlog *el)
{
	return el->wfd;
}

/*
 * Reads the bytes queued now, no more: a reaped handler's last writes are
 * among them (a write to a stream socket is queued before write returns),
 * but the pidfd or SIGCHLD can be seen before the socket's readiness.
 * Bounded by the socket's buffer, whatever live handlers keep writing.
 * False if the socket ended and el is gone.
 */
static bool
read_queued(struct errlog *el)
{
	char buf[ERRLOG_READ];
	int queued;
	pid_t pid;

	if (ioctl(el->w.fd, SIOCINQ, &queued) == -1)
		return true;
	while (queued > 0) {
		ssize_t n = read_one(el->w.fd, buf, sizeof(buf), &pid);
		if (n > 0) {
			feed(el, pid, buf, n);
			queued -= n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			errlog_free(el, true);
			return false;
		}
		break;
	}
	return true;
}

void
errlog_ended(struct errlog *el, pid_t pid)
{
	struct part *pt;

	if (!read_queued(el))
		return;
	if ((pt = part_find(el, pid)) != NULL)
		part_flush(el, pt);
	el->ended[el->ended_next++ % ERRLOG_ENDED] = pid;
}

void
errlog_retire(struct errlog *el)
{
	if (el->wfd != -1)
		close(el->wfd);
	el->wfd = -1;
}

void
errlog_close_all(struct errlog **all)
{
	while (*all)
		errlog_free(*all, true);
}

/*
 * The drain keeps fds 0-2 (the log, when it goes to stderr) and the
 * reading ends, and closes all else: above all the listening sockets of
 * services with children and the pidfile, which a restarted sockd needs.
 * Its loop is a new epoll instance, since the master's is shared with it
 * until the master exits. The signals the master blocks to read them are
 * unblocked, so SIGTERM ends the drain.
 */
static void __attribute__((noreturn))
drain(struct errlog **all)
{
	struct loop loop;
	sigset_t none;
	size_t n = 0, i = 0;
	int *fds;

	for (struct errlog *el = *all; el; el = el->next)
		n++;
	if ((fds = calloc(n, sizeof(*fds))) == NULL)
		_exit(1);
	for (struct errlog *el = *all; el; el = el->next)
		fds[i++] = el->w.fd;
	/* The syslog socket goes too; syslog() opens a new one when needed. */
	closelog();
	forked_keep(fds, n);
	free(fds);
	/* Not sig_child_reset(): the drain runs sockd's own loop and logs as
	 * the master does, with its dispositions (SIGPIPE ignored). */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (loop_init(&loop) == -1)
		_exit(1);
	for (struct errlog *el = *all; el; el = el->next) {
		el->loop = &loop;
		el->w.added = el->w.on = false;
		if (loop_enable(&loop, &el->w, true) == -1)
			_exit(1);
	}
	while (*all && loop_once(&loop) != -1)
		;
	_exit(0);
}

pid_t
errlog_handover(struct errlog **all)
{
	pid_t pid = fork();

	if (pid == 0)
		drain(all);
	if (pid == -1)
		return -1;
	while (*all)
		errlog_free(*all, false);
	return pid;
}
