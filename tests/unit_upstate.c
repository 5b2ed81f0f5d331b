/*
 * The hand-over of an upgrade in place, as the new image reads it: a
 * daemon-shaped state written and read back equal; what the release
 * before (formats 2 and 3) writes; and damage: each line cut short or
 * corrupted in turn is dropped, reported, and the rest read.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "peercred.h"
#include "testutil.h"
#include "upstate.h"

#define NSTATS (sizeof(struct service_stats) / sizeof(unsigned long long))

static int
memfd_with(const char *text, size_t len)
{
	int fd = memfd_create("upstate-test", MFD_CLOEXEC);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	return fd;
}

static struct upstate
read_text(const char *text, size_t len)
{
	struct upstate u;
	int fd = memfd_with(text, len);

	ck_assert_int_eq(upstate_read(fd, &u), 0);
	close(fd);
	return u;
}

/* u as this release prints it, malloc'd. */
static char *
printed(const struct upstate *u, size_t *len)
{
	int fd = memfd_create("upstate-test", MFD_CLOEXEC);
	char *text;
	off_t end;

	ck_assert_int_eq(upstate_print(fd, u), 0);
	ck_assert_int_gt(end = lseek(fd, 0, SEEK_END), 0);
	ck_assert_ptr_nonnull(text = calloc(1, end + 1));
	ck_assert_int_eq(pread(fd, text, end, 0), end);
	close(fd);
	*len = end;
	return text;
}

static struct addr
A(const char *s)
{
	struct addr a;

	ck_assert_int_eq(addr_parse(s, &a), 0);
	return a;
}

#define ADD(u, arr, n) ((__typeof__((u)->arr))upstate_add((void **)&(u)->arr, \
	&(u)->n, sizeof(*(u)->arr)))

static void
add_listeners(struct upstate *u, const char *name)
{
	*ADD(u, ls, nls) = (struct upstate_listener){ .proto = PROTO_TCP,
	    .addr = A("127.0.0.1"), .port = 7001, .fd = 7 };
	*ADD(u, ls, nls) = (struct upstate_listener){ .proto = PROTO_UDP,
	    .addr = A("2001:db8::ffff:1"), .port = 65535, .fd = 8 };
	/* The longest path there is room for, with a space, a newline, a
	 * backslash and an "=" in it. */
	struct upstate_listener *l = ADD(u, ls, nls);
	*l = (struct upstate_listener){ .proto = PROTO_UNIX, .fd = 9,
	    .file = { .made = true, .dev = 2049, .ino = ULLONG_MAX } };
	memset(l->path, 'p', sizeof(l->path) - 1);
	memcpy(l->path, "/run/a b\nc\\d=e\t/", 17);
	l = ADD(u, ls, nls);
	*l = (struct upstate_listener){ .proto = PROTO_UNIX, .fd = 10 };
	strcpy(l->path, "@abstract");
	/* One systemd passed, under the longest name LISTEN_FDNAMES has. */
	l = ADD(u, ls, nls);
	*l = (struct upstate_listener){ .proto = PROTO_TCP, .addr = A("::1"),
	    .port = 7003, .fd = 20, .kept = true };
	memset(l->name, 'n', sizeof(l->name) - 1);
	memcpy(l->name, "web a=b\\", 8);
	struct upstate_service *s = ADD(u, svcs, nsvcs);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->paused_until = 123456;
	s->backoff_ms = 4000;
	s->busy = 8;
	for (size_t i = 0; i < NSTATS; i++)
		((unsigned long long *)&s->st)[i] = i * 1000 + 7;
	s->st.duration_ms = ULLONG_MAX;
	s = ADD(u, svcs, nsvcs);
	strcpy(s->name, "u");
	s->busy = -1;
}

