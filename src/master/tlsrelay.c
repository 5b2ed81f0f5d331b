/*
 * A TLS connection's child (tlsrelay.h). The service's zygote forks it
 * (tlszygote.h), or the master where there is none, and goes on;
 * a client that stalls or sends garbage costs this process alone, which
 * gives up after handshake_timeout. Linux can carry TLS records in the
 * kernel (the "tls" ULP, kTLS): with it the keys could be handed to the
 * socket after the handshake and the handler given the socket itself, with
 * no relay; this kernel has no such module, so the relay copies.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "connenv.h"
#include "forked.h"
#include "service.h"
#include "sig.h"
#include "spawn.h"
#include "tlsenv.h"
#include "tlsmod.h"
#include "tlsrelay.h"

/* Room for one TLS record's plaintext each way. */
#define RELAY_BUF 65536

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

/* The two directions: up from the client to the handler, down back. */
struct relay {
	const struct tlsmod *m;
	struct tlsconn *tc;
	int net;
	/* The handler's side: one socket (both the same), or with STARTTLS
	 * a pipe each way; -1 once the relay closed its output. */
	int loc_in, loc_out;
	short net_ev, in_ev, out_ev;	/* what the next poll waits for */
	char up[RELAY_BUF], down[RELAY_BUF];
	size_t up_off, up_len, down_off, down_len;
	bool net_eof;		/* the client's close_notify, or its end */
	bool net_dead;		/* the TLS connection failed: nothing more */
	bool loc_eof;		/* the handler closed its output */
	bool up_closed;		/* the handler took its input's end */
	bool shut_sent;		/* close_notify sent to the client */
	/* What each direction's last read would have blocked on: it is not
	 * tried again until poll reports that descriptor (else a read that
	 * can only fail EAGAIN, each time a record moves the other way). */
	short up_wait, down_wait;
};

/* What a TLS read or write waits for (added to the next poll's); 0: it
 * did not wait. */
static short
tls_wait(struct relay *r, int ret)
{
	short ev = ret == TLSIO_WANT_READ ? POLLIN :
	    ret == TLSIO_WANT_WRITE ? POLLOUT : 0;

	r->net_ev |= ev;
	return ev;
}

/* The end of the handler's input. */
static void
loc_end_out(struct relay *r)
{
	if (r->loc_out == r->loc_in)
		(void)shutdown(r->loc_out, SHUT_WR);
	else if (r->loc_out != -1) {
		close(r->loc_out);
		r->loc_out = -1;
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
		if ((n = r->m->conn_read(r->tc, r->up, sizeof(r->up))) > 0) {
			r->up_off = 0;
			r->up_len = (size_t)n;
		} else if (n == TLSIO_EOF)
			r->net_eof = true;
		else if ((r->up_wait = tls_wait(r, (int)n)) == 0)
			r->net_dead = true;
		else
			return false;
		if (r->net_eof || r->net_dead)
			loc_end_out(r);
		return true;
	}
	if (r->up_len == 0)
		return false;
	/* Non-blocking; SIGPIPE is ignored. */
	n = write(r->loc_out, r->up + r->up_off, r->up_len);
	if (n > 0) {
		r->up_off += (size_t)n;
		r->up_len -= (size_t)n;
		return true;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		r->out_ev |= POLLOUT;
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
			r->in_ev |= POLLIN;
			return false;
		}
		n = read(r->loc_in, r->down, sizeof(r->down));
		if (n > 0) {
			r->down_off = 0;
			r->down_len = (size_t)n;
		} else if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			r->in_ev |= POLLIN;
			r->down_wait = errno == EAGAIN ? POLLIN : 0;
			return false;
		} else
			r->loc_eof = true;
		return true;
	}
	if (r->down_len > 0 && !r->net_dead) {
		if ((n = r->m->conn_write(r->tc, r->down + r->down_off,
		    r->down_len)) > 0) {
			r->down_off += (size_t)n;
			r->down_len -= (size_t)n;
		} else if (tls_wait(r, (int)n))
			return false;
		else
			r->net_dead = true;
		return true;
	}
	if (r->loc_eof && r->down_len == 0 && !r->shut_sent && !r->net_dead) {
		/* The handler's end of output is the client's end of input. */
		r->shut_sent = true;
		r->m->conn_shutdown(r->tc);
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
 * ended, its input is watched for the hang-up that says every holder of
 * the handler's end closed it (POLLHUP on the pair, both directions shut;
 * POLLERR on a pipe whose reader is gone): the connection then ends, as a
 * plain one does when its handler closes it.
 */
