/*
 * A process per UDP peer. The master is the only reader of the service's
 * socket: it looks each datagram's sender up in the service's peer table
 * and passes the datagram to that peer's handler, or admits the sender
 * (access lists, per_source, rates, caps) and starts a handler for it.
 * Each handler's fds 0 and 1 are one end of a SOCK_SEQPACKET pair, so it
 * reads one datagram per read() and answers with one write(); the master
 * sends what it writes to the peer from the address the peer wrote to.
 *
 * Where the service allows it (udphand_wanted()), a handler gets a UDP
 * socket of its own instead, as busybox's udpsvd gives one, and its
 * datagrams no longer pass through the master: the socket is bound to
 * the service's address, connected to a feeding socket of the master's
 * (udphand.h), fed what the master has read from that peer, and after the
 * loop's batch connected to the peer. A datagram of the peer's that the
 * service socket still gets (it was on its way before the connect())
 * connects the socket back to the feeding one, is fed, and the switch
 * happens again: each datagram has one reader, so none is lost or
 * answered twice; only those on their way at the instant of a switch may
 * overtake one another, as on any network. Answers written meanwhile
 * come to the feeding socket and are relayed. The master sees no traffic
 * of such a peer: its idle time is watched by a probe of the socket's
 * readability armed now and then (on_probe()), its end is an empty
 * datagram and shutdown(SHUT_RD) (hand_end()), and its handler's exit
 * comes from its reaping (children.h's ended), or, for a datagram that
 * finds it gone, from waitid() (hand_exited()).
 *
 * Owns the peer tables and their timers; starts children through start.c
 * and never reaps them: a peer goes when its pair reaches end of file or
 * its handler is reaped (the handler is gone), when it is idle, or when
 * its service closes.
 */

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "htab.h"
#include "log.h"
#include "sock.h"
#include "sockd.h"
#include "udphand.h"
#include "udppeer.h"
#include "unforked.h"

/* Datagrams read per wake-up, so one busy socket cannot starve others. */
#define PEER_BATCH 64
/* Answers per sendmmsg(): a wake-up's worth with one datagram in flight
 * for each of 16 peers. */
#define PEER_MMSG 16
#define PEER_DGRAM_MAX 65536
/* An answer this long or shorter waits for the batch in a slot of its
 * own; a longer one leaves at once. The slots are dense so that a batch
 * of short answers touches few pages (6, where a slot of PEER_DGRAM_MAX
 * each touched 16). */
#define PEER_SLOT 1536

/* Where a datagram went: the local address to answer from. */
struct dest {
	int level, type;	/* of the control message; 0: none came */
	union {
		struct in_pktinfo v4;
		struct in6_pktinfo v6;
	} info;
};

struct peer {
	struct hnode node;		/* in its service's table, by addr */
	struct sockaddr_storage addr;	/* the peer */
	socklen_t alen;
	struct dest dest;
	size_t li;			/* the listener it wrote to */
	struct watch watch;		/* our end of the pair, or the feeding
					 * socket: its answers */
	struct timer idle;
	uint64_t last_ms;		/* the last datagram either way */
	struct service *svc;
	/* A handler with a socket of its own; sock -1: relayed. */
	int sock;			/* our copy of its socket */
	pid_t pid;
	bool direct;			/* sock is connected to the peer */
	bool ending;			/* detached: waits for its reaping */
	bool ended_here;		/* its stdin was ended, not it gone */
	struct watch probe;		/* sock readable; enabled: armed */
	bool armed;
	uint64_t armed_ms;
	/* Connects sock to the peer after this turn of the loop: a timer,
	 * not loop_defer(), which runs at once outside a batch and would
	 * nest one switch's reading of the service socket in another's. */
	struct timer to_peer;
	struct deferred ended;		/* its handler was reaped */
};

struct udppeers {
	struct htab tab;
};

/* A control message with a datagram's local address, either family. */
union pktinfo_cmsg {
	struct cmsghdr h;
	char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
	    CMSG_SPACE(sizeof(struct in_pktinfo))];
};

/*
 * Answers wait here until the loop has run every callback of its batch,
 * then leave in one sendmmsg() per service socket: with many peers
 * answering at once, the master makes one call where it made one each.
 */
struct peer_out {
	struct mmsghdr m[PEER_MMSG];
	struct iovec iov[PEER_MMSG];
	struct sockaddr_storage to[PEER_MMSG];
	union pktinfo_cmsg cm[PEER_MMSG];
	int fd[PEER_MMSG];
	size_t n;
	struct deferred flush;
};

/*
 * One datagram in either direction, PEER_DGRAM_MAX bytes, and the answer
 * slots, shared by every service: unforked memory (unforked.h), made with
 * the first table, so that the master's writes to it never fault after a
 * fork and a daemon without per-peer services has none. Pages are touched
 * only as far as datagrams fill them.
 */
