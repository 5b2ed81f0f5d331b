/*
 * The hand-over of an upgrade in place, as the new image reads it: every
 * record back, and nothing from another version or a cut-short text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "testutil.h"
#include "upstate.h"

static int
memfd_with(const char *text)
{
	int fd = memfd_create("upstate-test", MFD_CLOEXEC);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

/* The counters of a service record: NSTATS numbers, 1, 2, 3... */
static const char *
service_line(const char *name)
{
	static char line[1024];
	size_t n = sizeof(struct service_stats) / sizeof(unsigned long long);
	int at = snprintf(line, sizeof(line), "service %s 123456 4000 7 %zu", name, n);

	for (size_t i = 0; i < n; i++)
		at += snprintf(line + at, sizeof(line) - at, " %zu", i + 1);
	snprintf(line + at, sizeof(line) - at, "\n");
	return line;
}

START_TEST(reads_every_record)
{
	char text[4096];
	struct upstate u;
	int fd;

	snprintf(text, sizeof(text), "sockd-upgrade %d\n"
	    "daemon 1700000000 1700000100 3 1\n"
	    "listener 0 127.0.0.1 7001 7\n"
	    "listener 1 ::1 7002 8\n"
	    "%s"
	    "child 4242 svc 99000 192.0.2.0 0 0\n"
	    "child 4243 svc 99001 - 150000 1\n"
	    "errlog svc 9\n"
	    "fail svc 97000\n"
	    "rate svc - 500 97500\n"
	    "rate svc 192.0.2.0 -250 97600\n"
	    "peer svc fe80::1 40000 3 :: fe80::2 3 98000 10\n"
	    "peer svc 192.0.2.9 40001 0 127.0.0.1 - 0 98500 11\n"
	    "end\n", UPSTATE_VERSION, service_line("svc"));
	fd = memfd_with(text);
	ck_assert_int_eq(upstate_read(fd, &u), 0);
	ck_assert_int_eq(u.started, 1700000000);
	ck_assert_int_eq(u.last_reload, 1700000100);
	ck_assert_uint_eq(u.reloads_ok, 3);
	ck_assert_uint_eq(u.reloads_failed, 1);
	ck_assert_uint_eq(u.nls, 2);
	ck_assert_int_eq(u.ls[1].proto, PROTO_UDP);
	ck_assert_int_eq(u.ls[1].addr.family, AF_INET6);
	ck_assert_uint_eq(u.ls[1].port, 7002);
	ck_assert_int_eq(u.ls[1].fd, 8);
	ck_assert_uint_eq(u.nsvcs, 1);
	ck_assert_str_eq(u.svcs[0].name, "svc");
	ck_assert_uint_eq(u.svcs[0].paused_until, 123456);
	ck_assert_uint_eq(u.svcs[0].backoff_ms, 4000);
	ck_assert_int_eq(u.svcs[0].busy, 7);
	ck_assert_uint_eq(u.svcs[0].st.accepted, 1);
	ck_assert_uint_eq(u.svcs[0].st.refused[0], 2);
	ck_assert_uint_eq(u.svcs[0].st.duration_ms,
	    sizeof(struct service_stats) / sizeof(unsigned long long));
	ck_assert_uint_eq(u.nchildren, 2);
	ck_assert_int_eq(u.children[0].pid, 4242);
	ck_assert(u.children[0].has_source);
	ck_assert_uint_eq(u.children[0].started_ms, 99000);
	ck_assert(!u.children[1].has_source);
	ck_assert_uint_eq(u.children[1].lifetime_when, 150000);
	ck_assert(u.children[1].term_sent);
	ck_assert_uint_eq(u.nerrlogs, 1);
	ck_assert_int_eq(u.errlogs[0].fd, 9);
	ck_assert_uint_eq(u.nfails, 1);
	ck_assert_uint_eq(u.fails[0].when, 97000);
	ck_assert_uint_eq(u.nbuckets, 2);
	ck_assert(!u.buckets[0].source);
	ck_assert_int_eq(u.buckets[0].milli, 500);
	ck_assert_int_eq(u.buckets[0].last, 97500);
	ck_assert(u.buckets[1].source);
	ck_assert_int_eq(u.buckets[1].key.family, AF_INET);
	ck_assert_int_eq(u.buckets[1].milli, -250);
	ck_assert_uint_eq(u.npeers, 2);
	ck_assert_str_eq(u.peers[0].service, "svc");
	ck_assert_int_eq(u.peers[0].st.addr.family, AF_INET6);
	ck_assert_uint_eq(u.peers[0].st.port, 40000);
	ck_assert_uint_eq(u.peers[0].st.scope, 3);
	ck_assert(addr_is_any(&u.peers[0].st.listener));
	ck_assert(u.peers[0].st.has_local);
	ck_assert_uint_eq(u.peers[0].st.ifindex, 3);
	ck_assert_uint_eq(u.peers[0].st.last_ms, 98000);
	ck_assert_int_eq(u.peers[0].st.fd, 10);
	ck_assert(!u.peers[1].st.has_local);
	ck_assert_int_eq(u.peers[1].st.listener.family, AF_INET);
	ck_assert_int_eq(u.peers[1].st.fd, 11);
	upstate_free(&u);
	close(fd);
}
END_TEST

