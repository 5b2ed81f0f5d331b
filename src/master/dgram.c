/*
 * UDP built-ins, answered by the master a batch at a time (recvmmsg,
 * sendmmsg), behind the loop guard and the access lists. Owns the
 * datagram buffers; starts no child.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "builtin.h"
#include "log.h"
#include "logaddr.h"
#include "sockd.h"
#include "unforked.h"

/* Datagrams per recvmmsg(), and such batches per wake-up. */
#define DGRAM_BATCH 32
#define DGRAM_ROUNDS 2
#define DGRAM_MAX 65536
/*
 * A datagram is received into a slot of DGRAM_SLOT bytes, the slots
 * side by side, and what is longer on into a buffer of DGRAM_MAX bytes of
 * its own, where the slot's part is then copied in front of it: a burst
 * of short datagrams touches 12 pages, where a buffer of DGRAM_MAX each
 * touched 32.
 */
#define DGRAM_SLOT 1536
#define DGRAM_BUFSIZE ((size_t)DGRAM_BATCH * (DGRAM_SLOT + DGRAM_MAX))

/*
 * Buffers for answering UDP built-ins a batch at a time. Each answer is
 * written over its datagram (builtin.h): an answer is echo's copy of
 * the datagram or at most 512 bytes that do not read it (so a slot has
 * room for it), and a buffer of answers apart touched a page more for
 * each datagram of a batch.
 */
struct dgram_batch {
	struct mmsghdr in[DGRAM_BATCH], out[DGRAM_BATCH];
	struct iovec iin[2 * DGRAM_BATCH], iout[DGRAM_BATCH];
	struct sockaddr_storage peer[DGRAM_BATCH];
	char *slots;		/* DGRAM_BATCH * DGRAM_SLOT */
	char *big;		/* DGRAM_BATCH * DGRAM_MAX */
};

/*
 * Made when a UDP built-in first needs them. Pages are touched only as far
 * as datagrams fill them, and children are not given them: a fork would
 * copy their page tables, and our next recvmmsg() would copy the pages.
 */
static struct dgram_batch *
dgram_buffers(struct sockd *sd)
{
	struct dgram_batch *db;
	char *p;

	if (sd->dgram)
		return sd->dgram;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return NULL;
	if ((p = unforked_alloc(DGRAM_BUFSIZE)) == NULL) {
		free(db);
		return NULL;
	}
	db->slots = p;
	db->big = p + (size_t)DGRAM_BATCH * DGRAM_SLOT;
	return sd->dgram = db;
}

/*
 * Reflection and loop protection for UDP built-ins: no answer to a
 * privileged port, to a broadcast or multicast source, or to the port of
 * any UDP service of ours, built-in or exec'd, on whatever address: a
 * datagram forged from one to an echo service would bounce between them
 * for ever, and an exec'd handler answers its sender as blindly as a
 * built-in. The port alone decides, as the source address is as easily
 * forged as the port.
 */
static bool
dgram_suspect(const struct sockd *sd, const struct addr *a, uint16_t port)
{
	if (port < 1024 || addr_is_group(a))
		return true;
	for (size_t i = 0; i < sd->nsvcs; i++) {
		const struct svc_conf *sc = sd->svcs[i]->conf;
		if (sc->proto == PROTO_UDP && sc->port == port)
			return true;
	}
	return false;
}

/* Sends the m replies queued in db->out, dropping what the socket refuses. */
static void
send_replies(int fd, struct dgram_batch *db, int m)
{
	int sent = 0, r;

	while (sent < m) {
		r = sendmmsg(fd, db->out + sent, m - sent, MSG_DONTWAIT);
		if (r > 0)
			sent += r;
		else if (r == -1 && errno == EINTR)
			continue;
		else if (r == -1 && (errno == EAGAIN || errno == ENOBUFS))
			return;		/* full: the clients will retry */
		else
			sent++;		/* this peer's problem; skip its reply */
	}
}

/* Whether a datagram from peer gets an answer (loop guard, access lists);
 * its address read once, into *ap and *portp. */