#define PEER_BUFSIZE (PEER_DGRAM_MAX + PEER_MMSG * PEER_SLOT)
static char *peer_buf, *peer_slots;
static struct peer_out *peer_out;

/* A peer's key: its address, as the kernel gave it. */
struct peer_key {
	const struct sockaddr_storage *ss;
	socklen_t len;
};

static bool
peer_eq(const struct hnode *n, const void *key)
{
	const struct peer *p = htab_entry(n, struct peer, node);
	const struct peer_key *k = key;

	/* An ending handler keeps its record until it exits, unfound. */
	return !p->ending && p->alen == k->len &&
	    memcmp(&p->addr, k->ss, k->len) == 0;
}

static struct peer *
peer_find(struct udppeers *t, const struct sockaddr_storage *ss, socklen_t len)
{
	struct peer_key k = { ss, len };
	struct hnode *n = htab_find(&t->tab, htab_hash(&t->tab, ss, len), peer_eq,
	    &k);

	return n ? htab_entry(n, struct peer, node) : NULL;
}

/* Its handler's socket is ours alone from now: the handler is not told. */
static void
hand_forget(struct sockd *sd, struct peer *p)
{
	struct child *ch = children_find(&sd->children, p->pid);

	if (ch && ch->ended == &p->ended)
		ch->ended = NULL;
	loop_timer_stop(&sd->loop, &p->to_peer);
	loop_defer_cancel(&sd->loop, &p->ended);
	loop_remove(&sd->loop, &p->probe);
	close(p->sock);
}

/*
 * The peer's datagrams go to the service socket again, the handler's
 * answers to the feeding socket, and the table no longer finds the peer:
 * its record waits for the handler's reaping.
 */
static void
hand_detach(struct sockd *sd, struct peer *p)
{
	if (p->direct)
		(void)udphand_to_feed(p->sock, p->watch.fd);
	p->direct = false;
	p->ending = true;
	p->armed = false;
	(void)loop_enable(&sd->loop, &p->probe, false);
	loop_timer_stop(&sd->loop, &p->idle);
	loop_timer_stop(&sd->loop, &p->to_peer);
}

/*
 * A handler's stdin ends: a read() returns 0 once it has read what came,
 * as it does when the relay's pair closes. The peer's next datagram goes
 * to the service socket again, and the handler's last answers to the
 * feeding socket, which relays them. The end is an empty datagram (a
 * read() of it returns 0, blocking or not, and it comes after what came
 * before it) and shutdown(SHUT_RD) (a blocked read() returns 0 also when
 * the socket was too full to take it).
 */
static void
hand_end(struct sockd *sd, struct peer *p)
{
	if (p->ending)
		return;
	hand_detach(sd, p);
	p->ended_here = true;
	(void)send(p->watch.fd, "", 0, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)shutdown(p->sock, SHUT_RD);
}

/* Ends a peer: its handler's stdin reaches end of file. */
static void
peer_free(struct sockd *sd, struct peer *p)
{
	if (p->sock != -1) {
		hand_end(sd, p);
		hand_forget(sd, p);
	}
	loop_timer_stop(&sd->loop, &p->idle);
	loop_close(&sd->loop, &p->watch);
	service_unref(p->svc);
	free(p);
}

/* Takes the peer out of its table, then ends it. */
static void
peer_end(struct sockd *sd, struct peer *p)
{
	htab_remove(&p->svc->peers->tab, &p->node);
	peer_free(sd, p);
}

