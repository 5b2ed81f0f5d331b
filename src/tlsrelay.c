/*
 * A TLS connection's child (tlsrelay.h). The master forks it and goes on;
 * a client that stalls or sends garbage costs this process alone, which
 * gives up after handshake_timeout. Linux can carry TLS records in the
 * kernel (the "tls" ULP, kTLS): with it the keys could be handed to the
 * socket after the handshake and the handler given the socket itself, with
 * no relay; this kernel has no such module, so the relay copies.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "addr.h"
#include "config.h"
#include "connenv.h"
#include "service.h"
#include "sig.h"
#include "spawn.h"
#include "tls.h"
#include "tlsrelay.h"

/* Room for four TLS records' plaintext each way: one send to the handler
 * for what one read took off the socket, one read of the handler's output
 * for four records (tests/bench/README.md, "TLS"). */
#define RELAY_BUF 65536
#define RECORD 16384

/* A line on the child's stderr (the service's log). */
static void
say(const struct conn *c, const char *what, const char *why)
{
	char ip[ADDR_STRLEN] = "?", line[512];
	int n;

	if (c->known)
		addr_format(&c->addr, ip);
	/* The log names the service and the pid already. */
	n = snprintf(line, sizeof(line), "%s %s: %s\n", what, ip, why);
	if (n > 0)
		(void)!write(2, line, (size_t)n < sizeof(line) ? (size_t)n :
		    sizeof(line) - 1);
}

static void __attribute__((noreturn))
fail(const struct conn *c, int status, const char *what, const char *why)
{
	say(c, what, why);
	_exit(status);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0, or -1 with the reason in why. The socket is non-blocking. */
static int
handshake(SSL *ssl, int fd, unsigned seconds, char *why, size_t len)
{
	int64_t deadline = now_ms() + seconds * 1000LL;

	for (;;) {
		int r = SSL_accept(ssl), left;
		struct pollfd p = { .fd = fd };

		if (r == 1)
			return 0;
		switch (SSL_get_error(ssl, r)) {
		case SSL_ERROR_WANT_READ:
			p.events = POLLIN;
			break;
		case SSL_ERROR_WANT_WRITE:
			p.events = POLLOUT;
			break;
		default:
			tls_error(why, len, "the client closed the connection");
			return -1;
		}
		if ((left = (int)(deadline - now_ms())) <= 0 ||
		    poll(&p, 1, left) == 0) {
			snprintf(why, len, "no handshake within handshake_timeout "
			    "(%us)", seconds);
			return -1;
		}
	}
}

/* The handshake's variables, as s6-tlsserver names them. */
struct tlsenv {
	char proto[32], cipher[80], sni[32 + 256], alpn[16 + 256];
	char hash[32 + 2 * EVP_MAX_MD_SIZE], subject[32 + 512];
	char *v[CONNENV_TLS + 1];
};

static void
env_peer(struct tlsenv *e, SSL *ssl, size_t *n)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t at;

	if (x == NULL)
		return;
	at = (size_t)snprintf(e->subject, sizeof(e->subject),
	    "SSL_PEER_CERT_SUBJECT=");
	X509_NAME_oneline(X509_get_subject_name(x), e->subject + at,
	    (int)(sizeof(e->subject) - at));
	e->v[(*n)++] = e->subject;
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1)
		return;
	at = (size_t)snprintf(e->hash, sizeof(e->hash), "SSL_PEER_CERT_HASH=SHA256:");
	for (unsigned i = 0; i < mdlen; i++)
		at += (size_t)snprintf(e->hash + at, sizeof(e->hash) - at, "%02x", md[i]);
	e->v[(*n)++] = e->hash;
}