static void
add_children(struct upstate *u, const char *name)
{
	const char *src[] = { "192.0.2.7", "2001:db8:1::", NULL, NULL };

	for (int i = 0; i < 4; i++) {
		struct upstate_child *c = ADD(u, children, nchildren);
		*c = (struct upstate_child){ .pid = 4242 + i, .started_ms = 99000 + i,
		    .has_source = i != 3, .lifetime_when = i == 1 ? 150000 : 0,
		    .term_sent = i == 1 };
		snprintf(c->service, sizeof(c->service), "%s", i == 2 ? "u" : name);
		if (src[i])
			c->source = A(src[i]);
		else if (i == 2)
			c->source = peercred_key(4294967294u);
	}
	for (int i = 0; i < 4; i++) {
		struct upstate_bucket *b = ADD(u, buckets, nbuckets);
		*b = (struct upstate_bucket){ .source = i > 0, .milli = i == 1 ?
		    LLONG_MIN : -250 + i, .last = LLONG_MAX - i };
		snprintf(b->service, sizeof(b->service), "%s", i == 3 ? "u" : name);
		b->key = i == 1 ? A("192.0.2.0") : i == 2 ? A("2001:db8::") :
		    peercred_key(1000);
	}
}

static void
add_rest(struct upstate *u, const char *name)
{
	struct upstate_fail *fl = ADD(u, fails, nfails);
	struct upstate_errlog *e = ADD(u, errlogs, nerrlogs);
	struct upstate_peer *p = ADD(u, peers, npeers);

	snprintf(fl->service, sizeof(fl->service), "%s", name);
	fl->when = 97000;
	snprintf(e->service, sizeof(e->service), "%s", name);
	e->fd = 11;
	snprintf(p->service, sizeof(p->service), "%s", name);
	p->st = (struct udppeer_state){ .addr = A("fe80::1"), .port = 40000,
	    .scope = 3, .listener = A("::"), .has_local = true,
	    .local = A("fe80::2"), .ifindex = 3, .last_ms = 98000, .fd = 12 };
	p = ADD(u, peers, npeers);
	strcpy(p->service, "u");
	p->st = (struct udppeer_state){ .addr = A("192.0.2.9"), .port = 1,
	    .listener = A("127.0.0.1"), .last_ms = 98500, .fd = 13 };
}

/* Every kind of record, the longest name and path, every kind of key. */
static struct upstate
daemon_shaped(void)
{
	struct upstate u = { .version = UPSTATE_VERSION, .started = 1700000000,
	    .last_reload = 1700000100, .reloads_ok = 3, .reloads_failed = 1 };
	char name[CONFIG_NAME_MAX + 1];

	memset(name, 'n', CONFIG_NAME_MAX);
	name[CONFIG_NAME_MAX] = '\0';
	add_listeners(&u, name);
	add_children(&u, name);
	add_rest(&u, name);
	return u;
}

static void
same_listener(const struct upstate_listener *a, const struct upstate_listener *b)
{
	ck_assert_int_eq(a->proto, b->proto);
	ck_assert_int_eq(a->fd, b->fd);
	ck_assert_str_eq(a->path, b->path);
	ck_assert_int_eq(a->file.made, b->file.made);
	ck_assert_uint_eq(a->file.dev, b->file.dev);
	ck_assert_uint_eq(a->file.ino, b->file.ino);
	ck_assert_int_eq(a->kept, b->kept);
	ck_assert_str_eq(a->name, b->name);
	if (a->proto != PROTO_UNIX) {
		ck_assert(addr_equal(&a->addr, &b->addr));
		ck_assert_uint_eq(a->port, b->port);
	}
}

static void
same_keys(const struct upstate *a, const struct upstate *b)
{
	for (size_t i = 0; i < a->nchildren; i++) {
		ck_assert_int_eq(a->children[i].has_source, b->children[i].has_source);
		if (a->children[i].has_source)
			ck_assert(addr_equal(&a->children[i].source,
			    &b->children[i].source));
	}
	for (size_t i = 0; i < a->nbuckets; i++) {
		ck_assert_int_eq(a->buckets[i].source, b->buckets[i].source);
		ck_assert_int_eq(a->buckets[i].milli, b->buckets[i].milli);
		ck_assert_int_eq(a->buckets[i].last, b->buckets[i].last);
		if (a->buckets[i].source)
			ck_assert(addr_equal(&a->buckets[i].key, &b->buckets[i].key));
	}
}