/* Sends the queued answers, one sendmmsg() per run of one socket. */
static void
out_flush(struct deferred *d)
{
	struct peer_out *o = d->arg;
	size_t i = 0;

	while (i < o->n) {
		size_t run = 1;
		while (i + run < o->n && o->fd[i + run] == o->fd[i])
			run++;
		int sent = sendmmsg(o->fd[i], &o->m[i], (unsigned)run,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		/* A full socket buffer loses the answer it refused, as any
		 * UDP sender's would; the rest are tried. */
		i += sent > 0 ? (size_t)sent : 1;
	}
	o->n = 0;
}

/*
 * Queues the answer in peer_buf, len bytes, to the peer, from the address
 * it wrote to: a short one is copied into a slot and sent at the end of
 * the batch, a long one is sent at once with those queued before it.
 */
static void
out_queue(struct sockd *sd, struct peer *p, size_t len)
{
	struct peer_out *o = peer_out;
	struct service *svc = p->svc;
	int fd = p->li < svc->nls ? svc->ls[p->li].fd : -1;
	bool now = len > PEER_SLOT;
	size_t i;
	struct msghdr *mh;

	if (fd == -1)
		return;
	if (o->n == PEER_MMSG)
		out_flush(&o->flush);
	i = o->n;
	mh = &o->m[i].msg_hdr;
	memcpy(&o->to[i], &p->addr, p->alen);
	o->iov[i] = (struct iovec){ now ? peer_buf : peer_slots + i * PEER_SLOT,
	    len };
	if (!now)
		memcpy(o->iov[i].iov_base, peer_buf, len);
	*mh = (struct msghdr){ .msg_name = &o->to[i], .msg_namelen = p->alen,
	    .msg_iov = &o->iov[i], .msg_iovlen = 1 };
	if (p->dest.level) {
		size_t sz = p->dest.level == IPPROTO_IP ? sizeof(p->dest.info.v4) :
		    sizeof(p->dest.info.v6);
		struct cmsghdr *c = &o->cm[i].h;
		memset(&o->cm[i], 0, sizeof(o->cm[i]));
		mh->msg_control = o->cm[i].b;
		mh->msg_controllen = CMSG_SPACE(sz);
		c->cmsg_level = p->dest.level;
		c->cmsg_type = p->dest.type;
		c->cmsg_len = CMSG_LEN(sz);
		memcpy(CMSG_DATA(c), &p->dest.info, sz);
	}
	o->fd[i] = fd;
	o->n++;
	if (now)
		out_flush(&o->flush);
	else
		loop_defer(&sd->loop, &o->flush);
}

/* Whether a read of 0 was the handler's end rather than an empty answer. */
static bool
pair_closed(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLRDHUP | POLLHUP));
}

/*
 * The handler wrote: its datagram goes to the peer. One read per wake-up:
 * the loop is level-triggered, so a second answer brings the next one,
 * and a handler answers one datagram with one, so a read until EAGAIN
 * would cost a call for every answer.
 */
static void
on_answer(struct watch *w)
{
	struct peer *p = w->arg;
	struct sockd *sd = p->svc->sd;
	ssize_t n;

	n = recv(w->fd, peer_buf, PEER_DGRAM_MAX, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR || p->sock != -1))
		return;
	if (n == -1 || (n == 0 && p->sock == -1 && pair_closed(w->fd))) {
		peer_end(sd, p);
		return;
	}
	p->last_ms = loop_now_ms();
	out_queue(sd, p, (size_t)n);
}

/* How long a peer's handler may go without a datagram either way. */
static uint64_t
peer_idle_ms(const struct service *svc)
{
	unsigned secs = svc->conf->idle_timeout ? svc->conf->idle_timeout :
	    UDPPEER_IDLE_SECONDS;

	return secs * 1000ULL;
}

/*
 * A handler's socket got a datagram since the probe was armed: it is not
 * idle. The probe is armed again a little later, not at once: the
 * handler may not have read it yet, and a level-triggered probe would
 * fire for each turn of the loop until it has.
 */
static void
on_probe(struct watch *w)
{
	struct peer *p = w->arg;
	struct sockd *sd = p->svc->sd;
	uint64_t rearm = peer_idle_ms(p->svc) / 8;

	p->last_ms = loop_now_ms();
	p->armed = false;
	(void)loop_enable(&sd->loop, w, false);
	(void)loop_timer_set(&sd->loop, &p->idle, rearm ? rearm : 1);
}

/*
 * A handler with a socket of its own is idle once the probe has been
 * armed idle_timeout without firing: what it had not read when it was
 * armed fired it at once. It ends between idle_timeout and an eighth
 * more after the peer's last datagram.
 */
static void
hand_idle(struct sockd *sd, struct peer *p)
{
	uint64_t idle_ms = peer_idle_ms(p->svc), now = loop_now_ms();

	if (p->armed && now - p->armed_ms >= idle_ms) {
		hand_end(sd, p);
		return;
	}
	if (!p->armed) {
		if (loop_enable(&sd->loop, &p->probe, true) == -1) {
			hand_end(sd, p);	/* its idle time cannot be watched */
			return;
		}
		p->armed = true;
		p->armed_ms = now;
	}
	(void)loop_timer_set(&sd->loop, &p->idle,
	    idle_ms - (now - p->armed_ms));
}

/* Idle: ends the peer, or waits out what is left of its idle time. */
static void
on_idle(struct timer *t)
{
	struct peer *p = t->arg;
	struct sockd *sd = p->svc->sd;
	uint64_t idle_ms = peer_idle_ms(p->svc), now = loop_now_ms();

	if (p->sock != -1) {
		hand_idle(sd, p);
		return;
	}
	if (now - p->last_ms < idle_ms &&
	    loop_timer_set(&sd->loop, t, idle_ms - (now - p->last_ms)) == 0)
		return;
	peer_end(sd, p);
}

