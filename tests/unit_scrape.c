/*
 * The metrics built-in's request parser (scrape.c), through
 * scrape_accept() on one end of a socket pair and the loop: a request is
 * written to the other end, whole or in parts, and the status line of the
 * answer read back. Only the request line counts: GET or HEAD of
 * /metrics (any query) over HTTP/1.x, once the header is complete.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "sockd.h"
#include "testutil.h"

static struct config *cfg;
static struct sockd sd;
static struct service *svc;
static int peer = -1;
static char answer[65536];

static void
setup(void)
{
	cfg = tu_load_services("scrape.conf", "{ name = \"m\"; protocol = \"tcp\"; "
	    "port = 7001; builtin = \"metrics\"; }");
	memset(&sd, 0, sizeof(sd));
	sd.cfg = cfg;
	ck_assert_int_eq(loop_init(&sd.loop), 0);
	ck_assert_ptr_nonnull(svc = service_new(&cfg->svcs[0], cfg));
}

static void
teardown(void)
{
	scrape_close_all(&sd);
	loop_free(&sd.loop);
	if (peer != -1)
		close(peer);
	peer = -1;
	service_unref(svc);
	config_unref(cfg);
	cfg = NULL;
	tu_cleanup();
}

/* A scrape whose client has sent first (may be ""); the client's end. */
static void
begin(const char *first)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	peer = sv[0];
	if (*first)
		ck_assert_int_eq(write(peer, first, strlen(first)), (ssize_t)strlen(first));
	scrape_accept(&sd, svc, sv[1]);
}

/* Sends more, and lets the loop dispatch it. */
static void
more(const char *text)
{
	ck_assert_int_eq(write(peer, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_ge(loop_once(&sd.loop), 0);
}

/* The whole answer, which ends with the connection; its length. */
static size_t
answered(void)
{
	size_t len = 0;
	ssize_t n;

	ck_assert_int_eq(sd.nscrapes, 0);
	while ((n = read(peer, answer + len, sizeof(answer) - 1 - len)) > 0)
		len += n;
	answer[len] = '\0';
	return len;
}

/* The status of the answer to req, sent whole. */
static int
status_of(const char *req)
{
	int status = 0;

	begin(req);
	answered();
	ck_assert_int_eq(sscanf(answer, "HTTP/1.1 %d ", &status), 1);
	close(peer);
	peer = -1;
	return status;
}

START_TEST(get_metrics)
{
	begin("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
	ck_assert_uint_gt(answered(), 0);
	ck_assert_msg(strncmp(answer, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", answer);
	ck_assert_ptr_nonnull(strstr(answer, "Content-Type: text/plain; version=0.0.4"));
	ck_assert_ptr_nonnull(strstr(answer, "\r\n\r\n# HELP"));
	ck_assert_int_eq(status_of("GET /metrics?name[]=x HTTP/1.0\n\n"), 200);
}
END_TEST

/* HEAD: the headers of GET's answer, no body. */
START_TEST(head_has_no_body)
{
	const char *end;

	begin("HEAD /metrics HTTP/1.1\r\n\r\n");
	answered();
	ck_assert_msg(strncmp(answer, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", answer);
	ck_assert_ptr_nonnull(end = strstr(answer, "\r\n\r\n"));
	ck_assert_str_eq(end, "\r\n\r\n");
	ck_assert_ptr_null(strstr(answer, "Content-Length: 0\r\n"));
}
END_TEST

START_TEST(refusals)
{
	ck_assert_int_eq(status_of("POST /metrics HTTP/1.1\r\n\r\n"), 405);
	ck_assert_int_eq(status_of("GETS /metrics HTTP/1.1\r\n\r\n"), 405);
	ck_assert_int_eq(status_of("GET /metricsx HTTP/1.1\r\n\r\n"), 404);
	ck_assert_int_eq(status_of("GET / HTTP/1.1\r\n\r\n"), 404);
	ck_assert_int_eq(status_of("GET /metrics/ HTTP/1.1\r\n\r\n"), 404);
	ck_assert_int_eq(status_of("GET /metrics HTTP/2.0\r\n\r\n"), 400);
	ck_assert_int_eq(status_of("GET /metrics\r\n\r\n"), 400);
	ck_assert_int_eq(status_of("GET\r\n\r\n"), 400);
	ck_assert_int_eq(status_of("\r\n\r\n"), 400);
	ck_assert_int_eq(status_of("get /metrics HTTP/1.1\r\n\r\n"), 405);
}
END_TEST

/* 405 names what is allowed. */
START_TEST(not_allowed_says_allow)
{
	begin("PUT /metrics HTTP/1.1\r\n\r\n");
	answered();
	ck_assert_ptr_nonnull(strstr(answer, "\r\nAllow: GET, HEAD\r\n"));
}
END_TEST

/* No answer before the blank line ends the header, however it is cut. */
START_TEST(request_in_parts)
{
	begin("GET /met");
	ck_assert_int_eq(sd.nscrapes, 1);
	more("rics HTTP/1.1\r\nHost: x\r\n");
	ck_assert_int_eq(sd.nscrapes, 1);
	more("\r\n");
	answered();
	ck_assert_msg(strncmp(answer, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", answer);
}
END_TEST

/* A header that never ends within 4 KiB is refused, not waited for. */
START_TEST(header_too_large)
{
	static char big[4200];

	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	begin(big);
	while (sd.nscrapes > 0)
		ck_assert_int_ge(loop_once(&sd.loop), 0);
	answered();
	ck_assert_msg(strncmp(answer, "HTTP/1.1 431 ", 13) == 0, "%s", answer);
}
END_TEST

Suite *
scrape_suite(void)
{
	Suite *s = suite_create("scrape");
	TCase *tc = tcase_create("scrape");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, get_metrics);
	tcase_add_test(tc, head_has_no_body);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, not_allowed_says_allow);
	tcase_add_test(tc, request_in_parts);
	tcase_add_test(tc, header_too_large);
	suite_add_tcase(s, tc);
	return s;
}