static void
relay_run(struct relay *r)
{
	while (!relay_done(r)) {
		bool watch_hup = r->loc_eof && !r->up_closed && r->loc_out != -1;
		struct pollfd p[3];

		r->net_ev = r->in_ev = r->out_ev = 0;
		bool moved = pump_up(r);
		moved = pump_down(r) || moved;
		if (moved)
			continue;
		p[0] = (struct pollfd){ .fd = r->net_ev ? r->net : -1,
		    .events = r->net_ev };
		p[1] = (struct pollfd){ .fd = r->in_ev ? r->loc_in : -1,
		    .events = r->in_ev };
		p[2] = (struct pollfd){ .fd = r->out_ev || watch_hup ? r->loc_out : -1,
		    .events = r->out_ev };
		if (p[0].fd == -1 && p[1].fd == -1 && p[2].fd == -1)
			break;
		if (poll(p, 3, -1) == -1 && errno != EINTR)
			break;
		if (p[0].revents)
			r->up_wait = 0;
		if (p[1].revents)
			r->down_wait = 0;
		if (watch_hup && (p[2].revents & (POLLHUP | POLLERR))) {
			r->up_closed = true;
			r->up_len = 0;
		}
	}
}

/*
 * The relay gives up root before it reads a byte of the client's: it
 * takes the id the master gave this connection's relay alone (jail_ids),
 * which no handler and no other relay runs as, so that no handler can
 * signal it, and none can read its memory (the session's keys, and every
 * TLS service's private key, which the fork copied): it is not dumpable,
 * so not traceable. Without root there is nothing to give up: it stays
 * sockd's user, as the handler does.
 */
static int
relay_drop(const struct conn *c)
{
	uid_t id = c->relay_id;

	if (geteuid() == 0) {
		if (id == 0)
			return errno = EPERM, -1;
		if (setgroups(0, NULL) == -1 || setgid(id) == -1 ||
		    setuid(id) == -1 || setuid(0) != -1)
			return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return 0;
}

/* A child's wait status once it has ended; -1: it cannot be waited for. */
static int
reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Ends as the handler did, once the relay (0: none, or this process) has
 * ended too, so that no process runs as the relay's id when the master
 * gives it back; the handler's TLSRELAY_EXIT_HANDSHAKE reads as 1. */
static void __attribute__((noreturn))
end_as(pid_t pid, pid_t relay)
{
	int status = reap(pid);

	if (relay > 0)
		(void)reap(relay);
	if (status == -1)
		_exit(1);
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		raise(WTERMSIG(status));
	}
	_exit(WIFEXITED(status) && WEXITSTATUS(status) !=
	    TLSRELAY_EXIT_HANDSHAKE ? WEXITSTATUS(status) : 1);
}

/* A handshake refused ends the connection once the handler has: the
 * master counts it as the refusal, whatever the handler did. */
static void __attribute__((noreturn))
end_refused(pid_t pid)
{
	(void)reap(pid);
	_exit(TLSRELAY_EXIT_HANDSHAKE);
}

/* The handler, through spawn.c as any handler, on fd (0 and 1) with the
 * variables env and the descriptors pass (spawn.h) besides. One that
 * could not be executed has exited 127, which this process then does,
 * once relay (0: none), which fd's end tells, has ended. */
