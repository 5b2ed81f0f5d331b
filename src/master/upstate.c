/*
 * The text of the upgrade's hand-over (upstate.h): printed by the old
 * image from what upcollect.c gathered, read by the new one into struct
 * upstate, which adopt.c applies. Logs nothing: what the reader drops it
 * lists for adopt.c to log.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "peercred.h"
#include "sockd.h"
#include "upfield.h"
#include "uplegacy.h"
#include "upstate.h"

#define NSTATS (sizeof(struct service_stats) / sizeof(unsigned long long))
#define AT(f) (offsetof(struct service_stats, f) / sizeof(unsigned long long))
_Static_assert(sizeof(struct service_stats) % sizeof(unsigned long long) == 0,
    "service_stats holds counters only");
/* counter_name() names each of them: a new counter needs a name there. */
_Static_assert(AT(accepted) == 0 && AT(refused) == 1 &&
    AT(ended_ok) == 1 + REFUSE_NREASONS && AT(backoff_pauses) == AT(ended_ok) + 3 &&
    AT(duration) == AT(backoff_pauses) + 1 &&
    AT(duration_ms) == AT(duration) + SERVICE_DURATION_BOUNDS + 1 &&
    NSTATS == AT(duration_ms) + 1, "service_stats changed: name the counter");
#define COUNTER_NAME_MAX 48
/* Room for "uid:" and a uid, or an address literal. */
#define KEY_MAX ADDR_STRLEN

/*
 * The name of counter i of struct service_stats: its metric's, without
 * "sockd_", and the label's value after a dot. The histogram's buckets
 * are not cumulative here, and bounded in milliseconds.
 */
static void
counter_name(size_t i, char name[COUNTER_NAME_MAX])
{
	const char *ended[] = { "ok", "failed", "signal" };

	if (i == AT(accepted))
		snprintf(name, COUNTER_NAME_MAX, "connections_total");
	else if (i < AT(ended_ok))
		snprintf(name, COUNTER_NAME_MAX, "refused_total.%s",
		    refuse_reason_name(i - AT(refused)));
	else if (i < AT(backoff_pauses))
		snprintf(name, COUNTER_NAME_MAX, "handlers_ended_total.%s",
		    ended[i - AT(ended_ok)]);
	else if (i == AT(backoff_pauses))
		snprintf(name, COUNTER_NAME_MAX, "backoff_pauses_total");
	else if (i < AT(duration) + SERVICE_DURATION_BOUNDS)
		snprintf(name, COUNTER_NAME_MAX, "handler_duration.le%ums",
		    metrics_duration_bound((int)(i - AT(duration))));
	else if (i < AT(duration_ms))
		snprintf(name, COUNTER_NAME_MAX, "handler_duration.inf");
	else
		snprintf(name, COUNTER_NAME_MAX, "handler_duration.sum_ms");
}

/* A per-source key: an address, or a UNIX peer's uid (peercred.h). */
static void
key_format(const struct addr *a, char buf[KEY_MAX])
{
	if (a->family == AF_UNIX)
		snprintf(buf, KEY_MAX, "uid:%u", (unsigned)a->u.v4.s_addr);
	else
		addr_format(a, buf);
}

static int
key_parse(const char *s, struct addr *a)
{
	unsigned long long uid;
	struct upfields one = { .n = 1, .key = { "uid" } };

	if (strncmp(s, "uid:", 4) != 0)
		return addr_parse(s, a);
	one.val[0] = s + 4;
	if (upfield_ull(&one, "uid", UINT32_MAX - 1, &uid) == -1)
		return -1;
	*a = peercred_key((uid_t)uid);
	return 0;
}

static void
put_addr(FILE *f, const char *key, const struct addr *a)
{
	char buf[KEY_MAX];

	key_format(a, buf);
	upfield_put(f, key, buf);
}

