/*
 * A TLS service's zygote (tlszygote.h). The master forks a copy of itself
 * once; the copy forks each connection's child, so the cost of copying the
 * master's page tables and of the faults that follow (tests/bench/README.md)
 * is the zygote's, once per connection, and the master's once per
 * configuration. The master does not wait for the child's pid: it sends the
 * request and goes on, and the pid comes later on the watched socket
 * (tlszygote.h says what becomes of a connection handed over).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "connenv.h"
#include "loop.h"
#include "forked.h"
#include "log.h"
#include "service.h"
#include "sig.h"
#include "spawn.h"
#include "tlsrelay.h"
#include "tlszygote.h"

/* How long a request may go unanswered before the zygote is taken for
 * stuck, and how long a stuck one's socket may then take to end: far
 * above a fork on a loaded machine. */
#define ZYGOTE_WAIT_MS 5000

struct request;

/* A request sent, until its answer: the connection stays the master's
 * too, should it have to fork the child. */
struct pending {
	struct pending *next;
	uint64_t sent_ms;
	int fd;
	void *arg;
	struct request *rq;
};

struct tlszygote {
	int pidfd;		/* -1 once it has been ended */
	pid_t pid;
	uint32_t seq;		/* the last request's */
	struct service *svc;	/* whose zygote it is or was */
	struct loop *loop;
	struct watch answers;	/* the master's end of the pair */
	struct timer deadline;
	struct pending *head, **tail;	/* in the order sent */
	bool retired;		/* no longer svc's: ended, or taken for stuck */
	bool hearing;		/* in on_answers(), which frees it last */
};

static tlszygote_done_fn *zygote_done;

/*
 * What of a connection is its own (struct conn), as values: the pointers'
 * targets are copied in. The connection and its stderr come beside it
 * (SCM_RIGHTS), the stderr only when has_errfd.
 */
struct request {
	uint32_t seq;
	bool has_peer, has_local, has_cred, known, has_errfd;
	struct sockaddr_storage peer, local;
	struct ucred cred;
	unsigned connnum;
	struct addr addr;
	uint16_t port;
	uid_t own_id, relay_id;
	/* A PROXY header's variables (connenv.h), each NUL-terminated. */
	unsigned nproxy;
	char proxy[sizeof(struct connenv_proxy)];
};

/* From a connection's child: its pid; from the zygote, when it could not
 * fork one: 0. */
struct answer {
	uint32_t seq;
	pid_t pid;
};

static size_t
sockaddr_size(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sa->sa_family == AF_UNIX ? sizeof(struct sockaddr_un) :
	    sizeof(struct sockaddr);
}

/* c as a request; false when its PROXY variables do not fit (never with
 * connenv.h's bounds). */
static bool
request_make(struct request *rq, const struct conn *c)
{
	size_t used = 0;

	memset(rq, 0, sizeof(*rq));
	if ((rq->has_peer = c->peer != NULL))
		memcpy(&rq->peer, c->peer, sockaddr_size(c->peer));
	if ((rq->has_local = c->local != NULL))
		memcpy(&rq->local, c->local, sockaddr_size(c->local));
	if ((rq->has_cred = c->cred != NULL))
		rq->cred = *c->cred;
	rq->known = c->known;
	rq->has_errfd = c->errfd != -1;
	rq->connnum = c->connnum;
	rq->addr = c->addr;
	rq->port = c->port;
	rq->own_id = c->own_id;
	rq->relay_id = c->relay_id;
	for (char *const *v = c->proxyenv; v && *v; v++, rq->nproxy++) {
		size_t len = strlen(*v) + 1;
		if (len > sizeof(rq->proxy) - used || rq->nproxy == CONNENV_PROXY)
			return false;
		memcpy(rq->proxy + used, *v, len);
		used += len;
	}
	return true;
}

/* The connection a request describes, pointing into rq and proxy. */
static void
request_conn(struct request *rq, char *proxy[CONNENV_PROXY + 1], int fd,
    int errfd, struct conn *c)
{
	char *p = rq->proxy;

	rq->proxy[sizeof(rq->proxy) - 1] = '\0';
	for (unsigned i = 0; i < rq->nproxy && i < CONNENV_PROXY; i++) {
		proxy[i] = p;
		p += strlen(p) + 1;
		if (p >= rq->proxy + sizeof(rq->proxy))
			p = rq->proxy + sizeof(rq->proxy) - 1;
	}
	proxy[rq->nproxy < CONNENV_PROXY ? rq->nproxy : CONNENV_PROXY] = NULL;
	*c = (struct conn){ .fd = fd, .errfd = errfd,
	    .peer = rq->has_peer ? (struct sockaddr *)&rq->peer : NULL,
	    .local = rq->has_local ? (struct sockaddr *)&rq->local : NULL,
	    .connnum = rq->connnum, .cred = rq->has_cred ? &rq->cred : NULL,
	    .addr = rq->addr, .port = rq->port, .known = rq->known,
	    .own_id = rq->own_id, .relay_id = rq->relay_id,
	    .proxyenv = rq->nproxy ? proxy : NULL };
}