static void
env_build(struct tlsenv *e, SSL *ssl)
{
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const unsigned char *alpn;
	unsigned alen = 0;
	size_t n = 0;

	snprintf(e->proto, sizeof(e->proto), "SSL_PROTOCOL=%s", SSL_get_version(ssl));
	e->v[n++] = e->proto;
	snprintf(e->cipher, sizeof(e->cipher), "SSL_CIPHER=%s",
	    SSL_get_cipher_name(ssl));
	e->v[n++] = e->cipher;
	if (sni) {
		snprintf(e->sni, sizeof(e->sni), "SSL_TLS_SNI_SERVERNAME=%s", sni);
		e->v[n++] = e->sni;
	}
	SSL_get0_alpn_selected(ssl, &alpn, &alen);
	if (alen) {
		snprintf(e->alpn, sizeof(e->alpn), "SSL_ALPN=%.*s", (int)alen, alpn);
		e->v[n++] = e->alpn;
	}
	env_peer(e, ssl, &n);
	e->v[n] = NULL;
}

/*
 * What the child keeps of the master's descriptors: 0-2, the connection,
 * the service's stderr and its jail's namespaces (the handler joins them).
 * Everything else, close-on-exec or not, goes now: no exec follows.
 */
static void
keep_only(const int *keep, size_t n)
{
	int sorted[8], lo = 3;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (keep[i] > 2)
			sorted[k++] = keep[i];
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			int t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	for (size_t i = 0; i < k; i++) {
		if (sorted[i] > lo)
			(void)close_range((unsigned)lo, (unsigned)sorted[i] - 1, 0);
		lo = sorted[i] + 1 > lo ? sorted[i] + 1 : lo;
	}
	(void)close_range((unsigned)lo, ~0U, 0);
}

/* The two directions: up from the client to the handler, down back. */
struct relay {
	SSL *ssl;
	int net, loc;
	short net_ev, loc_ev;		/* what the next poll waits for */
	char up[RELAY_BUF], down[RELAY_BUF];
	size_t up_off, up_len, down_off, down_len;
	bool net_eof;		/* the client's close_notify, or its end */
	bool net_dead;		/* the TLS connection failed: nothing more */
	bool loc_eof;		/* the handler closed its output */
	bool up_closed;		/* the handler took its input's end */
	bool shut_sent;		/* close_notify sent to the client */
	/* What each direction's last read would have blocked on: it is not
	 * tried again until poll reports that descriptor (a read(2) that can
	 * only fail EAGAIN per record moved the other way, otherwise). */
	short up_wait, down_wait;
};

/* What an SSL call's failure waits for (POLLIN or POLLOUT, added to the
 * next poll's); 0: it failed for good. */