static void
print_listener(FILE *f, const struct upstate_listener *l)
{
	fprintf(f, "listener");
	upfield_put(f, "proto", svc_proto_name(l->proto));
	if (l->proto == PROTO_UNIX) {
		upfield_put(f, "path", l->path);
		upfield_put_ll(f, "made", l->file.made);
		upfield_put_ull(f, "dev", l->file.dev);
		upfield_put_ull(f, "ino", l->file.ino);
	} else {
		put_addr(f, "addr", &l->addr);
		upfield_put_ll(f, "port", l->port);
	}
	upfield_put_ll(f, "fd", l->fd);
	if (l->kept)
		upfield_put_ll(f, "kept", 1);
	if (l->name[0])
		upfield_put(f, "name", l->name);
	fputc('\n', f);
}

static void
print_service(FILE *f, const struct upstate_service *s)
{
	const unsigned long long *v = (const unsigned long long *)&s->st;
	char name[COUNTER_NAME_MAX];

	fprintf(f, "service");
	upfield_put(f, "name", s->name);
	upfield_put_ull(f, "paused_until", s->paused_until);
	upfield_put_ull(f, "backoff_ms", s->backoff_ms);
	if (s->busy != -1)
		upfield_put_ll(f, "busy", s->busy);
	if (s->held)
		upfield_put_ll(f, "held", 1);
	for (size_t i = 0; i < NSTATS; i++) {
		counter_name(i, name);
		upfield_put_ull(f, name, v[i]);
	}
	fputc('\n', f);
}

static void
print_fail(FILE *f, const struct upstate_fail *fl)
{
	fprintf(f, "fail");
	upfield_put(f, "service", fl->service);
	upfield_put_ull(f, "when", fl->when);
	fputc('\n', f);
}

/* The service's bucket (no key), and each client's. */
static void
print_bucket(FILE *f, const struct upstate_bucket *b)
{
	fprintf(f, "rate");
	upfield_put(f, "service", b->service);
	if (b->source)
		put_addr(f, "key", &b->key);
	upfield_put_ll(f, "milli", b->milli);
	upfield_put_ll(f, "last", b->last);
	fputc('\n', f);
}

static void
print_child(FILE *f, const struct upstate_child *c)
{
	fprintf(f, "child");
	upfield_put_ll(f, "pid", c->pid);
	upfield_put(f, "service", c->service);
	upfield_put_ull(f, "started_ms", c->started_ms);
	if (c->has_source)
		put_addr(f, "source", &c->source);
	if (c->lifetime_when)
		upfield_put_ull(f, "lifetime_when", c->lifetime_when);
	upfield_put_ll(f, "term_sent", c->term_sent);
	if (c->peer.family != AF_UNSPEC) {
		put_addr(f, "peer", &c->peer);
		upfield_put_ll(f, "peer_port", c->peer_port);
	}
	if (c->own_id)
		upfield_put_ull(f, "own_id", c->own_id);
	if (c->relay_id)
		upfield_put_ull(f, "relay_id", c->relay_id);
	fputc('\n', f);
}

static void
print_errlog(FILE *f, const struct upstate_errlog *e)
{
	fprintf(f, "errlog");
	upfield_put(f, "service", e->service);
	upfield_put_ll(f, "fd", e->fd);
	fputc('\n', f);
}

static void
print_peer(FILE *f, const struct upstate_peer *p)
{
	const struct udppeer_state *st = &p->st;

	fprintf(f, "peer");
	upfield_put(f, "service", p->service);
	put_addr(f, "addr", &st->addr);
	upfield_put_ll(f, "port", st->port);
	upfield_put_ull(f, "scope", st->scope);
	put_addr(f, "listener", &st->listener);
	if (st->has_local)
		put_addr(f, "local", &st->local);
	upfield_put_ull(f, "ifindex", st->ifindex);
	upfield_put_ull(f, "last_ms", st->last_ms);
	upfield_put_ll(f, "fd", st->fd);
	if (st->pid) {	/* fd is its handler's socket (udphand.h) */
		upfield_put_ll(f, "pid", st->pid);
		upfield_put(f, "socket", st->ending ? "ending" :
		    st->direct ? "peer" : "feed");
	}
	fputc('\n', f);
}