/*
 * The connection's child, the master's: it tells the master its pid
 * first, before anything can end it, then is what the master's own fork
 * would have been. Its forked_keep() closes the zygote's socket.
 */
static void __attribute__((noreturn))
zygote_child(struct spawner *sp, const struct service *svc, int sock,
    struct request *rq, int fd, int errfd)
{
	struct answer a = { .seq = rq->seq, .pid = getpid() };
	char *proxy[CONNENV_PROXY + 1];
	struct conn c;

	(void)send(sock, &a, sizeof(a), MSG_NOSIGNAL);
	(void)prctl(PR_SET_NAME, "sockd");
	request_conn(rq, proxy, fd, errfd, &c);
	tlsrelay_child(sp, svc, &c);
}

/* The descriptors that came with a message, up to max; how many. */
static int
taken_fds(struct msghdr *mh, int *fds, int max)
{
	int n = 0;

	for (struct cmsghdr *h = CMSG_FIRSTHDR(mh); h; h = CMSG_NXTHDR(mh, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (n < max)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/* One request: a child for it, or the answer that none was made. */
static void
zygote_serve(struct spawner *sp, const struct service *svc, int sock)
{
	static struct request rq;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = &rq, .iov_len = sizeof(rq) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cm.b, .msg_controllen = sizeof(cm.b) };
	struct answer no = { 0 };
	int fds[2] = { -1, -1 }, n;
	ssize_t got = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	pid_t pid = -1;

	if (got == 0 || (got == -1 && errno != EINTR))
		_exit(0);	/* the master is gone, or replaced us */
	if (got == -1)
		return;
	n = taken_fds(&mh, fds, 2);
	if ((size_t)got == sizeof(rq) && n == 1 + rq.has_errfd &&
	    !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL,
		    NULL, 0);
	if (pid == 0)
		zygote_child(sp, svc, sock, &rq, fds[0], rq.has_errfd ? fds[1] : -1);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	if (pid == -1) {
		no.seq = rq.seq;
		(void)send(sock, &no, sizeof(no), MSG_NOSIGNAL);
	}
}

/*
 * The zygote: the master's copy, with the service's contexts. It holds its
 * socket, 0-2 (open, so that a connection never lands there: the child
 * closes 0 and 1) and the jail's namespaces, which handlers join.
 */
static void __attribute__((noreturn))
zygote_main(struct spawner *sp, const struct service *svc, int sock,
    pid_t master)
{
	(void)prctl(PR_SET_NAME, "sockd-tls");
	(void)prctl(PR_SET_DUMPABLE, 0);
	if (forked_tie(master) == -1)
		_exit(0);
	forked_keep((int[]){ sock, svc->jns.mnt, svc->jns.net }, 3);
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) == -1 && open("/dev/null", O_RDWR) != fd)
			_exit(1);
	sig_child_reset();
	/* Only the master's own, kept aside for lending: closed here. */
	sp->own_in = sp->own_err = -1;
	for (;;)
		zygote_serve(sp, svc, sock);
}

/* Linux before 5.3 has no pidfds, without which the zygote could not be
 * told from a process that took its pid: the master forks each child. */
static bool no_pidfd;

static void on_answers(struct watch *);
static void on_deadline(struct timer *);

/* A zygote for svc as it is now; NULL where none could be made. */
static struct tlszygote *
zygote_start(struct loop *loop, struct spawner *sp, struct service *svc)
{
	struct tlszygote *z;
	pid_t master = getpid();
	int sv[2];

	if (no_pidfd || (z = calloc(1, sizeof(*z))) == NULL)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("service \"%s\": TLS zygote: socketpair", svc->conf->name);
		free(z);
		return NULL;
	}
	if ((z->pid = fork()) == 0)
		zygote_main(sp, svc, sv[1], master);
	close(sv[1]);
	*z = (struct tlszygote){ .pid = z->pid, .svc = svc, .loop = loop,
	    .answers = { .fd = sv[0], .fn = on_answers, .arg = z },
	    .deadline = { .fn = on_deadline, .arg = z }, .tail = &z->head };
	/* Ours, and not waited for: the pid cannot have been reused. The
	 * master's end never blocks: a full socket is a zygote that cannot
	 * take the connection now. */
	if (z->pid == -1 ||
	    (z->pidfd = (int)syscall(SYS_pidfd_open, z->pid, 0)) == -1 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    loop_enable(loop, &z->answers, true) == -1) {
		if (z->pid != -1 && errno == ENOSYS)
			no_pidfd = true;
		else
			log_warn("service \"%s\": cannot start its TLS zygote",
			    svc->conf->name);
		if (z->pid != -1) {
			(void)kill(z->pid, SIGKILL);
			(void)waitpid(z->pid, NULL, 0);
		}
		if (z->pidfd > 0)
			close(z->pidfd);
		loop_remove(loop, &z->answers);
		close(sv[0]);
		free(z);
		return NULL;
	}
	return z;
}

