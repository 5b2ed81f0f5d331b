/* The master's fast paths: TCP built-ins answered without a child, and
 * UDP built-ins answered in batches. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "integ_util.h"

#define EPOCH_OFFSET 2208988800UL
#define INFLIGHT 40

static uint16_t p_day, p_time, p_udp;

/* Starts sockd with the daytime and time (TCP) and echo (UDP) built-ins. */
static struct daemon *
start(void)
{
	const char *conf;

	p_day = tu_free_port();
	do
		p_time = tu_free_port();
	while (p_time == p_day);
	do
		p_udp = tu_free_port();
	while (p_udp == p_day || p_udp == p_time);
	conf = tu_write("sockd.conf",
	    "services = (\n"
	    " { name = \"daytime\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "   builtin = \"daytime\"; backlog = 16; },\n"
	    " { name = \"time\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "   builtin = \"time\"; },\n"
	    " { name = \"echo\"; protocol = \"udp\"; port = %u; address = \"127.0.0.1\";\n"
	    "   builtin = \"echo\"; }\n"
	    ");\n", p_day, p_time, p_udp);
	return it_start(conf);
}

/* Reads a whole reply up to EOF. */
static ssize_t
read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	buf[got] = '\0';
	return got;
}

START_TEST(daytime_in_master)
{
	struct daemon *d = start();
	char buf[128];

	for (int i = 0; i < 20; i++) {
		int fd = tu_connect(p_day);
		ssize_t n = read_all(fd, buf, sizeof(buf));
		close(fd);
		ck_assert_int_ge(n, 24);
		ck_assert_msg(buf[n - 2] == '\r' && buf[n - 1] == '\n', "got \"%s\"", buf);
	}
	/* Answered by the master itself: it never had a child. */
	ck_assert_int_eq(tu_count_children(d->pid), 0);
	ck_assert_ptr_null(strstr(d->log, "pid "));
	it_stop(d);
}
END_TEST

START_TEST(time_in_master)
{
	struct daemon *d = start();
	unsigned char buf[16];
	int fd = tu_connect(p_time);
	ssize_t n = read_all(fd, (char *)buf, sizeof(buf));
	unsigned long t, now = (unsigned long)time(NULL) + EPOCH_OFFSET;

	close(fd);
	ck_assert_int_eq(n, 4);
	t = (unsigned long)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3];
	ck_assert_msg(t + 5 >= (now & 0xffffffffUL) && t <= (now & 0xffffffffUL) + 5,
	    "time %lu, expected about %lu", t, now & 0xffffffffUL);
	ck_assert_int_eq(tu_count_children(d->pid), 0);
	it_stop(d);
}
END_TEST

/* Many datagrams queued at once all come back, each to its sender. */
START_TEST(udp_echo_batch)
{
	struct daemon *d = start();
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(p_udp) };
	bool seen[INFLIGHT] = { false };
	int fds[2], answered = 0;
	char msg[64], buf[128];

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int s = 0; s < 2; s++) {
		fds[s] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ck_assert_int_eq(connect(fds[s], (struct sockaddr *)&sin, sizeof(sin)), 0);
	}
	for (int i = 0; i < INFLIGHT; i++) {
		int len = snprintf(msg, sizeof(msg), "datagram %d", i);
		ck_assert_int_eq(send(fds[i % 2], msg, len, 0), len);
	}
	while (answered < INFLIGHT) {
		struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
		ck_assert_msg(poll(p, 2, 5000) > 0, "%d of %d answered", answered,
		    INFLIGHT);
		for (int s = 0; s < 2; s++) {
			int i;
			ssize_t n;
			if (!(p[s].revents & POLLIN))
				continue;
			n = recv(fds[s], buf, sizeof(buf) - 1, 0);
			ck_assert_int_gt(n, 0);
			buf[n] = '\0';
			ck_assert_int_eq(sscanf(buf, "datagram %d", &i), 1);
			ck_assert(i >= 0 && i < INFLIGHT && i % 2 == s && !seen[i]);
			seen[i] = true;
			answered++;
		}
	}
	close(fds[0]);
	close(fds[1]);
	it_stop(d);
}
END_TEST

/* The largest datagram still comes back whole. */
START_TEST(udp_echo_large)
{
	struct daemon *d = start();
	static char msg[65507], buf[65536];
	ssize_t n;

	memset(msg, 'x', sizeof(msg));
	n = tu_udp_ask(p_udp, 0, msg, sizeof(msg), buf, sizeof(buf), 5000);
	ck_assert_int_eq(n, sizeof(msg));
	ck_assert(memcmp(msg, buf, n) == 0);
	it_stop(d);
}
END_TEST

Suite *
fastpath_suite(void)
{
	Suite *s = suite_create("fastpath");

	tu_tcase(s, "fastpath", it_setup, it_teardown, IT_TIMEOUT,
	    daytime_in_master, time_in_master, udp_echo_batch, udp_echo_large,
	    NULL);
	return s;
}