/*
 * Written, read back and compared: the fields whose text is hardest
 * (path, keys, counters, scope) one by one, and the whole by printing what
 * was read again, which gives the same text only if every field came back.
 */
START_TEST(round_trip)
{
	struct upstate u = daemon_shaped(), r;
	size_t len, len2;
	char *text = printed(&u, &len), *again;

	r = read_text(text, len);
	ck_assert_uint_eq(r.ndrops, 0);
	ck_assert_int_eq(r.version, UPSTATE_VERSION);
	ck_assert_uint_eq(r.nls, u.nls);
	for (size_t i = 0; i < u.nls; i++)
		same_listener(&u.ls[i], &r.ls[i]);
	ck_assert_uint_eq(r.nsvcs, 2);
	ck_assert_str_eq(r.svcs[0].name, u.svcs[0].name);
	ck_assert_mem_eq(&r.svcs[0].st, &u.svcs[0].st, sizeof(u.svcs[0].st));
	ck_assert_int_eq(r.svcs[0].busy, 8);
	ck_assert_int_eq(r.svcs[1].busy, -1);
	ck_assert_uint_eq(r.nchildren, 4);
	ck_assert_uint_eq(r.nbuckets, 4);
	same_keys(&u, &r);
	ck_assert_int_eq(r.children[2].source.family, AF_UNIX);
	ck_assert_uint_eq(r.children[2].source.u.v4.s_addr, 4294967294u);
	ck_assert_uint_eq(r.npeers, 2);
	ck_assert_uint_eq(r.peers[0].st.scope, 3);
	ck_assert(addr_equal(&r.peers[0].st.local, &u.peers[0].st.local));
	ck_assert(!r.peers[1].st.has_local);
	ck_assert(strchr(text, '\t') == NULL);	/* no control byte but '\n' */
	again = printed(&r, &len2);
	ck_assert_str_eq(again, text);
	free(again);
	free(text);
	upstate_free(&r);
	upstate_free(&u);
}
END_TEST

/* The counters of a format 3 service record: 27 numbers, 1, 2, 3... */
static const char *
service_line(const char *name)
{
	static char line[1024];
	int at = snprintf(line, sizeof(line), "service %s 123456 4000 7 27", name);

	for (size_t i = 0; i < 27; i++)
		at += snprintf(line + at, sizeof(line) - at, " %zu", i + 1);
	snprintf(line + at, sizeof(line) - at, "\n");
	return line;
}

/*
 * What dba492c writes (format 3), "uid N" keys of UNIX peers included,
 * which that release itself could not read back.
 */
/* What the control socket adds, as fields: an operator's pause, a
 * handler's client, the clients waiting for the upgrade; and the pool's
 * ids a connection runs as (its jailed handler's, its TLS relay's). */
START_TEST(round_trip_control_fields)
{
	struct upstate u = daemon_shaped(), r;
	size_t len;
	char *text;

	u.svcs[1].held = true;
	u.children[0].peer = A("192.0.2.7");
	u.children[0].peer_port = 40123;
	u.children[1].peer = peercred_key(1000);
	u.children[1].own_id = 2113929300;
	u.children[1].relay_id = 2113929301;
	u.children[2].relay_id = 2113929302;
	u.waiters[0] = 41;
	u.waiters[1] = 42;
	u.nwaiters = 2;
	text = printed(&u, &len);
	r = read_text(text, len);
	ck_assert_uint_eq(r.ndrops, 0);
	ck_assert(!r.svcs[0].held);
	ck_assert(r.svcs[1].held);
	ck_assert(addr_equal(&r.children[0].peer, &u.children[0].peer));
	ck_assert_uint_eq(r.children[0].peer_port, 40123);
	ck_assert_int_eq(r.children[1].peer.family, AF_UNIX);
	ck_assert_uint_eq(r.children[1].peer.u.v4.s_addr, 1000);
	ck_assert_int_eq(r.children[2].peer.family, AF_UNSPEC);
	ck_assert_uint_eq(r.children[0].own_id, 0);
	ck_assert_uint_eq(r.children[0].relay_id, 0);
	ck_assert_uint_eq(r.children[1].own_id, 2113929300);
	ck_assert_uint_eq(r.children[1].relay_id, 2113929301);
	ck_assert_uint_eq(r.children[2].own_id, 0);
	ck_assert_uint_eq(r.children[2].relay_id, 2113929302);
	ck_assert_uint_eq(r.nwaiters, 2);
	ck_assert_int_eq(r.waiters[0], 41);
	ck_assert_int_eq(r.waiters[1], 42);
	free(text);
	upstate_free(&r);
	upstate_free(&u);
}
END_TEST