/* The service's table with room for one more peer; NULL if none can be had. */
static struct udppeers *
peers_of(struct service *svc)
{
	struct udppeers *t = svc->peers;

	return htab_reserve(&t->tab) == -1 ? NULL : t;
}

/* The local address a datagram went to, from its control message. */
static void
dest_read(struct msghdr *mh, struct dest *d)
{
	d->level = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			memcpy(&d->info.v4, CMSG_DATA(c), sizeof(d->info.v4));
			/* Answer from the address written to, on any interface. */
			d->info.v4.ipi_spec_dst = d->info.v4.ipi_addr;
			d->info.v4.ipi_ifindex = 0;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO)
			memcpy(&d->info.v6, CMSG_DATA(c), sizeof(d->info.v6));
		else
			continue;
		d->level = c->cmsg_level;
		d->type = c->cmsg_type;
	}
}

/* The handler's UDPLOCALIP and UDPLOCALPORT, as a socket address. */
static const struct sockaddr *
dest_sockaddr(const struct dest *d, uint16_t hport, struct sockaddr_storage *ss)
{
	uint16_t port = htons(hport);

	memset(ss, 0, sizeof(*ss));
	if (d->level == IPPROTO_IP) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		sin->sin_addr = d->info.v4.ipi_addr;
	} else if (d->level == IPPROTO_IPV6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		sin6->sin6_addr = d->info.v6.ipi6_addr;
	} else
		return NULL;
	return (struct sockaddr *)ss;
}

/*
 * Each datagram reports where it went, so a handler of a service bound to
 * a wildcard answers from the address its peer wrote to. Datagrams queued
 * before this are answered from the address the kernel's route picks.
 */
void
udppeer_attach(struct service *svc)
{
	bool hand = udphand_wanted(svc->conf);
	int one = 1;

	for (size_t i = 0; i < svc->nls; i++) {
		int fd = svc->ls[i].fd;
		if (fd == -1)
			continue;
		(void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
		    sizeof(one));
		/* A socket kept from before (a reload, an upgrade) may be in
		 * no group, or not the first of its port: its peers are
		 * relayed. */
		if (hand && !svc->ls[i].handoff && svc->ls[i].fresh &&
		    (svc->ls[i].anchor = udphand_group(fd)) != -1)
			svc->ls[i].handoff = true;
		else if (hand && !svc->ls[i].handoff)
			log_info("service \"%s\": peer_socket: its socket was "
			    "not bound for it (kept, inherited, or its port held): "
			    "its peers are relayed", svc->conf->name);
		else if (!hand && svc->ls[i].handoff) {
			close(svc->ls[i].anchor);
			svc->ls[i].handoff = false;
		}
	}
}

/*
 * Whether a new peer gets a handler now. At the service's or the daemon's
 * cap, or out of rate tokens, its datagram is dropped unlogged, as the
 * kernel drops what overflows a socket: its source may be forged, and
 * the peer sends again. Known peers are served meanwhile.
 */
static bool
peer_admit(struct sockd *sd, struct service *svc, const struct conn *c,
    int64_t now, struct source **srcp)
{
	*srcp = NULL;
	if (service_at_cap(svc) ||
	    sd->children.count >= sd->cfg->global.max_children)
		return false;
	if (!svc->paused && !ratelimit_take(&svc->rate, now))
		return false;
	return admit_connection(svc, -1, c, now, srcp);
}

static void hand_to_peer(struct timer *);
static bool input_batch(struct sockd *, struct listener *);
static void hand_ended(struct deferred *);
static bool peer_deliver(struct sockd *, struct listener *,
    const struct sockaddr_storage *, socklen_t, const struct dest *,
    const void *, size_t);

/* Watches the handler's answers and its idle time; -1 if that fails. */
static int
peer_watch(struct sockd *sd, struct peer *p, int fd)
{
	p->watch = (struct watch){ .fd = fd, .fn = on_answer, .arg = p };
	p->idle = (struct timer){ .fn = on_idle, .arg = p };
	p->probe = (struct watch){ .fd = p->sock, .fn = on_probe, .arg = p };
	p->to_peer = (struct timer){ .fn = hand_to_peer, .arg = p };
	p->ended = (struct deferred){ .fn = hand_ended, .arg = p };
	p->last_ms = loop_now_ms();
	/* Every send and recv on it says MSG_DONTWAIT: no O_NONBLOCK. */
	if (loop_enable(&sd->loop, &p->watch, true) == -1 ||
	    loop_timer_set(&sd->loop, &p->idle, peer_idle_ms(p->svc)) == -1)
		return -1;
	return 0;
}

/* Relays what its handler wrote to the feeding socket. */
static void
hand_relay(struct sockd *sd, struct peer *p)
{
	ssize_t n;

	while ((n = recv(p->watch.fd, peer_buf, PEER_DGRAM_MAX,
	    MSG_DONTWAIT)) >= 0)
		out_queue(sd, p, (size_t)n);
}