static pid_t
start_handler(struct spawner *sp, const struct service *svc,
    const struct conn *c, char *const *env, int fd, const int *pass,
    unsigned npass, pid_t relay)
{
	struct conn hc = *c;
	enum spawn_step step;
	int err = 0;
	pid_t pid;

	hc.fd = fd;
	hc.errfd = -1;		/* our fd 2 is the service's stderr already */
	hc.tlsenv = env;
	hc.in_group = true;
	hc.pass = pass;
	hc.npass = npass;
	pid = spawn_server(sp, svc, &hc, NULL, &err, &step);
	if (pid == -1) {
		say(c, "cannot start the handler for", strerror(errno));
		close(fd);
		if (relay > 0)
			(void)reap(relay);
		_exit(1);
	}
	if (err) {
		char why[160];
		snprintf(why, sizeof(why), "%s: %s", step == SPAWN_EXEC ?
		    svc->conf->server : spawn_step_name(step), strerror(err));
		say(c, "cannot start the handler for", why);
		close(fd);
		end_as(pid, relay);
	}
	return pid;
}

/* Carries the bytes until both directions end, then ends as the handler. */
static void __attribute__((noreturn))
relay_until_end(struct relay *r, pid_t pid)
{
	relay_run(r);
	close(r->loc_in);
	if (r->loc_out != r->loc_in && r->loc_out != -1)
		close(r->loc_out);
	close(r->net);
	end_as(pid, 0);
}

/* Reads len bytes, or fewer at the end of the pipe; the count read. */
static size_t
read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len && ((n = read(fd, (char *)buf + got, len - got)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	return got;
}

/*
 * The unprivileged side: it drops to the relay's user before it reads a
 * byte of the client's, shakes hands, sends the variables to the root
 * side on tell, and carries the bytes between the client and the
 * handler's end of the pair.
 */
static void __attribute__((noreturn))
tls_now_relay(const struct service *svc, const struct conn *c,
    struct relay *r, int tell, int loc)
{
	static struct tlsenv env;
	char why[256];

	close(0);
	close(1);
	forked_keep((int[]){ c->fd, tell, loc }, 3);
	if (relay_drop(c) == -1)
		fail(c, 1, "cannot relay for", strerror(errno));
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1)
		fail(c, TLSRELAY_EXIT_HANDSHAKE, "TLS with", strerror(errno));
	if (r->m->conn_handshake(r->tc, svc->conf->tls->handshake_timeout, why,
	    sizeof(why)) == -1)
		fail(c, TLSRELAY_EXIT_HANDSHAKE, "TLS handshake with", why);
	r->m->conn_env(r->tc, &env);
	(void)!write(tell, &env, TLSENV_WIRE);
	close(tell);
	r->loc_in = r->loc_out = loc;
	if (fcntl(loc, F_SETFL, O_NONBLOCK) == -1)
		fail(c, 1, "cannot relay for", strerror(errno));
	relay_run(r);
	_exit(0);
}

/*
 * TLS from the start. The handshake reads the client's bytes, so it runs
 * in a child that is the relay's user from its first step; this process
 * stays root only to start the handler (its user, its jail) with the
 * variables the handshake found, then waits for both and ends as the
 * handler did. A handshake that fails starts no handler.
 */