/* Listeners before services: a service's busy= names one of them. */
static void
print_all(FILE *f, const struct upstate *u)
{
	fprintf(f, "sockd-upgrade %d\ndaemon", UPSTATE_VERSION);
	upfield_put_ll(f, "started", u->started);
	upfield_put_ll(f, "last_reload", u->last_reload);
	upfield_put_ull(f, "reloads_ok", u->reloads_ok);
	upfield_put_ull(f, "reloads_failed", u->reloads_failed);
	if (u->nwaiters) {
		char list[UPSTATE_WAITERS_MAX * 12] = "";
		for (size_t i = 0; i < u->nwaiters; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
			    "%s%d", i ? "," : "", u->waiters[i]);
		upfield_put(f, "control_waiters", list);
	}
	fputc('\n', f);
	for (size_t i = 0; i < u->nls; i++)
		print_listener(f, &u->ls[i]);
	for (size_t i = 0; i < u->nsvcs; i++)
		print_service(f, &u->svcs[i]);
	for (size_t i = 0; i < u->nfails; i++)
		print_fail(f, &u->fails[i]);
	for (size_t i = 0; i < u->nbuckets; i++)
		print_bucket(f, &u->buckets[i]);
	for (size_t i = 0; i < u->nchildren; i++)
		print_child(f, &u->children[i]);
	for (size_t i = 0; i < u->nerrlogs; i++)
		print_errlog(f, &u->errlogs[i]);
	for (size_t i = 0; i < u->npeers; i++)
		print_peer(f, &u->peers[i]);
	fprintf(f, "end\n");
}

int
upstate_print(int fd, const struct upstate *u)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	FILE *f;
	int rc;

	if (dup_fd == -1 || (f = fdopen(dup_fd, "w")) == NULL) {
		if (dup_fd != -1)
			close(dup_fd);
		return -1;
	}
	print_all(f, u);
	rc = ferror(f) ? -1 : 0;
	if (fclose(f) == EOF)
		rc = -1;
	return rc;
}

void *
upstate_add(void **v, size_t *n, size_t size)
{
	char *p = realloc(*v, (*n + 1) * size);

	if (p == NULL)
		return NULL;
	*v = p;
	memset(p + *n * size, 0, size);
	return p + (*n)++ * size;
}

/*
 * The descriptors earlier records handed over, one bit each: two owners
 * would close one twice. A bitmap, not a walk of the records, so that
 * reading N peers stays O(N). It grows to the highest descriptor named,
 * which is below the process's descriptor limit (else no record could
 * name one it holds).
 */
static int
fds_room(struct upstate *u, int fd)
{
	size_t need = (size_t)fd / 8 + 1, len;
	unsigned char *p;

	if (need <= u->fds_len)
		return 0;
	len = u->fds_len ? u->fds_len : 64;
	while (len < need)
		len *= 2;
	if ((p = realloc(u->fds, len)) == NULL)
		return -1;
	memset(p + u->fds_len, 0, len - u->fds_len);
	u->fds = p;
	u->fds_len = len;
	return 0;
}

static bool
fd_taken(const struct upstate *u, int fd)
{
	return u->fds[fd / 8] & (1u << (fd % 8));
}

/* After fds_room(u, fd): the record that names fd was kept. */
static void
fd_take(struct upstate *u, int fd)
{
	u->fds[fd / 8] |= (unsigned char)(1u << (fd % 8));
}

/* A descriptor handed over: not stdio, below the descriptor limit, not
 * one handed over already. */
static const char *
read_fd(const struct upfields *r, struct upstate *u, int *fd)
{
	struct rlimit rl;
	long long v;

	if (upfield_ll(r, "fd", 3, INT_MAX, &v) == -1)
		return "no fd=, or not a descriptor above 2";
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (unsigned long long)v >= rl.rlim_cur)
		return "its fd= is above the descriptor limit";
	if (fds_room(u, (int)v) == -1)
		return "out of memory";
	if (fd_taken(u, (int)v))
		return "its fd= is an earlier record's";
	*fd = (int)v;
	return NULL;
}