static short
ssl_wait(struct relay *r, int ret)
{
	switch (SSL_get_error(r->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		r->net_ev |= POLLIN;
		return POLLIN;
	case SSL_ERROR_WANT_WRITE:
		r->net_ev |= POLLOUT;
		return POLLOUT;
	default:
		return 0;
	}
}

/* Client to handler; true when something moved or ended. */
static bool
pump_up(struct relay *r)
{
	ssize_t n;

	if (r->up_len == 0 && !r->net_eof && !r->net_dead && !r->up_closed) {
		if (r->up_wait) {
			r->net_ev |= r->up_wait;
			return false;
		}
		if ((n = SSL_read(r->ssl, r->up, sizeof(r->up))) > 0) {
			r->up_off = 0;
			r->up_len = (size_t)n;
			/* More records already read: into the same send. */
			while (r->up_len + RECORD <= sizeof(r->up) &&
			    SSL_has_pending(r->ssl) && (n = SSL_read(r->ssl,
			    r->up + r->up_len, (int)(sizeof(r->up) - r->up_len))) > 0)
				r->up_len += (size_t)n;
			ERR_clear_error();
		} else if (SSL_get_error(r->ssl, (int)n) == SSL_ERROR_ZERO_RETURN)
			r->net_eof = true;
		else if ((r->up_wait = ssl_wait(r, (int)n)) == 0)
			r->net_dead = true;
		else
			return false;
		if (r->net_eof || r->net_dead)
			(void)shutdown(r->loc, SHUT_WR);
		return true;
	}
	if (r->up_len == 0)
		return false;
	n = send(r->loc, r->up + r->up_off, r->up_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0) {
		r->up_off += (size_t)n;
		r->up_len -= (size_t)n;
		return true;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		r->loc_ev |= POLLOUT;
		return false;
	}
	/* The handler reads no more: what the client sends is dropped. */
	r->up_len = 0;
	r->up_closed = true;
	return true;
}

/* Handler to client; true when something moved or ended. */
static bool
pump_down(struct relay *r)
{
	ssize_t n;

	if (r->down_len == 0 && !r->loc_eof) {
		if (r->down_wait) {
			r->loc_ev |= POLLIN;
			return false;
		}
		n = read(r->loc, r->down, sizeof(r->down));
		if (n > 0) {
			r->down_off = 0;
			r->down_len = (size_t)n;
		} else if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			r->loc_ev |= POLLIN;
			r->down_wait = errno == EAGAIN ? POLLIN : 0;
			return false;
		} else
			r->loc_eof = true;
		return true;
	}
	if (r->down_len > 0 && !r->net_dead) {
		if ((n = SSL_write(r->ssl, r->down + r->down_off, (int)r->down_len)) > 0) {
			r->down_off += (size_t)n;
			r->down_len -= (size_t)n;
		} else if (ssl_wait(r, (int)n))
			return false;
		else
			r->net_dead = true;
		return true;
	}
	if (r->loc_eof && r->down_len == 0 && !r->shut_sent && !r->net_dead) {
		/* The handler's end of output is the client's end of input. */
		r->shut_sent = true;
		(void)SSL_shutdown(r->ssl);
		(void)shutdown(r->net, SHUT_WR);
		return true;
	}
	return false;
}

static bool
relay_done(const struct relay *r)
{
	bool up = (r->net_eof || r->net_dead || r->up_closed) && r->up_len == 0;
	bool down = r->net_dead || (r->loc_eof && r->down_len == 0 && r->shut_sent);

	return up && down;
}

/*
 * Until both directions end. A descriptor nothing waits on is not polled,
 * so a hang-up there cannot spin the loop; but once the handler's output
 * ended, its pair is watched for the hang-up that says every holder of
 * the handler's end closed it (POLLHUP: both directions shut): the
 * connection then ends, as a plain one does when its handler closes it.
 */
static void
relay_run(struct relay *r)
{
	while (!relay_done(r)) {
		bool watch_hup = r->loc_eof && !r->up_closed;
		struct pollfd p[2];

		r->net_ev = r->loc_ev = 0;
		bool moved = pump_up(r);
		moved = pump_down(r) || moved;
		if (moved)
			continue;
		p[0] = (struct pollfd){ .fd = r->net_ev ? r->net : -1,
		    .events = r->net_ev };
		p[1] = (struct pollfd){ .fd = r->loc_ev || watch_hup ? r->loc : -1,
		    .events = r->loc_ev };
		if (p[0].fd == -1 && p[1].fd == -1)
			break;
		if (poll(p, 2, -1) == -1 && errno != EINTR)
			break;
		if (p[0].revents)
			r->up_wait = 0;
		if (p[1].revents)
			r->down_wait = 0;
		if (watch_hup && (p[1].revents & POLLHUP)) {
			r->up_closed = true;
			r->up_len = 0;
		}
	}
}

/*
 * The relay gives up root once the handler runs: it takes the service's
 * user, or nobody where the service names none. No one of that user may
 * read its memory (the session's keys, and every TLS service's private
 * key, which the fork copied): it is not dumpable, so not traceable.
 */