START_TEST(reads_format_3)
{
	char text[4096];
	struct upstate u;

	snprintf(text, sizeof(text), "sockd-upgrade 3\n"
	    "daemon 1700000000 1700000100 3 1\n"
	    "listener 0 127.0.0.1 7001 7\n"
	    "listener 1 ::1 7002 8\n"
	    "ulistener 9 1 2049 1234 /run/sockd/a b.sock\n"
	    "%s"
	    "fail svc 97000\n"
	    "rate svc - 500 97500\n"
	    "rate svc 192.0.2.0 -250 97600\n"
	    "rate svc uid 1000 -100 97700\n"
	    "child 4242 svc 99000 192.0.2.0 0 0\n"
	    "child 4243 svc 99001 - 150000 1\n"
	    "child 4244 svc 99002 uid 1000 0 0\n"
	    "errlog svc 10\n"
	    "peer svc fe80::1 40000 3 :: fe80::2 3 98000 11\n"
	    "peer svc 192.0.2.9 40001 0 127.0.0.1 - 0 98500 12\n"
	    "end\n", service_line("svc"));
	u = read_text(text, strlen(text));
	ck_assert_msg(u.ndrops == 0, "%s", u.ndrops ? u.drops[0].why : "");
	ck_assert_int_eq(u.version, 3);
	ck_assert_int_eq(u.started, 1700000000);
	ck_assert_uint_eq(u.reloads_ok, 3);
	ck_assert_uint_eq(u.nls, 3);
	ck_assert_int_eq(u.ls[1].proto, PROTO_UDP);
	ck_assert_int_eq(u.ls[1].addr.family, AF_INET6);
	ck_assert_int_eq(u.ls[2].proto, PROTO_UNIX);
	ck_assert_str_eq(u.ls[2].path, "/run/sockd/a b.sock");
	ck_assert_int_eq(u.ls[2].fd, 9);
	ck_assert_uint_eq(u.nsvcs, 1);
	ck_assert_int_eq(u.svcs[0].busy, 7);
	ck_assert_uint_eq(u.svcs[0].st.accepted, 1);
	ck_assert_uint_eq(u.svcs[0].st.refused[0], 2);
	ck_assert_uint_eq(u.svcs[0].st.duration_ms, 27);
	ck_assert_uint_eq(u.nbuckets, 3);
	ck_assert(!u.buckets[0].source);
	ck_assert_int_eq(u.buckets[2].key.family, AF_UNIX);
	ck_assert_uint_eq(u.buckets[2].key.u.v4.s_addr, 1000);
	ck_assert_uint_eq(u.nchildren, 3);
	ck_assert(!u.children[1].has_source);
	ck_assert_uint_eq(u.children[1].lifetime_when, 150000);
	ck_assert(u.children[2].has_source);
	ck_assert_int_eq(u.children[2].source.family, AF_UNIX);
	ck_assert_uint_eq(u.children[2].source.u.v4.s_addr, 1000);
	ck_assert_uint_eq(u.npeers, 2);
	ck_assert_uint_eq(u.peers[0].st.scope, 3);
	ck_assert(u.peers[0].st.has_local);
	ck_assert(!u.peers[1].st.has_local);
	ck_assert_int_eq(u.peers[1].st.fd, 12);
	upstate_free(&u);
}
END_TEST