static void __attribute__((noreturn))
tls_now(struct spawner *sp, const struct service *svc, const struct conn *c,
    struct relay *r)
{
	static struct tlsenv env;
	static char wire[TLSENV_WIRE + 1];
	int pair[2], tell[2];
	pid_t relay, pid;
	int status;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == -1 ||
	    pipe2(tell, O_CLOEXEC) == -1)
		fail(c, 1, "socketpair for", strerror(errno));
	if ((relay = fork()) == -1)
		fail(c, 1, "cannot fork the relay for", strerror(errno));
	if (relay == 0)
		tls_now_relay(svc, c, r, tell[1], pair[0]);
	close(tell[1]);
	close(pair[0]);
	close(c->fd);
	close(0);
	close(1);
	/* One byte more than the fields: a relay that sends more is refused
	 * (the honest one closes tell after them). */
	if (!tlsenv_take(&env, wire, read_all(tell[0], wire, sizeof(wire)))) {
		close(pair[1]);
		status = reap(relay);
		_exit(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1 ?
		    1 : TLSRELAY_EXIT_HANDSHAKE);
	}
	close(tell[0]);
	pid = start_handler(sp, svc, c, env.v, pair[1], NULL, 0, relay);
	close(pair[1]);
	end_as(pid, relay);
}

/* A descriptor the handler keeps, moved to 4 or above: 3 is where
 * listen_fds puts the connection again. */
static int
above_three(int fd)
{
	int moved;

	if (fd >= 4)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, 4);
	close(fd);
	return moved;
}

/* The UCSPI-TLS descriptors (SSLCTLFD, SSLREADFD, SSLWRITEFD): the
 * handler's ends in mine[3], the relay's in theirs[3], in that order. */
static int
ucspi_fds(int mine[3], int theirs[3])
{
	int ctl[2], rd[2], wr[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) == -1)
		return -1;
	if (pipe2(rd, O_CLOEXEC) == -1 || pipe2(wr, O_CLOEXEC) == -1)
		return -1;
	mine[0] = above_three(ctl[1]);
	mine[1] = above_three(rd[0]);
	mine[2] = above_three(wr[1]);
	theirs[0] = ctl[0];
	theirs[1] = rd[1];
	theirs[2] = wr[0];
	return mine[0] == -1 || mine[1] == -1 || mine[2] == -1 ? -1 : 0;
}

/* The handler's command on its control socket: 'Y', 'y', or 0 when it
 * closed the socket (it ended, or goes on without TLS). */
static char
ucspi_command(int ctl)
{
	char cmd;
	ssize_t n;

	while ((n = read(ctl, &cmd, 1)) == -1 && errno == EINTR)
		;
	return n == 1 ? cmd : 0;
}

/* With 'Y', the handshake's variables: each "VAR=value" and a NUL, and
 * one more NUL after the last (UCSPI-TLS). */
static void
ucspi_tell(int ctl, char *const *v)
{
	for (; *v; v++)
		(void)!write(ctl, *v, strlen(*v) + 1);
	(void)!write(ctl, "", 1);
}

/* The handler on the connection itself, with the UCSPI-TLS descriptors
 * (theirs: the relay's ends), and the relay unprivileged. */
static pid_t
ucspi_start(struct spawner *sp, const struct service *svc,
    const struct conn *c, int theirs[3])
{
	static const char *const names[] = { "SSLCTLFD", "SSLREADFD", "SSLWRITEFD" };
	int mine[3], pass[3];
	char vars[3][32], *env[4];
	pid_t pid;

	if (ucspi_fds(mine, theirs) == -1)
		fail(c, 1, "cannot set up STARTTLS for", strerror(errno));
	for (int i = 0; i < 3; i++) {
		snprintf(vars[i], sizeof(vars[i]), "%s=%d", names[i], mine[i]);
		env[i] = vars[i];
		pass[i] = mine[i];
	}
	env[3] = NULL;
	for (int i = 1; i < 3; i++)
		for (int j = i; j > 0 && pass[j - 1] > pass[j]; j--) {
			int t = pass[j];
			pass[j] = pass[j - 1];
			pass[j - 1] = t;
		}
	pid = start_handler(sp, svc, c, env, c->fd, pass, 3, 0);
	for (int i = 0; i < 3; i++)
		close(mine[i]);
	close(0);
	close(1);
	forked_keep((int[]){ c->fd, theirs[0], theirs[1], theirs[2] }, 4);
	if (relay_drop(c) == -1) {
		kill(pid, SIGTERM);
		fail(c, 1, "cannot relay for", strerror(errno));
	}
	return pid;
}