static int
relay_drop(const struct svc_conf *sc)
{
	uid_t uid = sc->uid;
	gid_t gid = sc->gid;

	if (geteuid() == 0) {
		if (!sc->set_ids) {
			struct passwd *pw = getpwnam("nobody");
			uid = pw ? pw->pw_uid : 65534;
			gid = pw ? pw->pw_gid : 65534;
		}
		if (setgroups(0, NULL) == -1 || setgid(gid) == -1 ||
		    setuid(uid) == -1 || (uid != 0 && setuid(0) != -1))
			return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return 0;
}

/* Ends as the handler did; its TLSRELAY_EXIT_HANDSHAKE reads as 1. */
static void __attribute__((noreturn))
end_as(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			_exit(1);
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		raise(WTERMSIG(status));
	}
	_exit(WIFEXITED(status) && WEXITSTATUS(status) !=
	    TLSRELAY_EXIT_HANDSHAKE ? WEXITSTATUS(status) : 1);
}

/* The handler on one end of a pair, through spawn.c as any handler. One
 * that could not be executed has exited 127, which the relay then does. */
static pid_t
start_handler(struct spawner *sp, const struct service *svc,
    const struct conn *c, struct tlsenv *env, int end)
{
	struct conn hc = *c;
	enum spawn_step step;
	int err = 0;
	pid_t pid;

	hc.fd = end;
	hc.errfd = -1;		/* our fd 2 is the service's stderr already */
	hc.tlsenv = env->v;
	hc.in_group = true;
	pid = spawn_server(sp, svc, &hc, NULL, &err, &step);
	if (pid == -1)
		fail(c, 1, "cannot start the handler for", strerror(errno));
	if (err) {
		char why[160];
		snprintf(why, sizeof(why), "%s: %s", step == SPAWN_EXEC ?
		    svc->conf->server : spawn_step_name(step), strerror(err));
		say(c, "cannot start the handler for", why);
		end_as(pid);
	}
	return pid;
}

static void __attribute__((noreturn))
child_main(struct spawner *sp, const struct service *svc, const struct conn *c)
{
	static struct relay r;
	struct tlsenv env;
	char why[256];
	int pair[2];
	pid_t pid;

	(void)setpgid(0, 0);
	(void)prctl(PR_SET_DUMPABLE, 0);
	if (c->errfd != -1)
		(void)dup2(c->errfd, 2);
	keep_only((int[]){ c->fd, svc->jns.mnt, svc->jns.net }, 3);
	sig_child_reset();
	signal(SIGPIPE, SIG_IGN);
	/* r is zero, never touched by the master: setting it whole would
	 * write (and fault in) its buffers' pages for nothing. */
	r.net = c->fd;
	r.ssl = SSL_new(svc->tls->ctx);
	if (r.ssl == NULL || SSL_set_fd(r.ssl, c->fd) != 1 ||
	    fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1)
		fail(c, TLSRELAY_EXIT_HANDSHAKE, "TLS with", "out of memory");
	/* Each write is a whole record: with Nagle, one written while the
	 * last is not yet acknowledged (the tickets, then the handler's
	 * first line) waits for the client's delayed ACK, 40 ms. */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (handshake(r.ssl, c->fd, svc->conf->tls->handshake_timeout, why,
	    sizeof(why)) == -1)
		fail(c, TLSRELAY_EXIT_HANDSHAKE, "TLS handshake with", why);
	env_build(&env, r.ssl);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == -1)
		fail(c, 1, "socketpair for", strerror(errno));
	pid = start_handler(sp, svc, c, &env, pair[1]);
	close(pair[1]);
	close(0);
	close(1);
	keep_only((int[]){ c->fd, pair[0] }, 2);
	r.loc = pair[0];
	if (fcntl(r.loc, F_SETFL, O_NONBLOCK) == -1 || relay_drop(svc->conf) == -1) {
		kill(pid, SIGTERM);
		fail(c, 1, "cannot relay for", strerror(errno));
	}
	relay_run(&r);
	close(r.loc);
	close(r.net);
	end_as(pid);
}

pid_t
tlsrelay_spawn(struct spawner *sp, const struct service *svc,
    const struct conn *c, int *pidfd)
{
	pid_t pid;

	if (pidfd)
		*pidfd = -1;
	if ((pid = fork()) == 0)
		child_main(sp, svc, c);
	if (pid > 0 && pidfd)
		*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return pid;
}