/* Format 2: no peer, fail or rate records. */
START_TEST(reads_format_2)
{
	char text[4096];
	struct upstate u;

	ck_assert_int_eq(UPSTATE_OLDEST, 2);
	snprintf(text, sizeof(text), "sockd-upgrade 2\n"
	    "daemon 1700000000 0 0 0\n"
	    "listener 0 127.0.0.1 7001 7\n"
	    "ulistener 8 1 2049 1234 /run/sockd/u.sock\n"
	    "%s"
	    "child 4242 svc 99000 - 0 0\n"
	    "errlog svc 9\n"
	    "end\n", service_line("svc"));
	u = read_text(text, strlen(text));
	ck_assert_uint_eq(u.ndrops, 0);
	ck_assert_uint_eq(u.nls, 2);
	ck_assert_str_eq(u.ls[1].path, "/run/sockd/u.sock");
	ck_assert_uint_eq(u.nsvcs, 1);
	ck_assert_uint_eq(u.nchildren, 1);
	ck_assert_uint_eq(u.nerrlogs, 1);
	upstate_free(&u);
}
END_TEST

/* Another version, or not this format: refused whole. */
START_TEST(refuses_other_versions)
{
	char text[256];
	struct upstate u;
	int versions[] = { UPSTATE_OLDEST - 1, UPSTATE_VERSION + 1 };

	for (int i = 0; i < 2; i++) {
		snprintf(text, sizeof(text), "sockd-upgrade %d\nend\n", versions[i]);
		int fd = memfd_with(text, strlen(text));
		ck_assert_int_eq(upstate_read(fd, &u), -1);
		ck_assert_int_eq(errno, EINVAL);
		close(fd);
	}
	int fd = memfd_with("GET / HTTP/1.0\n", 15);
	ck_assert_int_eq(upstate_read(fd, &u), -1);
	close(fd);
}
END_TEST

/* Records read, the daemon's counted when it was. */
static size_t
records(const struct upstate *u)
{
	return (u->started != 0) + u->nls + u->nsvcs + u->nchildren + u->nerrlogs +
	    u->npeers + u->nfails + u->nbuckets;
}

/* Text with line i (from 0) replaced by its first cut bytes and extra. */
static char *
with_line(const char *text, int i, size_t cut, const char *extra, size_t *len)
{
	const char *l = text;
	char *out = malloc(strlen(text) + strlen(extra) + 1);
	size_t n;

	for (int k = 0; k < i; k++)
		l = strchr(l, '\n') + 1;
	n = strcspn(l, "\n");
	ck_assert_ptr_nonnull(out);
	*len = (size_t)sprintf(out, "%.*s%.*s%s%s", (int)(l - text), text,
	    (int)(cut < n ? cut : n), l, extra, l + n);
	return out;
}

/* A damaged line is dropped (reported with its number) or still read: it
 * never takes another record with it, nor ends the reading. */
static void
read_damaged(const char *text, size_t len, size_t whole, int line, bool must_drop)
{
	struct upstate u = read_text(text, len);
	bool reported = false;

	for (size_t i = 0; i < u.ndrops; i++)
		reported |= u.drops[i].line == (unsigned)line + 1 ||
		    strcmp(u.drops[i].kind, "end") == 0;
	ck_assert_msg(records(&u) + u.ndrops >= whole, "line %d: %zu records, "
	    "%zu dropped, of %zu", line + 1, records(&u), u.ndrops, whole);
	if (must_drop)
		ck_assert_msg(reported, "line %d not reported", line + 1);
	upstate_free(&u);
}

/*
 * Each line of a valid state, in turn: cut after its kind (no record can
 * do without its fields), cut in its middle, given a NUL, a bad escape, or
 * bytes flipped at random; the end line lost. Never a crash, never -1.
 */