static const char *
read_listener(const struct upfields *r, struct upstate *u)
{
	struct upstate_listener l = { 0 }, *p;
	const char *proto = upfield_get(r, "proto"), *why;
	unsigned long long port, made, dev, ino;

	if (proto && strcmp(proto, "unix") == 0) {
		if (upfield_str(r, "path", l.path, sizeof(l.path)) == -1 ||
		    upfield_ull(r, "made", 1, &made) == -1 ||
		    upfield_ull(r, "dev", ULLONG_MAX, &dev) == -1 ||
		    upfield_ull(r, "ino", ULLONG_MAX, &ino) == -1)
			return "no path=, made=, dev= or ino=";
		l.proto = PROTO_UNIX;
		l.file = (struct unixsock_file){ .made = made, .dev = dev, .ino = ino };
	} else if (proto && (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0)) {
		const char *a = upfield_get(r, "addr");
		if (a == NULL || addr_parse(a, &l.addr) == -1 ||
		    upfield_ull(r, "port", UINT16_MAX, &port) == -1 || port == 0)
			return "no addr= or port=";
		l.proto = proto[0] == 't' ? PROTO_TCP : PROTO_UDP;
		l.port = (uint16_t)port;
	} else
		return "no proto= tcp, udp or unix";
	if ((why = read_fd(r, u, &l.fd)) != NULL)
		return why;
	/* Written by releases that hand systemd's sockets on; else none. */
	l.kept = upfield_get(r, "kept") != NULL;
	if (upfield_get(r, "name") &&
	    upfield_str(r, "name", l.name, sizeof(l.name)) == -1)
		return "a name= too long";
	if ((p = upstate_add((void **)&u->ls, &u->nls, sizeof(*p))) == NULL)
		return "out of memory";
	*p = l;
	fd_take(u, l.fd);
	return NULL;
}

static const char *
read_counters(const struct upfields *r, struct upstate_service *s)
{
	unsigned long long *v = (unsigned long long *)&s->st;
	char name[COUNTER_NAME_MAX];

	/* A counter this release does not know is a later one's: ignored. */
	for (size_t i = 0; i < NSTATS; i++) {
		counter_name(i, name);
		if (upfield_get(r, name) && upfield_ull(r, name, ULLONG_MAX, &v[i]) == -1)
			return "a counter that is not a number";
	}
	return NULL;
}

static const char *
read_service(const struct upfields *r, struct upstate *u)
{
	struct upstate_service s = { .busy = -1 }, *p;
	unsigned long long until, backoff;
	long long busy;
	const char *why;

	if (upfield_str(r, "name", s.name, sizeof(s.name)) == -1)
		return "no name=";
	if (upfield_ull(r, "paused_until", UINT64_MAX, &until) == -1 ||
	    upfield_ull(r, "backoff_ms", UINT_MAX, &backoff) == -1)
		return "no paused_until= or backoff_ms=";
	if (upfield_get(r, "busy")) {
		if (upfield_ll(r, "busy", -1, INT_MAX, &busy) == -1)
			return "busy= is not a descriptor";
		s.busy = (int)busy;
	}
	if ((why = read_counters(r, &s)) != NULL)
		return why;
	s.paused_until = until;
	s.backoff_ms = (unsigned)backoff;
	s.held = upfield_get(r, "held") != NULL;
	if ((p = upstate_add((void **)&u->svcs, &u->nsvcs, sizeof(*p))) == NULL)
		return "out of memory";
	*p = s;
	return NULL;
}

