/*
 * The upgrade's hand-over, written by the old image and read by the new
 * one (upstate.h). Writing walks the daemon; reading only fills struct
 * upstate, which adopt.c applies. Logs nothing.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "errlog.h"
#include "sockd.h"
#include "upstate.h"

#define NSTATS (sizeof(struct service_stats) / sizeof(unsigned long long))
_Static_assert(sizeof(struct service_stats) % sizeof(unsigned long long) == 0,
    "service_stats holds counters only");
/*
 * A service's counters are written by position, and a release reads the
 * hand-over of the releases before it. Changing struct service_stats
 * (or the refusal reasons in it) changes every position after the change:
 * that needs a new UPSTATE_VERSION whose reader maps the old layout.
 */
_Static_assert(NSTATS == 27 && REFUSE_NREASONS == 6,
    "service_stats changed: see the comment above");

static void
write_listeners(FILE *f, const struct service *svc)
{
	char ip[ADDR_STRLEN];

	for (size_t i = 0; i < svc->nls; i++) {
		const struct unixsock_file *uf = &svc->ls[i].file;
		if (svc->ls[i].fd == -1)
			continue;
		if (svc->conf->proto == PROTO_UNIX) {
			/* The path last: it runs to the end of the line. */
			fprintf(f, "ulistener %d %d %llu %llu %s\n", svc->ls[i].fd,
			    uf->made, (unsigned long long)uf->dev,
			    (unsigned long long)uf->ino, svc->conf->unix_path);
			continue;
		}
		addr_format(svc->ls[i].addr, ip);
		fprintf(f, "listener %d %s %u %d\n", svc->conf->proto, ip,
		    svc->conf->port, svc->ls[i].fd);
	}
}

static void
write_service(FILE *f, const struct service *svc)
{
	const unsigned long long *v = (const unsigned long long *)&svc->st;
	uint64_t until = svc->paused && loop_timer_armed(&svc->resume) ?
	    svc->resume.when : 0;

	write_listeners(f, svc);
	fprintf(f, "service %s %llu %u %d %zu", svc->conf->name,
	    (unsigned long long)until, svc->backoff_ms,
	    svc->busy ? svc->busy_fd : -1, NSTATS);
	for (size_t i = 0; i < NSTATS; i++)
		fprintf(f, " %llu", v[i]);
	fputc('\n', f);
}

/* fail NAME WHEN, oldest first: the back-off's window goes on. */
static void
write_fails(FILE *f, const struct service *svc)
{
	for (unsigned k = 0; svc->fails_cap && k < svc->nfails; k++) {
		unsigned i = (svc->fails_next + svc->fails_cap - svc->nfails + k) %
		    svc->fails_cap;
		fprintf(f, "fail %s %llu\n", svc->conf->name,
		    (unsigned long long)svc->fails[i]);
	}
}

/* rate NAME - MILLI LAST, and rate NAME KEY MILLI LAST per client. */
static void
write_buckets(FILE *f, const struct service *svc)
{
	const struct persource *ps = &svc->sources;
	char ip[ADDR_STRLEN];

	if (svc->rate.rate)
		fprintf(f, "rate %s - %lld %lld\n", svc->conf->name,
		    (long long)svc->rate.milli, (long long)svc->rate.last);
	for (size_t i = 0; ps->rate && i < ps->nheads; i++)
		for (const struct source *src = ps->heads[i]; src; src = src->next) {
			addr_format(&src->key, ip);
			fprintf(f, "rate %s %s %lld %lld\n", svc->conf->name, ip,
			    (long long)src->bucket.milli,
			    (long long)src->bucket.last);
		}
}

static void
write_child(FILE *f, const struct child *ch)
{
	char ip[ADDR_STRLEN] = "-";

	if (ch->has_source)
		addr_format(&ch->source, ip);
	fprintf(f, "child %ld %s %llu %s %llu %d\n", (long)ch->pid,
	    ch->svc->conf->name, (unsigned long long)ch->started_ms, ip,
	    (unsigned long long)(loop_timer_armed(&ch->lifetime) ?
	    ch->lifetime.when : 0), ch->term_sent);
}

struct peer_out {
	FILE *f;
	const char *service;
};