START_TEST(reads_damage)
{
	struct upstate u = daemon_shaped();
	size_t len, n, whole = records(&u);
	char *text = printed(&u, &len), *bad;
	const char *l = text;

	srand(21);
	for (int i = 1; (l = strchr(l, '\n')) != NULL && l[1]; i++) {
		size_t at, ll = strcspn(++l, "\n"), kind = strcspn(l, " \n");
		if (strncmp(l, "end\n", 4) != 0) {
			bad = with_line(text, i, kind, "", &n);
			read_damaged(bad, n, whole, i, true);
			free(bad);
		}
		bad = with_line(text, i, ll / 2, "", &n);
		read_damaged(bad, n, whole, i, strncmp(l, "end\n", 4) == 0);
		free(bad);
		bad = with_line(text, i, ll / 2, " x=\\q", &n);
		read_damaged(bad, n, whole, i, true);
		free(bad);
		bad = with_line(text, i, ll, "", &n);
		bad[l - text + ll / 2] = '\0';
		read_damaged(bad, n, whole, i, true);
		free(bad);
		for (int round = 0; round < 20; round++) {
			bad = with_line(text, i, ll, "", &n);
			at = (size_t)(l - text) + (size_t)rand() % ll;
			bad[at] = (char)(rand() % 255 + 1);
			if (bad[at] == '\n')
				bad[at] = ' ';
			read_damaged(bad, n, whole, i, false);
			free(bad);
		}
	}
	free(text);
	upstate_free(&u);
}
END_TEST

/* Two records naming one descriptor: the second is dropped, since two
 * owners would close it twice. */
START_TEST(drops_a_descriptor_named_twice)
{
	char text[512];
	struct upstate u;

	snprintf(text, sizeof(text), "sockd-upgrade %d\n"
	    "listener proto=tcp addr=127.0.0.1 port=7001 fd=7\n"
	    "errlog service=svc fd=7\n"
	    "errlog service=svc fd=2\n"
	    "listener proto=udp addr=127.0.0.1 port=7001 fd=8 future=1\n"
	    "end\n", UPSTATE_VERSION);
	u = read_text(text, strlen(text));
	ck_assert_uint_eq(u.nls, 2);
	ck_assert_uint_eq(u.nerrlogs, 0);
	ck_assert_uint_eq(u.ndrops, 2);
	ck_assert_uint_eq(u.drops[0].line, 3);
	ck_assert_str_eq(u.drops[0].kind, "errlog");
	ck_assert_uint_eq(u.drops[1].line, 4);
	upstate_free(&u);
}
END_TEST

/* Many records, each with a descriptor of its own, all kept (the check
 * for a descriptor named twice is a bitmap, not a walk of the records);
 * one more naming the first's is still dropped, and so is a descriptor
 * above this process's limit. */
START_TEST(reads_many_descriptors)
{
	struct rlimit rl;
	size_t n, cap, len = 0;
	struct upstate u;
	char *text;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	n = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 4003 ? 4000 :
	    (size_t)rl.rlim_cur - 3;
	cap = 64 * (n + 4);
	ck_assert_ptr_nonnull(text = malloc(cap));
	len += (size_t)snprintf(text + len, cap - len, "sockd-upgrade %d\n",
	    UPSTATE_VERSION);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "errlog service=s%zu fd=%zu\n", i, i + 3);
	len += (size_t)snprintf(text + len, cap - len,
	    "errlog service=again fd=3\n"
	    "errlog service=high fd=%llu\nend\n",
	    rl.rlim_cur == RLIM_INFINITY ? (unsigned long long)INT_MAX + 1 :
	    (unsigned long long)rl.rlim_cur);
	u = read_text(text, len);
	ck_assert_uint_eq(u.nerrlogs, n);
	ck_assert_int_eq(u.errlogs[n - 1].fd, (int)n + 2);
	ck_assert_uint_eq(u.ndrops, 2);
	ck_assert_uint_eq(u.drops[0].line, n + 2);
	ck_assert_uint_eq(u.drops[1].line, n + 3);
	upstate_free(&u);
	free(text);
}
END_TEST

Suite *
upstate_suite(void)
{
	Suite *s = suite_create("upstate");
	TCase *tc = tcase_create("upstate");

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, round_trip_control_fields);
	tcase_add_test(tc, reads_format_3);
	tcase_add_test(tc, reads_format_2);
	tcase_add_test(tc, refuses_other_versions);
	tcase_add_test(tc, reads_damage);
	tcase_add_test(tc, drops_a_descriptor_named_twice);
	tcase_add_test(tc, reads_many_descriptors);
	suite_add_tcase(s, tc);
	return s;
}
