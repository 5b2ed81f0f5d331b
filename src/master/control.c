/*
 * The control socket (sockctl(8)): a UNIX-domain stream socket, mode 0660,
 * owned by root and control_group, and its clients. One request a
 * client (ctlreq.h); ctlcmd.c runs it. The master never blocks on a
 * client: every read and write is non-blocking and bounded, a client has
 * CONTROL_IO_MS to send its request and take its answer, at most
 * CONTROL_CLIENTS_MAX are served at once (the rest wait in the backlog,
 * in their order), and one that waits for a reload's or an upgrade's
 * verdict is answered when it comes (control_tick()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "ctlreq.h"
#include "log.h"
#include "peercred.h"
#include "sockd.h"
#include "unixsock.h"

#define CONTROL_CLIENTS_MAX 16
#define CONTROL_IO_MS 5000
/* An answer larger than this (connections by the ten thousand) is cut. */
#define CONTROL_ANSWER_MAX (4u << 20)
#define CONTROL_MODE 0660
#define CONTROL_BACKLOG 128

enum client_state { CLIENT_READING, CLIENT_WAITING, CLIENT_WRITING };

struct client {
	int fd;
	struct watch w;
	struct timer t;
	struct ucred cred;
	enum client_state state;
	enum ctlcmd_wait wait;
	unsigned long long until;	/* the reloads_done or failures awaited */
	bool json;
	char in[CTLREQ_MAX];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	struct control *ctl;
	struct client *next;
};

struct control {
	int fd;
	struct watch w;
	char *path;
	gid_t gid;
	struct unixsock_file file;
	struct client *clients;
	unsigned n;
	struct sockd *sd;
};

static void
client_free(struct control *ctl, struct client *c)
{
	struct client **pp = &ctl->clients;

	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	loop_remove(&ctl->sd->loop, &c->w);
	loop_timer_stop(&ctl->sd->loop, &c->t);
	close(c->fd);
	free(c->out);
	free(c);
	ctl->n--;
}

static void
on_client_timeout(struct timer *t)
{
	struct client *c = t->arg;

	client_free(c->ctl, c);
}

/*
 * Whether the peer may change things: root, sockd's own user (who can
 * signal it anyway: an ordinary user's `make run`), or a member of
 * control_group.
 */
static bool
may_change(const struct control *ctl, const struct client *c)
{
	return c->cred.uid == 0 || c->cred.uid == geteuid() ||
	    c->cred.gid == ctl->gid ||
	    peercred_in_group(c->fd, &c->cred, ctl->gid) == 1;
}

/* The answer is in out: sent as the socket takes it. */
static void
client_write(struct client *c)
{
	struct control *ctl = c->ctl;
	ssize_t n;

	c->state = CLIENT_WRITING;
	if (c->w.out == false) {
		loop_remove(&ctl->sd->loop, &c->w);
		c->w.out = true;
		c->w.added = c->w.on = false;
	}
	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (loop_enable(&ctl->sd->loop, &c->w, true) == -1)
				break;
			if (!loop_timer_armed(&c->t))
				(void)loop_timer_set(&ctl->sd->loop, &c->t,
				    CONTROL_IO_MS);
			return;
		}
		if (n <= 0)
			break;
		c->outoff += n;
	}
	client_free(ctl, c);
}

/* Takes over the answer in buf (len bytes, malloc'd) and sends it. */
static void
client_answer(struct client *c, char *buf, size_t len)
{
	static const char cut[] = "\n(answer cut: too long)\n";

	if (len > CONTROL_ANSWER_MAX) {
		memcpy(buf + CONTROL_ANSWER_MAX - sizeof(cut) + 1, cut, sizeof(cut) - 1);
		len = CONTROL_ANSWER_MAX;
	}
	free(c->out);
	c->out = buf;
	c->outlen = len;
	c->outoff = 0;
	loop_timer_stop(&c->ctl->sd->loop, &c->t);
	client_write(c);
}