/* The service socket its peer writes to; NULL once it is closed. */
static struct listener *
peer_listener(const struct peer *p)
{
	struct service *svc = p->svc;

	return p->li < svc->nls && svc->ls[p->li].fd != -1 ? &svc->ls[p->li] :
	    NULL;
}

/*
 * After the loop's batch, which fed it what the batch read of its peer's:
 * the handler's socket is connected to its peer, once the service socket
 * holds nothing more (of its peer's, or it would come after what the peer
 * sends next); else it is tried again in a millisecond.
 */
static void
hand_to_peer(struct timer *t)
{
	struct peer *p = t->arg;
	struct sockd *sd = p->svc->sd;
	struct listener *l = peer_listener(p);

	if (p->ending || p->direct)
		return;
	if (l && !input_batch(sd, l)) {
		(void)loop_timer_set(&sd->loop, &p->to_peer, 1);
		return;
	}
	loop_timer_stop(&sd->loop, &p->to_peer);	/* fed meanwhile */
	hand_relay(sd, p);
	if (udphand_to_peer(p->sock, (struct sockaddr *)&p->addr, p->alen) == 0)
		p->direct = true;	/* else fed and relayed, as it was */
	hand_relay(sd, p);	/* answers written before the connect() */
}

/* The switch to the peer is tried after this turn of the loop. */
static void
hand_switch_soon(struct sockd *sd, struct peer *p)
{
	if (!loop_timer_armed(&p->to_peer))
		(void)loop_timer_set(&sd->loop, &p->to_peer, 0);
}

/* Whether its handler has exited, reaped or not. */
static bool
hand_exited(const struct peer *p)
{
	siginfo_t si = { 0 };

	return waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1 ||
	    si.si_pid == p->pid;
}

/*
 * A datagram of its peer's, read from the service socket: fed to it.
 * False when its handler has exited (not yet reaped): the datagram is for
 * a new one, as the relay's send() into a closed pair fails and starts
 * one; what the peer sent straight to the old socket follows at its
 * reaping.
 */
static bool
hand_feed(struct sockd *sd, struct peer *p, const void *buf, size_t len)
{
	if (hand_exited(p)) {
		hand_detach(sd, p);
		return false;
	}
	if (p->direct && udphand_to_feed(p->sock, p->watch.fd) == 0)
		p->direct = false;
	/* A full socket loses it, as it would lose one from the peer. */
	if (!p->direct)
		(void)send(p->watch.fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	p->last_ms = loop_now_ms();
	hand_switch_soon(sd, p);
	return true;
}

/*
 * Its handler was reaped; its last answers are relayed. Unless its
 * stdin was ended here, what the peer sent straight to its socket that it left
 * unread goes to a new handler for the peer, as the relay gives a
 * datagram for a handler that has gone to a new one (the master did not
 * see it); what was fed to it is lost with it, as what the relay had
 * written into its pair is. A handler that never reads thus leaves no
 * chain of handlers behind it.
 */
static void
hand_ended(struct deferred *d)
{
	struct peer *p = d->arg;
	struct service *svc = p->svc;
	struct sockd *sd = svc->sd;
	struct listener *l = peer_listener(p);
	struct sockaddr_storage ss = p->addr;
	struct dest dst = p->dest;
	ssize_t n;

	p->pid = 0;
	hand_relay(sd, p);
	if (p->ended_here)
		l = NULL;
	hand_detach(sd, p);
	while (l) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		n = recvfrom(p->sock, peer_buf, PEER_DGRAM_MAX, MSG_DONTWAIT,
		    (struct sockaddr *)&from, &flen);
		if (n == -1)
			break;
		if (flen == p->alen && memcmp(&from, &ss, flen) == 0 &&
		    !peer_deliver(sd, l, &ss, p->alen, &dst, peer_buf, (size_t)n))
			break;
	}
	peer_end(sd, p);
}

/* A handler with a socket of its own has started: its reaping is watched,
 * its socket is connected to the peer after this batch, its idle time
 * watched from now. */
static void
hand_started(struct sockd *sd, struct peer *p)
{
	struct child *ch = children_find(&sd->children, p->pid);

	if (ch)
		ch->ended = &p->ended;
	hand_switch_soon(sd, p);
	loop_timer_stop(&sd->loop, &p->idle);
	hand_idle(sd, p);
}

/* Records a started peer in its service's table. */
static void
peer_insert(struct udppeers *t, struct peer *p)
{
	p->node.hash = htab_hash(&t->tab, &p->addr, p->alen);
	htab_insert(&t->tab, &p->node);
}