/* Frees a retired zygote once nothing of it is awaited. */
static void
zygote_free(struct tlszygote *z)
{
	if (!z->retired || z->head != NULL || z->hearing)
		return;
	loop_timer_stop(z->loop, &z->deadline);
	loop_remove(z->loop, &z->answers);
	close(z->answers.fd);
	free(z);
}

/*
 * z takes no more requests: it is killed and waited for (a process killed
 * ends at once). Its socket stays watched while requests await their
 * answer: a child it made tells its pid before it lets go of the socket,
 * so the socket's end says that no more will come.
 */
static void
zygote_retire(struct tlszygote *z)
{
	siginfo_t si;

	if (z->retired)
		return;
	z->retired = true;
	if (z->svc->zygote == z)
		z->svc->zygote = NULL;
	/* It may have been reaped by waitpid(-1) already (ECHILD): the pidfd
	 * still names it, never a process that took its pid since. */
	(void)syscall(SYS_pidfd_send_signal, z->pidfd, SIGKILL, NULL, 0);
	while (waitid(P_PIDFD, (id_t)z->pidfd, &si, WEXITED) == -1 &&
	    errno == EINTR)
		;
	close(z->pidfd);
	z->pidfd = -1;
	if (z->head && loop_timer_set(z->loop, &z->deadline, ZYGOTE_WAIT_MS) == -1)
		log_warn("service \"%s\": its TLS zygote's requests have no "
		    "deadline", z->svc->conf->name);
	zygote_free(z);
}

void
tlszygote_end(struct service *svc)
{
	if (svc->zygote)
		zygote_retire(svc->zygote);
}

static void
pending_free(struct pending *p)
{
	close(p->fd);
	free(p->rq);
	free(p);
}

/*
 * Tells the owner what became of p (tlszygote.h) and forgets it. done
 * may hand another connection to a zygote, this one too.
 */
static void
finish(struct pending *p, pid_t pid)
{
	char *proxy[CONNENV_PROXY + 1];
	struct conn c;

	request_conn(p->rq, proxy, p->fd, -1, &c);
	zygote_done(p->arg, pid, &c);
	pending_free(p);
}

/* The request seq awaits, taken from the list; NULL if none does. */
static struct pending *
take(struct tlszygote *z, uint32_t seq)
{
	for (struct pending **pp = &z->head; *pp; pp = &(*pp)->next)
		if ((*pp)->rq->seq == seq) {
			struct pending *p = *pp;
			if ((*pp = p->next) == NULL)
				z->tail = pp;
			return p;
		}
	return NULL;
}

/* Every request still awaiting, told pid (0: no child was made; -1: whether
 * one was cannot be known). */
static void
finish_all(struct tlszygote *z, pid_t pid)
{
	struct pending *p;

	z->hearing = true;
	while ((p = z->head) != NULL) {
		if ((z->head = p->next) == NULL)
			z->tail = &z->head;
		finish(p, pid);
	}
	z->hearing = false;
	zygote_free(z);
}

/* The next deadline: the oldest request's, while z is in service. */
static void
deadline_arm(struct tlszygote *z)
{
	if (z->retired)
		return;
	if (z->head == NULL)
		loop_timer_stop(z->loop, &z->deadline);
	else if (loop_timer_set(z->loop, &z->deadline, z->head->sent_ms +
	    ZYGOTE_WAIT_MS > loop_now_ms() ? z->head->sent_ms + ZYGOTE_WAIT_MS -
	    loop_now_ms() : 0) == -1)
		log_warn("service \"%s\": its TLS zygote's requests have no "
		    "deadline", z->svc->conf->name);
}

/*
 * The socket's end: the zygote and every child it made have let go of it,
 * and those children told their pids, so a request still awaiting has no
 * child: the master forks it.
 */
