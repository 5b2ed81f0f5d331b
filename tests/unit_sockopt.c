/*
 * Socket options on real sockets: what sockopt_bind() and sockopt_live()
 * set reads back from the kernel, a reload's "off" turns an option off,
 * a failure names its option, and which changes need a socket bound anew.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockopt.h"
#include "testutil.h"

static int
get(int fd, int level, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	ck_assert_int_eq(getsockopt(fd, level, opt, &v, &len), 0);
	return v;
}

START_TEST(live_options_read_back)
{
	struct sockopts so = { .keepidle = 30, .keepintvl = 5, .keepcnt = 4,
	    .keepalive = true, .nodelay = true, .defer_accept = 2 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const char *failed = "unset";

	ck_assert_int_eq(sockopt_live(fd, &so, true, &failed), 0);
	ck_assert_int_eq(get(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
	ck_assert_int_eq(get(fd, IPPROTO_TCP, TCP_NODELAY), 1);
	ck_assert_int_eq(get(fd, IPPROTO_TCP, TCP_KEEPIDLE), 30);
	ck_assert_int_eq(get(fd, IPPROTO_TCP, TCP_KEEPINTVL), 5);
	ck_assert_int_eq(get(fd, IPPROTO_TCP, TCP_KEEPCNT), 4);
	ck_assert_int_gt(get(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);
	/* A reload that drops them turns them off on the same socket. */
	so = (struct sockopts){ 0 };
	ck_assert_int_eq(sockopt_live(fd, &so, true, &failed), 0);
	ck_assert_int_eq(get(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	ck_assert_int_eq(get(fd, IPPROTO_TCP, TCP_NODELAY), 0);
	ck_assert_int_eq(get(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);
	close(fd);
}
END_TEST

START_TEST(bind_options_read_back)
{
	struct sockopts so = { .reuseport = true, .freebind = true,
	    .rcvbuf = 65536 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const char *failed = NULL;

	ck_assert_int_eq(sockopt_bind(fd, &so, &failed), 0);
	ck_assert_int_eq(get(fd, SOL_SOCKET, SO_REUSEPORT), 1);
	ck_assert_int_eq(get(fd, IPPROTO_IP, IP_FREEBIND), 1);
	/* The kernel doubles what is asked, for its bookkeeping. */
	ck_assert_int_ge(get(fd, SOL_SOCKET, SO_RCVBUF), 65536);
	close(fd);
}
END_TEST

/* A failure says which option: TCP options on a UDP socket fail. */
START_TEST(failure_names_the_option)
{
	struct sockopts so = { .interface = "no-such-if0" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	const char *failed = NULL;

	ck_assert_int_eq(sockopt_bind(fd, &so, &failed), -1);
	ck_assert_ptr_nonnull(failed);
	ck_assert_str_eq(failed, "interface");
	close(fd);
}
END_TEST

START_TEST(what_needs_a_rebind)
{
	struct sockopts a = { 0 }, b = { 0 };
	const char *which = NULL;

	b.keepalive = b.nodelay = true;
	b.keepidle = 9;
	ck_assert(!sockopt_needs_rebind(&a, &b, &which));
	b.reuseport = true;
	ck_assert(sockopt_needs_rebind(&a, &b, &which));
	ck_assert_str_eq(which, "reuseport");
	b = a;
	a.rcvbuf = 4096;
	ck_assert(sockopt_needs_rebind(&a, &b, &which));
	ck_assert_str_eq(which, "rcvbuf");
}
END_TEST

Suite *
sockopt_unit_suite(void)
{
	Suite *s = suite_create("sockopt");

	tu_tcase(s, "sockopt", NULL, NULL, 0, live_options_read_back,
	    bind_options_read_back, failure_names_the_option, what_needs_a_rebind,
	    NULL);
	return s;
}