/*
 * What reached a handler's socket before its connect(): the group's
 * anchor failed (another program bound the port with SO_REUSEPORT and the
 * master's uid). Each goes where the service socket would have sent it
 * (after what the service socket holds of its peer's, which may overtake
 * it), but those of the peer whose handler is being started (it has no
 * record yet: they would start a second one); the listener relays from
 * now on.
 */
static void
hand_strays(struct sockd *sd, struct listener *l, int s, const struct peer *p)
{
	char *buf = malloc(PEER_DGRAM_MAX);
	struct sockaddr_storage ss;
	struct dest d = { 0 };
	socklen_t len;
	ssize_t n;

	log_warnx("service \"%s\": a datagram reached a handler's socket "
	    "before it was connected; its handlers are relayed from now",
	    l->svc->conf->name);
	close(l->anchor);
	l->handoff = false;
	while (buf && (len = sizeof(ss), n = recvfrom(s, buf, PEER_DGRAM_MAX,
	    MSG_DONTWAIT, (struct sockaddr *)&ss, &len)) >= 0)
		if (len != p->alen || memcmp(&ss, &p->addr, len) != 0)
			(void)peer_deliver(sd, l, &ss, len, &d, buf, (size_t)n);
	free(buf);
	close(s);
}

/* A handler's socket of its own and its feeding socket; -1: relay it. */
static int
hand_socket(struct sockd *sd, struct listener *l, const struct peer *p,
    int *feed)
{
	bool stray = false;
	int s = udphand_open(l->fd, &l->anchor, feed, &stray);

	if (s == -1 || !stray)
		return s;
	close(*feed);
	hand_strays(sd, l, s, p);
	return -1;
}

/*
 * Starts the handler of a new peer p, its first datagram waiting on its
 * stdin, and records it; p is freed if that fails. False when no child
 * could be started (the gate is then faulted).
 */
static bool
peer_start(struct sockd *sd, struct listener *l, struct peer *p,
    const struct conn *who, struct source *src, const void *buf, size_t len)
{
	struct service *svc = l->svc;
	struct sockaddr_storage local;
	struct conn c = { .peer = (struct sockaddr *)&p->addr, .addr = who->addr,
	    .port = who->port, .known = who->known };
	int sv[2];

	p->sock = l->handoff ? hand_socket(sd, l, p, &sv[0]) : -1;
	if (p->sock != -1)
		sv[1] = p->sock;	/* its own socket, and our copy */
	else if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		gate_fault(sd, svc, FAULT_START, "socket pair");
		free(p);
		return false;
	}
	/* A fresh pair or socket has room for any datagram. */
	(void)send(sv[0], buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	c.fd = sv[1];
	if ((c.local = dest_sockaddr(&p->dest, svc->conf->port, &local)) == NULL && !addr_is_any(l->addr)) {
		addr_sockaddr(l->addr, svc->conf->port, &local);
		c.local = (struct sockaddr *)&local;
	}
	bool started = start_child(sd, svc, &c, src);
	if (!started || p->sock == -1)
		close(sv[1]);
	if (!started) {
		close(sv[0]);
		free(p);
		return false;
	}
	p->svc = service_ref(svc);
	p->pid = c.pid;
	if (peer_watch(sd, p, sv[0]) == -1) {
		/* Its stdin ends after the first datagram. */
		log_warn("service \"%s\": pid %ld: cannot watch its peer",
		    svc->conf->name, (long)c.pid);
		peer_free(sd, p);
		return true;
	}
	peer_insert(svc->peers, p);
	if (p->sock != -1)
		hand_started(sd, p);
	return true;
}

/* A datagram from a peer with no handler: admit it and start one. */
static bool
peer_new(struct sockd *sd, struct listener *l, const struct sockaddr_storage *ss,
    socklen_t alen, const struct dest *d, const void *buf, size_t len)
{
	struct service *svc = l->svc;
	struct conn c = { .peer = (const struct sockaddr *)ss };
	struct source *src;
	struct peer *p;

	admit_peer(&c);
	if (!peer_admit(sd, svc, &c, (int64_t)loop_now_ms(), &src))
		return true;
	if (peers_of(svc) == NULL || (p = calloc(1, sizeof(*p))) == NULL) {
		gate_fault(sd, svc, FAULT_START, "peer record");
		return false;
	}
	memcpy(&p->addr, ss, alen);
	p->alen = alen;
	p->dest = *d;
	p->li = (size_t)(l - svc->ls);
	return peer_start(sd, l, p, &c, src, buf, len);
}

/*
 * One datagram to its peer's handler. A handler that has gone (its end of
 * the pair closed) but was not yet noticed makes way for a fresh one,
 * which gets the datagram; one that does not keep up (or a pair short of
 * memory) loses it, as its own socket would. False when no handler could
 * be started.
 */