/* peer SERVICE ADDR PORT SCOPE LISTENER LOCAL|- IFINDEX LAST_MS FD */
static void
write_peer(const struct udppeer_state *st, void *arg)
{
	const struct peer_out *o = arg;
	char a[ADDR_STRLEN], l[ADDR_STRLEN], loc[ADDR_STRLEN] = "-";

	addr_format(&st->addr, a);
	addr_format(&st->listener, l);
	if (st->has_local)
		addr_format(&st->local, loc);
	fprintf(o->f, "peer %s %s %u %lu %s %s %u %llu %d\n", o->service, a,
	    st->port, (unsigned long)st->scope, l, loc, st->ifindex,
	    (unsigned long long)st->last_ms, st->fd);
}

int
upstate_write(int fd, const struct sockd *sd)
{
	int dup_fd = dup(fd);
	FILE *f;
	int rc;

	if (dup_fd == -1 || (f = fdopen(dup_fd, "w")) == NULL) {
		if (dup_fd != -1)
			close(dup_fd);
		return -1;
	}
	fprintf(f, "sockd-upgrade %d\ndaemon %lld %lld %llu %llu\n",
	    UPSTATE_VERSION, (long long)sd->started, (long long)sd->last_reload,
	    sd->reloads_ok, sd->reloads_failed);
	for (size_t i = 0; i < sd->nsvcs; i++) {
		write_service(f, sd->svcs[i]);
		write_fails(f, sd->svcs[i]);
		write_buckets(f, sd->svcs[i]);
	}
	for (size_t i = 0; i < sd->children.cap; i++)
		if (sd->children.slots[i])
			write_child(f, sd->children.slots[i]);
	for (const struct errlog *el = sd->errlogs; el; el = errlog_next(el))
		fprintf(f, "errlog %s %d\n", errlog_service(el)->conf->name,
		    errlog_reader(el));
	for (size_t i = 0; i < sd->nsvcs; i++) {
		struct peer_out o = { f, sd->svcs[i]->conf->name };
		udppeer_each(sd->svcs[i], write_peer, &o);
	}
	fprintf(f, "end\n");
	rc = ferror(f) ? -1 : 0;
	if (fclose(f) == EOF)
		rc = -1;
	return rc;
}

/* Appends one zeroed element to *v (n of them, each size bytes). */
static void *
grow(void **v, size_t *n, size_t size)
{
	char *p = realloc(*v, (*n + 1) * size);

	if (p == NULL)
		return NULL;
	*v = p;
	memset(p + *n * size, 0, size);
	return p + (*n)++ * size;
}

static int
read_listener(const char *line, struct upstate *u)
{
	struct upstate_listener *l;
	char ip[ADDR_STRLEN];
	int proto, fd;
	unsigned port;

	if (sscanf(line, "listener %d %45s %u %d", &proto, ip, &port, &fd) != 4 ||
	    (l = grow((void **)&u->ls, &u->nls, sizeof(*l))) == NULL)
		return -1;
	l->proto = proto;
	l->port = port;
	l->fd = fd;
	return addr_parse(ip, &l->addr);
}

static int
read_ulistener(const char *line, struct upstate *u)
{
	struct upstate_listener *l;
	unsigned long long dev, ino;
	int made, at = 0;
	size_t n;

	if ((l = grow((void **)&u->ls, &u->nls, sizeof(*l))) == NULL ||
	    sscanf(line, "ulistener %d %d %llu %llu %n", &l->fd, &made, &dev,
	    &ino, &at) != 4 || at == 0)
		return -1;
	n = strcspn(line + at, "\n");
	if (n == 0 || n >= sizeof(l->path))
		return -1;
	memcpy(l->path, line + at, n);
	l->proto = PROTO_UNIX;
	l->file = (struct unixsock_file){ .made = made, .dev = dev, .ino = ino };
	return 0;
}

static int
read_service(const char *line, struct upstate *u)
{
	struct upstate_service *s;
	unsigned long long until, *v;
	size_t n;
	int at;

	if ((s = grow((void **)&u->svcs, &u->nsvcs, sizeof(*s))) == NULL)
		return -1;
	if (sscanf(line, "service %64s %llu %u %d %zu%n", s->name, &until,
	    &s->backoff_ms, &s->busy, &n, &at) != 5 || n != NSTATS)
		return -1;
	s->paused_until = until;
	v = (unsigned long long *)&s->st;
	for (size_t i = 0; i < NSTATS; i++) {
		int used;
		if (sscanf(line + at, " %llu%n", &v[i], &used) != 1)
			return -1;
		at += used;
	}
	return 0;
}