/* A whole request line is in: run it. */
static void
client_run(struct client *c, size_t len)
{
	struct sockd *sd = c->ctl->sd;
	struct ctlreq req;
	const char *why;
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	enum ctlcmd_wait w = CTLCMD_DONE;

	if (f == NULL) {
		client_free(c->ctl, c);
		return;
	}
	if (ctlreq_parse(c->in, len, &req, &why) == -1)
		fprintf(f, "-ERR %s (commands: status, connections, pause, "
		    "resume, end, reload, upgrade, log-level)\n", why);
	else
		w = ctlcmd_run(sd, &req, &c->cred, may_change(c->ctl, c), f);
	fclose(f);
	if (w == CTLCMD_DONE) {
		client_answer(c, buf, blen);
		return;
	}
	free(buf);
	/* Its verdict: the next reload begun after this request, or the next
	 * upgrade that fails (a success is the new image's to tell). */
	c->state = CLIENT_WAITING;
	c->wait = w;
	c->json = req.json;
	c->until = w == CTLCMD_WAIT_RELOAD ? sd->reloads_begun + 1 :
	    sd->up.failures + 1;
	loop_timer_stop(&sd->loop, &c->t);
}

static void
on_client(struct watch *w)
{
	struct client *c = w->arg;
	char *nl;
	ssize_t n;

	if (c->state == CLIENT_WRITING) {
		client_write(c);
		return;
	}
	/* While waiting, only its hang-up matters; what else it sends is
	 * read and dropped, a buffer at a time. */
	n = recv(c->fd, c->state == CLIENT_READING ? c->in + c->inlen : c->in,
	    c->state == CLIENT_READING ? sizeof(c->in) - c->inlen : sizeof(c->in),
	    MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == 0 && c->state == CLIENT_WAITING) {
		/* Only its side is shut (socat does that): the answer still
		 * goes, or fails, when it comes. */
		(void)loop_enable(&c->ctl->sd->loop, &c->w, false);
		return;
	}
	if (n == 0 && c->state == CLIENT_READING && c->inlen > 0) {
		client_run(c, c->inlen);	/* a last line without its newline */
		return;
	}
	if (n <= 0) {
		client_free(c->ctl, c);
		return;
	}
	if (c->state != CLIENT_READING)
		return;
	c->inlen += n;
	if ((nl = memchr(c->in, '\n', c->inlen)) != NULL)
		client_run(c, nl - c->in);
	else if (c->inlen == sizeof(c->in)) {
		char *buf = strdup("-ERR request too long\n");
		if (buf)
			client_answer(c, buf, strlen(buf));
		else
			client_free(c->ctl, c);
	}
}

static void
on_accept(struct watch *w)
{
	struct control *ctl = w->arg;
	struct client *c;
	int fd;

	while (ctl->n < CONTROL_CLIENTS_MAX) {
		fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("control socket: accept");
			break;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    peercred_get(fd, &c->cred) == -1) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->ctl = ctl;
		c->w = (struct watch){ .fd = fd, .fn = on_client, .arg = c };
		c->t = (struct timer){ .fn = on_client_timeout, .arg = c };
		c->next = ctl->clients;
		ctl->clients = c;
		ctl->n++;
		if (loop_enable(&ctl->sd->loop, &c->w, true) == -1 ||
		    loop_timer_set(&ctl->sd->loop, &c->t, CONTROL_IO_MS) == -1)
			client_free(ctl, c);
	}
	/* Full: the rest wait in the backlog until control_tick(). */
	if (ctl->n >= CONTROL_CLIENTS_MAX)
		(void)loop_enable(&ctl->sd->loop, &ctl->w, false);
}

void
control_close(struct sockd *sd, bool unlink)
{
	struct control *ctl = sd->ctl;

	if (ctl == NULL)
		return;
	while (ctl->clients)
		client_free(ctl, ctl->clients);
	loop_remove(&sd->loop, &ctl->w);
	close(ctl->fd);
	if (unlink)
		unixsock_remove(ctl->path, &ctl->file);
	free(ctl->path);
	free(ctl);
	sd->ctl = NULL;
}