/* Its client, if the record names one (releases before named none). */
static int
read_child_peer(const struct upfields *r, struct upstate_child *c)
{
	const char *peer = upfield_get(r, "peer");
	unsigned long long port = 0;

	if (peer == NULL)
		return 0;
	if (key_parse(peer, &c->peer) == -1 ||
	    (upfield_get(r, "peer_port") &&
	    upfield_ull(r, "peer_port", UINT16_MAX, &port) == -1))
		return -1;
	c->peer_port = (uint16_t)port;
	return 0;
}

/* The pool's ids, if the record names them (releases before did not). */
static int
read_child_ids(const struct upfields *r, struct upstate_child *c)
{
	unsigned long long own = 0, relay = 0;

	if ((upfield_get(r, "own_id") &&
	    upfield_ull(r, "own_id", UINT32_MAX - 1, &own) == -1) ||
	    (upfield_get(r, "relay_id") &&
	    upfield_ull(r, "relay_id", UINT32_MAX - 1, &relay) == -1))
		return -1;
	c->own_id = (uid_t)own;
	c->relay_id = (uid_t)relay;
	return 0;
}

static const char *
read_child(const struct upfields *r, struct upstate *u)
{
	struct upstate_child c = { 0 }, *p;
	unsigned long long started, when = 0, term;
	const char *src = upfield_get(r, "source");
	long long pid;

	/* Not 1 nor a group: a pid is signalled, and the wrong one must not be. */
	if (upfield_ll(r, "pid", 2, INT_MAX, &pid) == -1 ||
	    upfield_str(r, "service", c.service, sizeof(c.service)) == -1 ||
	    upfield_ull(r, "started_ms", UINT64_MAX, &started) == -1)
		return "no pid=, service= or started_ms=";
	if ((upfield_get(r, "lifetime_when") &&
	    upfield_ull(r, "lifetime_when", UINT64_MAX, &when) == -1) ||
	    upfield_ull(r, "term_sent", 1, &term) == -1)
		return "no term_sent=, or a lifetime_when= that is not a number";
	c.has_source = src != NULL;
	if (src && key_parse(src, &c.source) == -1)
		return "a source= that is no address or uid";
	if (read_child_peer(r, &c) == -1)
		return "a peer= or peer_port= that is no address or port";
	if (read_child_ids(r, &c) == -1)
		return "an own_id= or relay_id= that is no id";
	c.pid = (pid_t)pid;
	c.started_ms = started;
	c.lifetime_when = when;
	c.term_sent = term;
	if ((p = upstate_add((void **)&u->children, &u->nchildren, sizeof(*p))) == NULL)
		return "out of memory";
	*p = c;
	return NULL;
}

static const char *
read_peer_addrs(const struct upfields *r, struct udppeer_state *st)
{
	const char *a = upfield_get(r, "addr"), *l = upfield_get(r, "listener"),
	    *loc = upfield_get(r, "local");
	unsigned long long port, scope, ifindex, last;

	if (a == NULL || addr_parse(a, &st->addr) == -1 || l == NULL ||
	    addr_parse(l, &st->listener) == -1 ||
	    (loc && addr_parse(loc, &st->local) == -1))
		return "no addr= or listener=, or a bad local=";
	if (upfield_ull(r, "port", UINT16_MAX, &port) == -1 ||
	    upfield_ull(r, "scope", UINT32_MAX, &scope) == -1 ||
	    upfield_ull(r, "ifindex", UINT_MAX, &ifindex) == -1 ||
	    upfield_ull(r, "last_ms", UINT64_MAX, &last) == -1)
		return "no port=, scope=, ifindex= or last_ms=";
	st->has_local = loc != NULL;
	st->port = (uint16_t)port;
	st->scope = (uint32_t)scope;
	st->ifindex = (unsigned)ifindex;
	st->last_ms = last;
	return NULL;
}

/* A handler with a socket of its own: its pid and where its socket is
 * connected. Images before it hand over relayed peers only. */