/*
 * What the release before wrote (format 2: no peer, fail or rate records)
 * is read, so that release can upgrade to this one in place.
 */
START_TEST(reads_the_oldest_format)
{
	char text[4096];
	struct upstate u;
	int fd;

	ck_assert_int_eq(UPSTATE_OLDEST, 2);
	snprintf(text, sizeof(text), "sockd-upgrade 2\n"
	    "daemon 1700000000 0 0 0\n"
	    "listener 0 127.0.0.1 7001 7\n"
	    "ulistener 8 1 2049 1234 /run/sockd/u.sock\n"
	    "%s"
	    "child 4242 svc 99000 - 0 0\n"
	    "errlog svc 9\n"
	    "end\n", service_line("svc"));
	fd = memfd_with(text);
	ck_assert_int_eq(upstate_read(fd, &u), 0);
	ck_assert_uint_eq(u.nls, 2);
	ck_assert_str_eq(u.ls[1].path, "/run/sockd/u.sock");
	ck_assert_uint_eq(u.nsvcs, 1);
	ck_assert_uint_eq(u.nchildren, 1);
	ck_assert_uint_eq(u.nerrlogs, 1);
	ck_assert_uint_eq(u.npeers + u.nfails + u.nbuckets, 0);
	upstate_free(&u);
	close(fd);
}
END_TEST

/* Another version, a cut-short text, or counters of another count: refused. */
START_TEST(refuses_what_it_cannot_read)
{
	char text[4096];
	struct upstate u;
	int fd;

	snprintf(text, sizeof(text), "sockd-upgrade %d\nend\n", UPSTATE_VERSION + 1);
	fd = memfd_with(text);
	ck_assert_int_eq(upstate_read(fd, &u), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(fd);
	snprintf(text, sizeof(text), "sockd-upgrade %d\nend\n", UPSTATE_OLDEST - 1);
	fd = memfd_with(text);
	ck_assert_int_eq(upstate_read(fd, &u), -1);
	close(fd);
	snprintf(text, sizeof(text), "sockd-upgrade %d\ndaemon 1 0 0 0\n%s",
	    UPSTATE_VERSION, service_line("svc"));
	fd = memfd_with(text);
	ck_assert_int_eq(upstate_read(fd, &u), -1);	/* no "end" */
	close(fd);
	snprintf(text, sizeof(text), "sockd-upgrade %d\n"
	    "service svc 0 1000 -1 3 1 2 3\nend\n", UPSTATE_VERSION);
	fd = memfd_with(text);
	ck_assert_int_eq(upstate_read(fd, &u), -1);
	ck_assert_uint_eq(u.nsvcs, 0);
	close(fd);
	snprintf(text, sizeof(text), "sockd-upgrade %d\n"
	    "peer svc 192.0.2.9 70000 0 127.0.0.1 - 0 98500 11\nend\n", UPSTATE_VERSION);
	fd = memfd_with(text);
	ck_assert_int_eq(upstate_read(fd, &u), -1);	/* no such port */
	close(fd);
}
END_TEST

Suite *
upstate_suite(void)
{
	Suite *s = suite_create("upstate");
	TCase *tc = tcase_create("upstate");

	tcase_add_test(tc, reads_every_record);
	tcase_add_test(tc, reads_the_oldest_format);
	tcase_add_test(tc, refuses_what_it_cannot_read);
	suite_add_tcase(s, tc);
	return s;
}
