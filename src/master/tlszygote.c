/*
 * A TLS service's zygote (tlszygote.h). The master forks a copy of itself
 * once; the copy forks each connection's child, so the cost of copying the
 * master's page tables and of the faults that follow (tests/bench/README.md)
 * is the zygote's, once per connection, and the master's once per
 * configuration. One request is outstanding at a time: the master waits for
 * the child's pid, as it waits for a plain handler's clone(), so a child
 * that ends at once is still the master's unreaped child when it is
 * recorded, and nothing reaps it before that.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include "forked.h"
#include "log.h"
#include "service.h"
#include "sig.h"
#include "spawn.h"
#include "tlsrelay.h"
#include "tlszygote.h"

/* How long the master waits for a child's pid before it takes the zygote
 * for stuck: far above a fork on a loaded machine. */
#define ZYGOTE_WAIT_MS 5000

struct tlszygote {
	int sock;		/* the master's end of the pair */
	int pidfd;
	pid_t pid;
	uint32_t seq;		/* the last request's */
};

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

/* A zygote for svc as it is now; NULL where none could be made. */
static struct tlszygote *
zygote_start(struct spawner *sp, struct service *svc)
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
	z->sock = sv[0];
	/* Ours, and not waited for: the pid cannot have been reused. */
	if (z->pid == -1 ||
	    (z->pidfd = (int)syscall(SYS_pidfd_open, z->pid, 0)) == -1) {
		if (z->pid != -1 && errno == ENOSYS)
			no_pidfd = true;
		else
			log_warn("service \"%s\": cannot start its TLS zygote",
			    svc->conf->name);
		if (z->pid != -1) {
			(void)kill(z->pid, SIGKILL);
			(void)waitpid(z->pid, NULL, 0);
		}
		close(z->sock);
		free(z);
		return NULL;
	}
	return z;
}

void
tlszygote_end(struct service *svc)
{
	struct tlszygote *z = svc->zygote;
	siginfo_t si;

	if (z == NULL)
		return;
	svc->zygote = NULL;
	close(z->sock);
	/* It may have been reaped by waitpid(-1) already (ECHILD): the pidfd
	 * still names it, never a process that took its pid since. */
	(void)syscall(SYS_pidfd_send_signal, z->pidfd, SIGKILL, NULL, 0);
	while (waitid(P_PIDFD, (id_t)z->pidfd, &si, WEXITED) == -1 &&
	    errno == EINTR)
		;
	close(z->pidfd);
	free(z);
}

/* The outcomes of waiting for an answer. */
enum heard { HEARD_PID, HEARD_NONE, HEARD_END, HEARD_NOTHING };

/*
 * The child's pid for request seq (HEARD_PID); HEARD_NONE: the zygote
 * could not fork it; HEARD_END: every holder of the zygote's end is gone,
 * so no child was made (a child tells its pid before it lets go of the
 * socket); HEARD_NOTHING: no answer within ms.
 */
static enum heard
hear(int sock, uint32_t seq, int ms, pid_t *pid)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	struct answer a;
	ssize_t n;

	for (;;) {
		int r = poll(&p, 1, ms);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return HEARD_NOTHING;
		if ((n = recv(sock, &a, sizeof(a), 0)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return HEARD_END;
		if (n != sizeof(a) || a.seq != seq)
			continue;	/* not this request's */
		*pid = a.pid;
		return a.pid > 0 ? HEARD_PID : HEARD_NONE;
	}
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
	rq->seq = ++z->seq;
	return sendmsg(z->sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(*rq);
}

/*
 * The child's pid from the zygote; 0 when it made none (the master forks
 * it then); -1 with errno when whether one runs cannot be known: the
 * zygote was stuck, was ended, and no pid came.
 */
static pid_t
zygote_hand(struct service *svc, const struct conn *c)
{
	static struct request rq;
	struct tlszygote *z = svc->zygote;
	pid_t pid = 0;
	enum heard h;

	if (!request_make(&rq, c))
		return 0;
	if (!hand_over(z, c, &rq)) {
		/* EPIPE: it has ended; else it cannot take this connection. */
		log_warn("service \"%s\": cannot hand a connection to its TLS "
		    "zygote (pid %ld); it is ended, the next connection starts "
		    "another", svc->conf->name, (long)z->pid);
		tlszygote_end(svc);
		return 0;
	}
	if ((h = hear(z->sock, rq.seq, ZYGOTE_WAIT_MS, &pid)) ==
	    HEARD_NOTHING) {
		log_warnx("service \"%s\": its TLS zygote (pid %ld) did not answer "
		    "within %d ms: ended", svc->conf->name, (long)z->pid,
		    ZYGOTE_WAIT_MS);
		(void)syscall(SYS_pidfd_send_signal, z->pidfd, SIGKILL, NULL, 0);
		/* A child it made has its pid on the way; else the end comes. */
		if ((h = hear(z->sock, rq.seq, ZYGOTE_WAIT_MS, &pid)) ==
		    HEARD_NOTHING) {
			tlszygote_end(svc);
			errno = ETIMEDOUT;
			return -1;
		}
		tlszygote_end(svc);
		return h == HEARD_PID ? pid : 0;
	}
	if (h == HEARD_END) {
		log_warnx("service \"%s\": its TLS zygote (pid %ld) has ended; "
		    "the next connection starts another", svc->conf->name,
		    (long)z->pid);
		tlszygote_end(svc);
	}
	return h == HEARD_PID ? pid : 0;
}

pid_t
tlszygote_spawn(struct spawner *sp, struct service *svc, const struct conn *c,
    int *pidfd)
{
	pid_t pid = 0;

	if (svc->zygote == NULL)
		svc->zygote = zygote_start(sp, svc);
	if (svc->zygote && (pid = zygote_hand(svc, c)) == -1)
		return -1;
	if (pid == 0)
		return tlsrelay_spawn(sp, svc, c, pidfd);
	if (pidfd)
		*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return pid;
}