static const char *
read_peer_socket(const struct upfields *r, struct udppeer_state *st)
{
	const char *how = upfield_get(r, "socket");
	unsigned long long pid;

	if (upfield_get(r, "pid") == NULL && how == NULL)
		return NULL;
	if (upfield_ull(r, "pid", INT32_MAX, &pid) == -1 || pid == 0 ||
	    how == NULL || (strcmp(how, "ending") != 0 &&
	    strcmp(how, "peer") != 0 && strcmp(how, "feed") != 0))
		return "a bad pid= or socket=";
	st->pid = (pid_t)pid;
	st->ending = strcmp(how, "ending") == 0;
	st->direct = strcmp(how, "peer") == 0;
	return NULL;
}

static const char *
read_peer(const struct upfields *r, struct upstate *u)
{
	struct upstate_peer pr = { 0 }, *p;
	const char *why;

	if (upfield_str(r, "service", pr.service, sizeof(pr.service)) == -1)
		return "no service=";
	if ((why = read_peer_addrs(r, &pr.st)) != NULL ||
	    (why = read_peer_socket(r, &pr.st)) != NULL ||
	    (why = read_fd(r, u, &pr.st.fd)) != NULL)
		return why;
	if ((p = upstate_add((void **)&u->peers, &u->npeers, sizeof(*p))) == NULL)
		return "out of memory";
	*p = pr;
	fd_take(u, pr.st.fd);
	return NULL;
}

static const char *
read_fail(const struct upfields *r, struct upstate *u)
{
	struct upstate_fail fl = { 0 }, *p;
	unsigned long long when;

	if (upfield_str(r, "service", fl.service, sizeof(fl.service)) == -1 ||
	    upfield_ull(r, "when", UINT64_MAX, &when) == -1)
		return "no service= or when=";
	fl.when = when;
	if ((p = upstate_add((void **)&u->fails, &u->nfails, sizeof(*p))) == NULL)
		return "out of memory";
	*p = fl;
	return NULL;
}

static const char *
read_rate(const struct upfields *r, struct upstate *u)
{
	struct upstate_bucket b = { 0 }, *p;
	const char *key = upfield_get(r, "key");
	long long milli, last;

	if (upfield_str(r, "service", b.service, sizeof(b.service)) == -1 ||
	    upfield_ll(r, "milli", LLONG_MIN, LLONG_MAX, &milli) == -1 ||
	    upfield_ll(r, "last", LLONG_MIN, LLONG_MAX, &last) == -1)
		return "no service=, milli= or last=";
	b.source = key != NULL;
	if (key && key_parse(key, &b.key) == -1)
		return "a key= that is no address or uid";
	b.milli = milli;
	b.last = last;
	if ((p = upstate_add((void **)&u->buckets, &u->nbuckets, sizeof(*p))) == NULL)
		return "out of memory";
	*p = b;
	return NULL;
}

static const char *
read_errlog(const struct upfields *r, struct upstate *u)
{
	struct upstate_errlog e = { 0 }, *p;
	const char *why;

	if (upfield_str(r, "service", e.service, sizeof(e.service)) == -1)
		return "no service=";
	if ((why = read_fd(r, u, &e.fd)) != NULL)
		return why;
	if ((p = upstate_add((void **)&u->errlogs, &u->nerrlogs, sizeof(*p))) == NULL)
		return "out of memory";
	*p = e;
	fd_take(u, e.fd);
	return NULL;
}

/* "5,7": descriptors above 2; what is not one is left out. */
static void
read_waiters(const char *list, struct upstate *u)
{
	char *end;
	long fd;

	while (list && *list && u->nwaiters < UPSTATE_WAITERS_MAX) {
		errno = 0;
		fd = strtol(list, &end, 10);
		if (end == list || errno || fd < 3 || fd > INT_MAX)
			return;
		u->waiters[u->nwaiters++] = (int)fd;
		list = *end == ',' ? end + 1 : end;
	}
}