static bool
dgram_answerable(struct sockd *sd, struct service *svc,
    const struct sockaddr *peer, struct addr *ap, uint16_t *portp)
{
	const struct svc_conf *sc = svc->conf;
	struct addr a;
	uint16_t port;

	if (addr_from_sockaddr(peer, &a, &port) == -1)
		return false;
	*ap = a;
	*portp = port;
	if (sc->udp_loop_guard && dgram_suspect(sd, &a, port)) {
		/* Debug only: whoever forges the datagrams would choose the
		 * log's volume otherwise. */
		if (log_debugging()) {
			char ip[LOGADDR_STRLEN];
			logaddr_format(&a, ip);
			log_debug("service \"%s\": udp_loop_guard dropped a datagram "
			    "from %s port %u", sc->name, ip, port);
		}
		return false;
	}
	/* Datagrams are dropped unlogged: their source may be forged. */
	if (!acl_allows(&sc->only_from, &sc->no_access, &a)) {
		svc->st.refused[REFUSE_ACCESS]++;
		return false;
	}
	return true;
}

/*
 * Datagram i of the batch in one piece, and the room for its answer
 * there: its slot, or its long buffer with the slot's part put in front.
 */
static char *
dgram_whole(struct dgram_batch *db, int i, size_t *room)
{
	char *slot = db->iin[2 * i].iov_base, *big = db->big + (size_t)i * DGRAM_MAX;

	if (db->in[i].msg_len <= DGRAM_SLOT) {
		*room = DGRAM_SLOT;
		return slot;
	}
	memcpy(big, slot, DGRAM_SLOT);
	*room = DGRAM_MAX;
	return big;
}

/* UDP built-ins: datagrams received, answered and sent in batches. */
void
dgram_answer(struct sockd *sd, struct listener *l)
{
	struct service *svc = l->svc;
	const struct builtin *b = svc->conf->builtin;
	struct dgram_batch *db = dgram_buffers(sd);

	if (db == NULL) {
		gate_fault(sd, svc, FAULT_TAKE, "datagram buffers");
		return;
	}
	gate_cleared(svc, FAULT_TAKE);
	for (int round = 0, errors = 0; round < DGRAM_ROUNDS; round++) {
		int n, m = 0;

		for (int i = 0; i < DGRAM_BATCH; i++) {
			db->iin[2 * i] = (struct iovec){ db->slots +
			    (size_t)i * DGRAM_SLOT, DGRAM_SLOT };
			db->iin[2 * i + 1] = (struct iovec){ db->big +
			    (size_t)i * DGRAM_MAX + DGRAM_SLOT, DGRAM_MAX - DGRAM_SLOT };
			db->in[i].msg_hdr = (struct msghdr){ .msg_name = &db->peer[i],
			    .msg_namelen = sizeof(db->peer[i]),
			    .msg_iov = &db->iin[2 * i], .msg_iovlen = 2 };
		}
		n = recvmmsg(l->fd, db->in, DGRAM_BATCH, MSG_DONTWAIT, NULL);
		if (n == -1) {
			if (errno == EAGAIN || ++errors > DGRAM_BATCH)
				return;
			round--;	/* an ICMP error from an earlier reply */
			continue;
		}
		for (int i = 0; i < n; i++) {
			size_t outsz;
			char *in;
			struct addr a;
			uint16_t port;
			ssize_t len;
			if (!dgram_answerable(sd, svc, (struct sockaddr *)&db->peer[i],
			    &a, &port))
				continue;
			/* Counted always; logged at debug level only, as a
			 * flood of (perhaps forged) datagrams would flood the log. */
			svc->st.accepted++;
			events_answered(svc, &a, port, LOG_DEBUG);
			in = dgram_whole(db, i, &outsz);
			len = b->dgram(in, db->in[i].msg_len, in, outsz);
			if (len < 0)
				continue;
			db->iout[m] = (struct iovec){ in, len };
			db->out[m].msg_hdr = (struct msghdr){ .msg_name = &db->peer[i],
			    .msg_namelen = db->in[i].msg_hdr.msg_namelen,
			    .msg_iov = &db->iout[m], .msg_iovlen = 1 };
			m++;
		}
		send_replies(l->fd, db, m);
		if (n < DGRAM_BATCH)
			return;
	}
}

void
dgram_free(struct sockd *sd)
{
	if (sd->dgram) {
		unforked_free(sd->dgram->slots, DGRAM_BUFSIZE);
		free(sd->dgram);
		sd->dgram = NULL;
	}
}