/* Its directory, when missing (/run/sockd at boot): made, mode 0755. */
static void
make_dir(const char *path)
{
	char dir[UNIXSOCK_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755);
	}
}

static int
control_open(struct sockd *sd, const char *path, gid_t gid)
{
	struct control *ctl = calloc(1, sizeof(*ctl));

	if (ctl == NULL || (ctl->path = strdup(path)) == NULL) {
		free(ctl);
		log_warn("control socket %s", path);
		return -1;
	}
	make_dir(path);
	/* Owner root only when sockd runs as root; a user's sockd keeps its own. */
	ctl->fd = unixsock_listen(path, CONTROL_BACKLOG, CONTROL_MODE,
	    (uid_t)-1, geteuid() == 0 ? gid : (gid_t)-1, &ctl->file);
	if (ctl->fd == -1) {
		log_warn("control socket %s: cannot listen", path);
		free(ctl->path);
		free(ctl);
		return -1;
	}
	ctl->gid = gid;
	ctl->sd = sd;
	ctl->w = (struct watch){ .fd = ctl->fd, .fn = on_accept, .arg = ctl };
	sd->ctl = ctl;
	if (loop_enable(&sd->loop, &ctl->w, true) == -1) {
		log_warn("control socket %s: epoll", path);
		control_close(sd, true);
		return -1;
	}
	return 0;
}

int
control_configure(struct sockd *sd)
{
	const struct global_conf *g = &sd->cfg->global;
	struct control *ctl = sd->ctl;

	if (ctl && g->control && strcmp(ctl->path, g->control) == 0) {
		if (ctl->gid != g->control_gid && unixsock_perms(ctl->path,
		    &ctl->file, CONTROL_MODE, (uid_t)-1, g->control_gid) == -1) {
			log_warn("control socket %s: group", ctl->path);
			return -1;
		}
		ctl->gid = g->control_gid;
		return 0;
	}
	/* Moved or gone: clients in progress keep their answers only if
	 * the socket stays. */
	control_close(sd, true);
	return g->control ? control_open(sd, g->control, g->control_gid) : 0;
}

/* A waiting client's verdict is in: the report, or what went wrong. */
static void
answer_waiter(struct sockd *sd, struct client *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL) {
		client_free(c->ctl, c);
		return;
	}
	if (c->wait == CTLCMD_WAIT_RELOAD)
		ctlcmd_reload_answer(sd, c->json, f);
	else
		fprintf(f, "-ERR upgrade failed; sockd goes on as it is\n%s",
		    sd->up.why ? sd->up.why : "");
	fclose(f);
	client_answer(c, buf, len);
}

void
control_tick(struct sockd *sd)
{
	struct control *ctl = sd->ctl;
	struct client *c, *next;

	if (ctl == NULL)
		return;
	for (c = ctl->clients; c; c = next) {
		next = c->next;
		if (c->state != CLIENT_WAITING)
			continue;
		if ((c->wait == CTLCMD_WAIT_RELOAD && sd->reloads_done >= c->until) ||
		    (c->wait == CTLCMD_WAIT_UPGRADE && sd->up.failures >= c->until))
			answer_waiter(sd, c);
	}
	if (ctl->n < CONTROL_CLIENTS_MAX)
		(void)loop_enable(&sd->loop, &ctl->w, true);
}

size_t
control_waiters(const struct sockd *sd, int *fds, size_t max)
{
	size_t n = 0;

	for (const struct client *c = sd->ctl ? sd->ctl->clients : NULL;
	    c && n < max; c = c->next)
		if (c->state == CLIENT_WAITING && c->wait == CTLCMD_WAIT_UPGRADE)
			fds[n++] = c->fd;
	return n;
}