static bool
peer_deliver(struct sockd *sd, struct listener *l,
    const struct sockaddr_storage *ss, socklen_t alen, const struct dest *d,
    const void *buf, size_t len)
{
	struct peer *p = peer_find(l->svc->peers, ss, alen);

	if (p && p->sock != -1) {
		if (!hand_feed(sd, p, buf, len))
			return peer_new(sd, l, ss, alen, d, buf, len);
		p->dest = *d;
		return true;
	}
	if (p) {
		if (send(p->watch.fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) != -1 ||
		    (errno != EPIPE && errno != ECONNRESET)) {
			p->last_ms = loop_now_ms();
			p->dest = *d;
			return true;
		}
		peer_end(sd, p);
	}
	return peer_new(sd, l, ss, alen, d, buf, len);
}

/* The buffers every per-peer service shares, made once; -1 if they cannot be. */
static int
peer_buffers(void)
{
	char *p;

	if (peer_buf)
		return 0;
	if ((p = unforked_alloc(PEER_BUFSIZE)) == NULL)
		return -1;
	if ((peer_out = calloc(1, sizeof(*peer_out))) == NULL) {
		unforked_free(p, PEER_BUFSIZE);
		return -1;
	}
	peer_buf = p;
	peer_slots = p + PEER_DGRAM_MAX;
	peer_out->flush.fn = out_flush;
	peer_out->flush.arg = peer_out;
	return 0;
}

/*
 * The service's table, made at the first datagram (also for a service that
 * a reload gave a process per peer) or the first peer an upgrade hands over.
 */
static struct udppeers *
peers_made(struct service *svc)
{
	if (peer_buffers() == -1)
		return NULL;
	if (svc->peers == NULL) {
		if ((svc->peers = calloc(1, sizeof(*svc->peers))) == NULL)
			return NULL;
		udppeer_attach(svc);
	}
	return svc->peers;
}

/* A batch of datagrams to their handlers; true if the socket had no more. */
static bool
input_batch(struct sockd *sd, struct listener *l)
{
	struct service *svc = l->svc;
	struct sockaddr_storage ss;
	union pktinfo_cmsg cm;
	struct iovec iov;
	struct dest d;

	if (peers_made(svc) == NULL) {
		gate_fault(sd, svc, FAULT_TAKE, "peer table");
		return false;
	}
	iov = (struct iovec){ peer_buf, PEER_DGRAM_MAX };
	gate_cleared(svc, FAULT_TAKE);
	for (int i = 0; i < PEER_BATCH && gate_wanted(sd, svc); i++) {
		struct msghdr mh = { .msg_name = &ss, .msg_namelen = sizeof(ss),
		    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
		    .msg_controllen = sizeof(cm.b) };
		ssize_t n = recvmsg(l->fd, &mh, MSG_DONTWAIT);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("service \"%s\": recvmsg", svc->conf->name);
			return errno == EAGAIN;
		}
		dest_read(&mh, &d);
		if (!peer_deliver(sd, l, &ss, mh.msg_namelen, &d, peer_buf,
		    (size_t)n))
			return false;
	}
	return false;
}

/* The service's socket is readable: datagrams to their handlers. */
void
udppeer_input(struct sockd *sd, struct listener *l)
{
	(void)input_batch(sd, l);
}

static void
end_peer(struct hnode *n, void *sd)
{
	peer_free(sd, htab_entry(n, struct peer, node));
}

/* The service closes: every handler's stdin ends. */
void
udppeer_close_all(struct service *svc)
{
	struct udppeers *t = svc->peers;

	if (t == NULL)
		return;
	out_flush(&peer_out->flush);	/* answers queued for its sockets */
	/* Ending a peer may drop the last reference and close svc again. */
	svc->peers = NULL;
	htab_each(&t->tab, end_peer, svc->sd);
	htab_free(&t->tab);
	free(t);
}

static void
settle_peer(struct hnode *n, void *sd)
{
	struct peer *p = htab_entry(n, struct peer, node);

	if (p->sock == -1)
		return;
	hand_relay(sd, p);
	hand_to_peer(&p->to_peer);
}

void
udppeer_settle(struct service *svc)
{
	if (svc->peers)
		htab_each(&svc->peers->tab, settle_peer, svc->sd);
}

/*
 * A handler with a socket of its own, handed over by an upgrade, with a
 * new feeding socket: a socket left connected to the old one is
 * connected to it. Its idle time starts anew.
 */
static void
hand_adopted(struct sockd *sd, struct peer *p, const struct udppeer_state *st)
{
	struct child *ch = children_find(&sd->children, p->pid);

	p->direct = st->direct;
	p->ending = p->ended_here = st->ending;
	if (!p->direct)
		(void)udphand_to_feed(p->sock, p->watch.fd);
	loop_timer_stop(&sd->loop, &p->idle);
	if (!p->ending) {
		hand_idle(sd, p);
		hand_switch_soon(sd, p);
	}
	if (ch)
		ch->ended = &p->ended;
	else
		loop_defer(&sd->loop, &p->ended);	/* it has gone */
}