static const char *
read_daemon(const struct upfields *r, struct upstate *u)
{
	long long started, last;
	unsigned long long ok, failed;

	if (upfield_ll(r, "started", 0, LLONG_MAX, &started) == -1 ||
	    upfield_ll(r, "last_reload", 0, LLONG_MAX, &last) == -1 ||
	    upfield_ull(r, "reloads_ok", ULLONG_MAX, &ok) == -1 ||
	    upfield_ull(r, "reloads_failed", ULLONG_MAX, &failed) == -1)
		return "no started=, last_reload=, reloads_ok= or reloads_failed=";
	read_waiters(upfield_get(r, "control_waiters"), u);
	u->started = (time_t)started;
	u->last_reload = (time_t)last;
	u->reloads_ok = ok;
	u->reloads_failed = failed;
	return NULL;
}

/* Each kind of record, by the word that starts its line. */
static const struct {
	const char *kind;
	const char *(*read)(const struct upfields *, struct upstate *);
} records[] = {
	{ "daemon", read_daemon }, { "listener", read_listener },
	{ "service", read_service }, { "fail", read_fail }, { "rate", read_rate },
	{ "child", read_child }, { "errlog", read_errlog }, { "peer", read_peer },
};

/* A line of the version read into u; NULL, or why it was dropped. */
static const char *
read_line(char *line, struct upstate *u, struct upfields *r)
{
	const char *why = u->version < 4 ? uplegacy_split(line, r) :
	    upfield_split(line, r);

	if (why != NULL)
		return why;
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		if (strcmp(r->kind, records[i].kind) == 0)
			return records[i].read(r, u);
	return "not a kind of record this release knows";
}

/* Notes a dropped line; an entry that cannot be had is still counted. */
static void
drop(struct upstate *u, unsigned line, const char *kind, const char *why)
{
	struct upstate_drop *d = upstate_add((void **)&u->drops, &u->ndrops, sizeof(*d));

	if (d == NULL)
		return;
	d->line = line;
	snprintf(d->kind, sizeof(d->kind), "%s", kind ? kind : "");
	snprintf(d->why, sizeof(d->why), "%s", why);
}

static int
read_version(FILE *f, char **line, size_t *cap)
{
	int version, at = 0;

	if (getline(line, cap, f) == -1 ||
	    sscanf(*line, "sockd-upgrade %d\n%n", &version, &at) != 1 || at == 0 ||
	    (*line)[at] != '\0' || version < UPSTATE_OLDEST ||
	    version > UPSTATE_VERSION)
		return -1;
	return version;
}

static void
read_records(FILE *f, struct upstate *u, char **line, size_t *cap)
{
	struct upfields r;
	unsigned n = 1;
	const char *why;

	ssize_t got;

	while ((got = getline(line, cap, f)) != -1) {
		n++;
		r.kind = NULL;
		if (strcmp(*line, "end\n") == 0)
			return;
		/* A NUL would hide the rest of the line from the reader. */
		if (strlen(*line) != (size_t)got)
			why = "a NUL byte";
		else if ((why = read_line(*line, u, &r)) == NULL)
			continue;
		drop(u, n, r.kind, why);
	}
	drop(u, n + 1, "end", "missing: the state is cut short");
}

int
upstate_read(int fd, struct upstate *u)
{
	int dup_fd;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	memset(u, 0, sizeof(*u));
	if (lseek(fd, 0, SEEK_SET) == -1 ||
	    (dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1)
		return -1;
	if ((f = fdopen(dup_fd, "r")) == NULL) {
		close(dup_fd);
		return -1;
	}
	if ((u->version = read_version(f, &line, &cap)) != -1)
		read_records(f, u, &line, &cap);
	free(line);
	fclose(f);
	if (u->version == -1) {
		upstate_free(u);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void
upstate_free(struct upstate *u)
{
	free(u->ls);
	free(u->svcs);
	free(u->children);
	free(u->errlogs);
	free(u->peers);
	free(u->fails);
	free(u->buckets);
	free(u->drops);
	free(u->fds);
	memset(u, 0, sizeof(*u));
}