static void
close3(const int fds[3])
{
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

/*
 * STARTTLS (UCSPI-TLS): the handler starts on the connection itself, with
 * a control socket and a pipe each way; when it writes 'Y' or 'y' to the
 * control socket, the handshake happens on the connection and the relay
 * carries the bytes between it and the pipes, which the handler then uses
 * instead of 0 and 1. A handler that closes the control socket without
 * asking (it ended) leaves the connection plain to its end.
 */
static void __attribute__((noreturn))
tls_later(struct spawner *sp, const struct service *svc, const struct conn *c,
    struct relay *r)
{
	struct tlsenv env;
	char why[256] = "cannot make the connection non-blocking", cmd;
	int theirs[3];
	pid_t pid = ucspi_start(sp, svc, c, theirs);

	if ((cmd = ucspi_command(theirs[0])) != 'Y' && cmd != 'y') {
		if (cmd)
			say(c, "STARTTLS with", "the handler sent no 'Y' or 'y': "
			    "no TLS");
		close3(theirs);
		close(c->fd);
		end_as(pid, 0);
	}
	/* The handler has left 0 and 1 to the relay. */
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1 ||
	    r->m->conn_handshake(r->tc, svc->conf->tls->handshake_timeout, why,
	    sizeof(why)) == -1) {
		say(c, "TLS handshake with", why);
		(void)shutdown(c->fd, SHUT_RDWR);
		close3(theirs);
		end_refused(pid);
	}
	if (cmd == 'Y') {
		r->m->conn_env(r->tc, &env);
		ucspi_tell(theirs[0], env.v);
	}
	close(theirs[0]);
	r->loc_in = theirs[2];
	r->loc_out = theirs[1];
	if (fcntl(r->loc_in, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(r->loc_out, F_SETFL, O_NONBLOCK) == -1) {
		kill(pid, SIGTERM);
		fail(c, 1, "cannot relay for", strerror(errno));
	}
	relay_until_end(r, pid);
}

void
tlsrelay_child(struct spawner *sp, const struct service *svc,
    const struct conn *c)
{
	static struct relay r;

	(void)setpgid(0, 0);
	(void)prctl(PR_SET_DUMPABLE, 0);
	if (c->errfd != -1)
		(void)dup2(c->errfd, 2);
	/* What it keeps of the master's: 0-2, the connection, the service's
	 * stderr and its jail's namespaces (the handler joins them). The
	 * rest goes now, close-on-exec or not: no exec follows. */
	forked_keep((int[]){ c->fd, svc->jns.mnt, svc->jns.net }, 3);
	sig_child_reset();
	signal(SIGPIPE, SIG_IGN);
	/* The master loaded the module before it started the service. */
	/* r is zero, never touched by the master: setting it whole would
	 * write (and fault in) its buffers' pages for nothing. */
	r.m = tlsmod();
	r.net = c->fd;
	if ((r.tc = r.m->conn_new(svc->tls, c->fd)) == NULL)
		fail(c, TLSRELAY_EXIT_HANDSHAKE, "TLS with", "out of memory");
	/* Each write is a whole record: with Nagle, one written while the
	 * last is not yet acknowledged (the tickets, then the handler's
	 * first line) waits for the client's delayed ACK, 40 ms. */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
	    sizeof(int));
	if (svc->conf->tls->starttls)
		tls_later(sp, svc, c, &r);
	tls_now(sp, svc, c, &r);
}

pid_t
tlsrelay_spawn(struct spawner *sp, const struct service *svc,
    const struct conn *c, int *pidfd)
{
	pid_t pid;

	if (pidfd)
		*pidfd = -1;
	if ((pid = fork()) == 0)
		tlsrelay_child(sp, svc, c);
	if (pid > 0 && pidfd)
		*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return pid;
}