static void
zygote_lost(struct tlszygote *z)
{
	z->hearing = true;	/* freed by finish_all(), not before */
	if (!z->retired)
		log_warnx("service \"%s\": its TLS zygote (pid %ld) has ended; "
		    "the next connection starts another", z->svc->conf->name,
		    (long)z->pid);
	zygote_retire(z);
	finish_all(z, 0);
}

/*
 * Answers: a child's pid, or the zygote's 0 when it could not fork one.
 * Only the zygote and the children it forks hold the other end; the pid
 * is the owner's to check (tlszygote.h).
 */
static void
on_answers(struct watch *w)
{
	struct tlszygote *z = w->arg;
	struct answer a;
	struct pending *p;
	ssize_t n;

	/* Read while answers are awaited (then the socket is read again
	 * when it is readable: its end, or a stray message); not until
	 * EAGAIN, which would cost a call per connection. */
	z->hearing = true;
	do {
		if ((n = recv(w->fd, &a, sizeof(a), MSG_DONTWAIT)) == -1 &&
		    errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			zygote_lost(z);	/* frees z */
			return;
		}
		if (n == sizeof(a) && (p = take(z, a.seq)) != NULL)
			finish(p, a.pid > 0 ? a.pid : a.pid == 0 ? 0 : -1);
	} while (z->head != NULL);
	z->hearing = false;
	deadline_arm(z);
	zygote_free(z);
}

/*
 * In service: the oldest request unanswered for ZYGOTE_WAIT_MS, the zygote
 * is stuck and ended. Ended: its socket has not ended either, so whether
 * a child runs for those left cannot be known; they are refused.
 */
static void
on_deadline(struct timer *t)
{
	struct tlszygote *z = t->arg;

	if (z->retired) {
		log_warnx("service \"%s\": %s connection(s) handed to its ended "
		    "TLS zygote (pid %ld) are refused: no answer", z->svc->conf->name,
		    z->head && z->head->next ? "some" : "a", (long)z->pid);
		finish_all(z, -1);
		return;
	}
	if (z->head && z->head->sent_ms + ZYGOTE_WAIT_MS > loop_now_ms()) {
		deadline_arm(z);
		return;
	}
	log_warnx("service \"%s\": its TLS zygote (pid %ld) did not answer "
	    "within %d ms: ended", z->svc->conf->name, (long)z->pid,
	    ZYGOTE_WAIT_MS);
	zygote_retire(z);
}

static bool
hand_over(struct tlszygote *z, const struct conn *c, struct request *rq)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = rq, .iov_len = sizeof(*rq) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cm.b,
	    .msg_controllen = CMSG_SPACE((1 + rq->has_errfd) * sizeof(int)) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
	int fds[2] = { c->fd, c->errfd };

	memset(&cm, 0, sizeof(cm));
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN((1 + rq->has_errfd) * sizeof(int));
	memcpy(CMSG_DATA(h), fds, (1 + rq->has_errfd) * sizeof(int));
	rq->seq = z->seq + 1;
	if (sendmsg(z->answers.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)sizeof(*rq))
		return false;
	z->seq++;
	return true;
}

/* A record of c awaiting its answer; NULL (errno set) if it cannot be
 * had. */
static struct pending *
pending_new(const struct conn *c, void *arg)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->rq = malloc(sizeof(*p->rq))) == NULL ||
	    !request_make(p->rq, c)) {
		if (p)
			free(p->rq);
		free(p);
		return NULL;
	}
	p->arg = arg;
	p->fd = c->fd;
	return p;
}

bool
tlszygote_hand(struct loop *loop, struct spawner *sp, struct service *svc,
    struct conn *c, tlszygote_done_fn *done, void *arg)
{
	struct tlszygote *z;
	struct pending *p;

	if (svc->zygote == NULL)
		svc->zygote = zygote_start(loop, sp, svc);
	if ((z = svc->zygote) == NULL || (p = pending_new(c, arg)) == NULL)
		return false;
	if (!hand_over(z, c, p->rq)) {
		free(p->rq);
		free(p);
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return false;	/* it is behind: this one is ours */
		/* EPIPE: it has ended; else it cannot take this connection. */
		log_warn("service \"%s\": cannot hand a connection to its TLS "
		    "zygote (pid %ld); it is ended, the next connection starts "
		    "another", svc->conf->name, (long)z->pid);
		zygote_retire(z);
		return false;
	}
	zygote_done = done;
	c->fd = -1;	/* the pending record's now */
	p->sent_ms = loop_now_ms();
	*z->tail = p;
	z->tail = &p->next;
	if (!loop_timer_armed(&z->deadline))
		deadline_arm(z);
	return true;
}