/* What an upgrade hands over of p. */
static void
peer_state(const struct peer *p, struct udppeer_state *st)
{
	const struct service *svc = p->svc;

	memset(st, 0, sizeof(*st));
	(void)addr_from_sockaddr((const struct sockaddr *)&p->addr, &st->addr,
	    &st->port);
	if (p->addr.ss_family == AF_INET6)
		st->scope = ((const struct sockaddr_in6 *)&p->addr)->sin6_scope_id;
	if (p->li < svc->nls)
		st->listener = *svc->ls[p->li].addr;
	if (p->dest.level == IPPROTO_IP) {
		st->has_local = true;
		st->local.family = AF_INET;
		st->local.u.v4 = p->dest.info.v4.ipi_addr;
	} else if (p->dest.level == IPPROTO_IPV6) {
		st->has_local = true;
		st->local.family = AF_INET6;
		st->local.u.v6 = p->dest.info.v6.ipi6_addr;
		st->ifindex = p->dest.info.v6.ipi6_ifindex;
	}
	st->last_ms = p->last_ms;
	st->fd = p->watch.fd;
	if (p->sock != -1) {
		st->fd = p->sock;
		st->pid = p->pid;
		st->direct = p->direct;
		st->ending = p->ending;
	}
}

struct each {
	void (*fn)(const struct udppeer_state *, void *);
	void *arg;
};

static void
each_peer(struct hnode *n, void *arg)
{
	struct each *e = arg;
	struct udppeer_state st;

	peer_state(htab_entry(n, struct peer, node), &st);
	e->fn(&st, e->arg);
}

void
udppeer_each(const struct service *svc,
    void (*fn)(const struct udppeer_state *, void *), void *arg)
{
	struct each e = { fn, arg };

	if (svc->peers)
		htab_each(&svc->peers->tab, each_peer, &e);
}

/* The pktinfo that answers from st's local address, as dest_read() makes it. */
static void
dest_from_state(const struct udppeer_state *st, struct dest *d)
{
	memset(d, 0, sizeof(*d));
	if (!st->has_local)
		return;
	if (st->local.family == AF_INET) {
		d->level = IPPROTO_IP;
		d->type = IP_PKTINFO;
		d->info.v4.ipi_addr = d->info.v4.ipi_spec_dst = st->local.u.v4;
	} else {
		d->level = IPPROTO_IPV6;
		d->type = IPV6_PKTINFO;
		d->info.v6.ipi6_addr = st->local.u.v6;
		d->info.v6.ipi6_ifindex = st->ifindex;
	}
}

bool
udppeer_adopt(struct sockd *sd, struct service *svc,
    const struct udppeer_state *st)
{
	struct udppeers *t;
	struct peer *p;
	size_t li = 0;
	uint64_t idle = peer_idle_ms(svc), now = loop_now_ms();
	int feed = -1;

	while (li < svc->nls && !addr_equal(svc->ls[li].addr, &st->listener))
		li++;
	if (li == svc->nls) {
		errno = EINVAL;
		return false;
	}
	if ((t = peers_made(svc)) == NULL || peers_of(svc) == NULL ||
	    (st->pid && (feed = udphand_feeder(svc->ls[li].fd)) == -1))
		return false;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		if (feed != -1)
			close(feed);
		return false;
	}
	p->sock = st->pid ? st->fd : -1;
	p->pid = st->pid;
	p->alen = addr_sockaddr(&st->addr, st->port, &p->addr);
	if (p->addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&p->addr)->sin6_scope_id = st->scope;
	dest_from_state(st, &p->dest);
	p->li = li;
	p->svc = service_ref(svc);
	if (peer_watch(sd, p, st->pid ? feed : st->fd) == -1) {
		loop_timer_stop(&sd->loop, &p->idle);
		loop_remove(&sd->loop, &p->watch);
		if (feed != -1)
			close(feed);
		service_unref(p->svc);
		free(p);
		return false;
	}
	/* Its idle time runs on from when it was last heard. */
	p->last_ms = st->last_ms < now ? st->last_ms : now;
	(void)loop_timer_set(&sd->loop, &p->idle,
	    now - p->last_ms < idle ? idle - (now - p->last_ms) : 0);
	if (peer_find(t, &p->addr, p->alen) != NULL) {
		peer_free(sd, p);	/* twice in the hand-over: keep the first */
		return true;
	}
	peer_insert(t, p);
	if (p->sock != -1)
		hand_adopted(sd, p, st);
	return true;
}