static int
read_child(const char *line, struct upstate *u)
{
	struct upstate_child *c;
	unsigned long long started, when;
	char ip[ADDR_STRLEN];
	long pid;
	int term;

	if ((c = grow((void **)&u->children, &u->nchildren, sizeof(*c))) == NULL ||
	    sscanf(line, "child %ld %64s %llu %45s %llu %d", &pid, c->service,
	    &started, ip, &when, &term) != 6)
		return -1;
	c->pid = pid;
	c->started_ms = started;
	c->lifetime_when = when;
	c->term_sent = term;
	c->has_source = strcmp(ip, "-") != 0;
	return c->has_source ? addr_parse(ip, &c->source) : 0;
}

static int
read_peer(const char *line, struct upstate *u)
{
	struct upstate_peer *p;
	char a[ADDR_STRLEN], l[ADDR_STRLEN], loc[ADDR_STRLEN];
	unsigned port;
	unsigned long scope;
	unsigned long long last;

	if ((p = grow((void **)&u->peers, &u->npeers, sizeof(*p))) == NULL ||
	    sscanf(line, "peer %64s %45s %u %lu %45s %45s %u %llu %d", p->service,
	    a, &port, &scope, l, loc, &p->st.ifindex, &last, &p->st.fd) != 9 ||
	    port > UINT16_MAX || addr_parse(a, &p->st.addr) == -1 ||
	    addr_parse(l, &p->st.listener) == -1)
		return -1;
	p->st.port = port;
	p->st.scope = scope;
	p->st.last_ms = last;
	p->st.has_local = strcmp(loc, "-") != 0;
	return p->st.has_local ? addr_parse(loc, &p->st.local) : 0;
}

static int
read_fail(const char *line, struct upstate *u)
{
	struct upstate_fail *fl;
	unsigned long long when;

	if ((fl = grow((void **)&u->fails, &u->nfails, sizeof(*fl))) == NULL ||
	    sscanf(line, "fail %64s %llu", fl->service, &when) != 2)
		return -1;
	fl->when = when;
	return 0;
}

static int
read_rate(const char *line, struct upstate *u)
{
	struct upstate_bucket *b;
	char key[ADDR_STRLEN];
	long long milli, last;

	if ((b = grow((void **)&u->buckets, &u->nbuckets, sizeof(*b))) == NULL ||
	    sscanf(line, "rate %64s %45s %lld %lld", b->service, key, &milli,
	    &last) != 4)
		return -1;
	b->milli = milli;
	b->last = last;
	b->source = strcmp(key, "-") != 0;
	return b->source ? addr_parse(key, &b->key) : 0;
}

static int
read_errlog(const char *line, struct upstate *u)
{
	struct upstate_errlog *e = grow((void **)&u->errlogs, &u->nerrlogs,
	    sizeof(*e));

	return e && sscanf(line, "errlog %64s %d", e->service, &e->fd) == 2 ?
	    0 : -1;
}

static int
read_daemon(const char *line, struct upstate *u)
{
	long long started, last;

	if (sscanf(line, "daemon %lld %lld %llu %llu", &started, &last,
	    &u->reloads_ok, &u->reloads_failed) != 4)
		return -1;
	u->started = started;
	u->last_reload = last;
	return 0;
}

/* Each kind of record, by the word that starts its line. */
static const struct {
	const char *word;
	int (*read)(const char *, struct upstate *);
} records[] = {
	{ "daemon ", read_daemon }, { "listener ", read_listener },
	{ "ulistener ", read_ulistener }, { "service ", read_service },
	{ "fail ", read_fail }, { "rate ", read_rate },
	{ "child ", read_child }, { "errlog ", read_errlog },
	{ "peer ", read_peer },
};

static int
read_line(const char *line, struct upstate *u)
{
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		if (strncmp(line, records[i].word, strlen(records[i].word)) == 0)
			return records[i].read(line, u);
	return -1;
}

int
upstate_read(int fd, struct upstate *u)
{
	char line[1024];
	int version = 0, dup_fd, rc = -1;
	FILE *f;

	memset(u, 0, sizeof(*u));
	if (lseek(fd, 0, SEEK_SET) == -1 || (dup_fd = dup(fd)) == -1)
		return -1;
	if ((f = fdopen(dup_fd, "r")) == NULL) {
		close(dup_fd);
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "sockd-upgrade %d", &version) != 1 ||
	    version < UPSTATE_OLDEST || version > UPSTATE_VERSION)
		goto out;
	u->version = version;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strcmp(line, "end\n") == 0) {
			rc = 0;
			break;
		}
		if (read_line(line, u) == -1)
			break;
	}
out:
	fclose(f);
	if (rc == -1) {
		upstate_free(u);
		errno = EINVAL;
	}
	return rc;
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
	memset(u, 0, sizeof(*u));
}
