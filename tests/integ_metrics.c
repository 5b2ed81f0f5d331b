/*
 * Watching sockd: the metrics built-in (HTTP, Prometheus text checked by
 * Debian's python3-prometheus-client parser), every answer counted and
 * logged, refusals as JSON keys, SIGUSR1 whatever log_level says,
 * log_addresses, and what a reload says it changed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "integ_util.h"

/* Debian's interpreter: the parser is Debian's package, not a venv's. */
#define PYTHON "/usr/bin/python3"
#define HTTP_MAX 262144
/* scrape.c's SCRAPE_MAX and SCRAPE_TIMEOUT_MS. */
#define SCRAPES 64
#define SCRAPE_TIMEOUT_MS 5000

static char http[HTTP_MAX];

/* Sends req to port and reads the whole response (up to EOF) into http. */
static ssize_t
http_ask(uint16_t port, const char *req)
{
	int fd = tu_connect(port);
	ssize_t n;

	ck_assert_int_ne(fd, -1);
	it_send(fd, req);
	n = tu_read_until(fd, http, sizeof(http), NULL, IT_WAIT);
	close(fd);
	return n;
}

/* The body of the last response, after its header. */
static const char *
http_body(void)
{
	const char *b = strstr(http, "\r\n\r\n");

	ck_assert_msg(b != NULL, "no header end: %s", it_tail(http));
	return b + 4;
}

/*
 * Scrapes /metrics and runs the parser on the body; returns its report,
 * one sample a line as NAME{labels sorted} VALUE, or fails the test when
 * the parser rejects the text.
 */
static const char *
scrape_parsed(uint16_t port)
{
	static char out[HTTP_MAX];
	char cmd[8192];
	const char *file;
	FILE *p;
	size_t n;

	ck_assert(http_ask(port, "GET /metrics HTTP/1.1\r\nHost: sockd\r\n"
	    "Accept: text/plain\r\n\r\n") > 0);
	ck_assert_msg(strncmp(http, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s",
	    it_tail(http));
	ck_assert_ptr_nonnull(strstr(http,
	    "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	file = tu_write("metrics.txt", "%s", http_body());
	snprintf(cmd, sizeof(cmd), "%s %s %s 2>&1", PYTHON,
	    it_path("tests/metrics_parse.py"), file);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	ck_assert_msg(pclose(p) == 0, "the parser refused the text: %s\n%s",
	    it_tail(out), it_tail(http_body()));
	return out;
}

/* Why the parser tests cannot run here, or NULL. */
static const char *
parser_skip(void)
{
	if (system(PYTHON " -c 'import prometheus_client.parser' 2>/dev/null") != 0)
		return "needs Debian's python3-prometheus-client (" PYTHON ")";
	return NULL;
}

static void
expect(const char *report, const char *line)
{
	ck_assert_msg(it_has_line(report, line), "missing \"%s\" in:\n%s", line,
	    it_tail(report));
}

/* Connects to port and waits for the server to close. */
static void
connect_eof(uint16_t port)
{
	int fd = tu_connect(port);

	ck_assert_int_ne(fd, -1);
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
}

static uint16_t pm, ph, pd, pe, pr;

/* Whether all_conf() has the metrics service: tests of the rest do without,
 * so that they test only what they are about. */
static bool with_metrics = true;

/* Writes sockd.conf with the ports of the last all_conf(). */
static const char *
same_conf(const char *global)
{
	char m[256] = "";

	if (with_metrics)
		snprintf(m, sizeof(m), " { name = \"m\"; protocol = \"tcp\"; port = %u;"
		    " address = \"127.0.0.1\"; builtin = \"metrics\"; },\n", pm);
	return tu_write("sockd.conf", "sockd = { %s };\nservices = (\n%s"
	    " { name = \"h\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; },\n"
	    " { name = \"d\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " builtin = \"daytime\"; },\n"
	    " { name = \"e\"; protocol = \"udp\"; port = %u; address = \"127.0.0.1\";"
	    " builtin = \"echo\"; },\n"
	    " { name = \"r\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " builtin = \"daytime\"; only_from = [\"10.0.0.0/8\"]; }\n"
	    ");\n", global, m, ph, it_path("services/hello-tcp"), pd, pe, pr);
}

/* All the services on fresh ports. */
static const char *
all_conf(const char *global)
{
	pm = tu_free_port();
	ph = tu_free_port();
	pd = tu_free_port();
	pe = tu_free_port();
	pr = tu_free_port();
	return same_conf(global);
}

/* The value of an unlabelled sample in the parser's report; -1 if none. */
static double
sample(const char *report, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = report; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/* The soft limit of pid's descriptors, from /proc/PID/limits. */
static double
fd_limit(pid_t pid)
{
	char path[64], line[256];
	double soft = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/limits", (long)pid);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Max open files", 14) == 0)
			soft = strtod(line + 14, NULL);
	fclose(f);
	return soft;
}

/*
 * The master's process_* figures, named as Prometheus's client libraries
 * name them: its descriptors, as /proc counts them after the scrape (the
 * scrape's own connection was open while it was rendered), its limit,
 * memory, CPU and start time.
 */
START_TEST(metrics_of_the_master_process)
{
	struct daemon *d = it_start(all_conf(""));
	const char *m;
	double fds;

	ck_assert(it_hello(ph, "x"));
	/* Reaped: its pidfd is closed, and nothing else changes. */
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", 1, IT_WAIT));
	m = scrape_parsed(pm);
	fds = tu_count_fds(d->pid);
	ck_assert_msg(sample(m, "process_open_fds") == fds + 1,
	    "process_open_fds %g, /proc has %g and the scrape's connection",
	    sample(m, "process_open_fds"), fds);
	ck_assert_msg(sample(m, "process_max_fds") == fd_limit(d->pid), "%s", it_tail(m));
	ck_assert(sample(m, "process_resident_memory_bytes") > 100000);
	ck_assert(sample(m, "process_virtual_memory_bytes") >=
	    sample(m, "process_resident_memory_bytes"));
	ck_assert(sample(m, "process_cpu_seconds_total") > 0);
	ck_assert(sample(m, "process_start_time_seconds") ==
	    sample(m, "sockd_start_time_seconds"));
	expect(m, "type process_cpu_seconds counter");
	expect(m, "type process_open_fds gauge");
	it_stop(d);
}
END_TEST

/* The numbers in the metrics are the connections this test made. */
START_TEST(metrics_count_what_happened)
{
	struct daemon *d = it_start(all_conf(""));
	const char *m;
	char buf[64];

	for (int i = 0; i < 3; i++)
		ck_assert(it_hello(ph, "x"));
	for (int i = 0; i < 2; i++)
		connect_eof(pd);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(tu_udp_ask(pe, 0, "ping", 4, buf, sizeof(buf),
		    IT_WAIT), 4);
	connect_eof(pr);
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", 3, IT_WAIT));

	m = scrape_parsed(pm);
	expect(m, "sockd_connections_total{service=\"h\"} 3");
	expect(m, "sockd_connections_total{service=\"d\"} 2");
	expect(m, "sockd_connections_total{service=\"e\"} 4");
	expect(m, "sockd_connections_total{service=\"r\"} 0");
	expect(m, "sockd_connections_total{service=\"m\"} 1");
	expect(m, "sockd_refused_total{reason=\"access\",service=\"r\"} 1");
	expect(m, "sockd_refused_total{reason=\"access\",service=\"h\"} 0");
	expect(m, "sockd_handlers_ended_total{result=\"ok\",service=\"h\"} 3");
	expect(m, "sockd_handlers_ended_total{result=\"failed\",service=\"h\"} 0");
	expect(m, "sockd_handlers{service=\"h\"} 0");
	expect(m, "sockd_paused{reason=\"backoff\",service=\"h\"} 0");
	expect(m, "sockd_backoff_pauses_total{service=\"h\"} 0");
	expect(m, "sockd_handler_duration_seconds_count{service=\"h\"} 3");
	expect(m, "sockd_handler_duration_seconds_bucket{le=\"+Inf\",service=\"h\"} 3");
	expect(m, "sockd_handler_duration_seconds_bucket{le=\"300\",service=\"h\"} 3");
	expect(m, "sockd_children 0");
	expect(m, "sockd_reloads_total{result=\"ok\"} 0");
	expect(m, "sockd_build_info{version=\"" SOCKD_VERSION "\"} 1");
	expect(m, "type sockd_handler_duration_seconds histogram");
	expect(m, "type sockd_connections counter");
	expect(m, "histograms consistent");

	/* A reload keeps the services by address: their counters go on. */
	same_conf("max_children = 100;");
	kill(d->pid, SIGHUP);
	ck_assert(it_wait_log_count(d, "reloaded:", 1, IT_WAIT));
	ck_assert(it_hello(ph, "x"));
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", 4, IT_WAIT));
	m = scrape_parsed(pm);
	expect(m, "sockd_reloads_total{result=\"ok\"} 1");
	expect(m, "sockd_connections_total{service=\"h\"} 4");
	expect(m, "sockd_connections_total{service=\"m\"} 2");
	expect(m, "sockd_handler_duration_seconds_count{service=\"h\"} 4");
	it_stop(d);
}
END_TEST

START_TEST(metrics_http_errors)
{
	struct daemon *d = it_start(all_conf(""));

	ck_assert(http_ask(pm, "GET /nothing HTTP/1.1\r\n\r\n") > 0);
	ck_assert_msg(strncmp(http, "HTTP/1.1 404 Not Found\r\n", 24) == 0, "%s", http);
	ck_assert(http_ask(pm, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n") > 0);
	ck_assert_msg(strncmp(http, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0,
	    "%s", http);
	ck_assert_ptr_nonnull(strstr(http, "\r\nAllow: GET, HEAD\r\n"));
	ck_assert(http_ask(pm, "hello\n\n") > 0);
	ck_assert_msg(strncmp(http, "HTTP/1.1 400 Bad Request\r\n", 26) == 0, "%s", http);
	/* HEAD: the header of a GET, no body. */
	ck_assert(http_ask(pm, "HEAD /metrics?x=1 HTTP/1.1\r\n\r\n") > 0);
	ck_assert_msg(strncmp(http, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", http);
	ck_assert_str_eq(http_body(), "");
	ck_assert(strtol(strstr(http, "Content-Length: ") + 16, NULL, 10) > 1000);
	it_stop(d);
}
END_TEST

/*
 * The audit's lock-out: clients that connect and stay silent (or send one
 * byte) take every scrape slot. The master still serves everything else at once, and a
 * real scrape is answered while they are still connected: it takes the
 * place of the oldest of them, the only one closed. A silent one is
 * dropped after the timeout.
 */
START_TEST(stalled_scrapers_block_nothing)
{
	struct daemon *d = it_start(all_conf(""));
	int stalled[SCRAPES], next;
	long t0;

	for (int i = 0; i < SCRAPES; i++) {
		ck_assert_int_ne(stalled[i] = tu_connect(pm), -1);
		if (i % 2)
			it_send(stalled[i], "G");
		/* Taken by the master, one after the other. */
		ck_assert(it_wait_log_count(d, "service \"m\": answered", i + 1,
		    IT_WAIT));
	}
	ck_assert(it_hello(ph, "x"));
	connect_eof(pd);
	ck_assert_int_ne(next = tu_connect(pm), -1);
	it_send(next, "GET /metrics HTTP/1.1\r\n\r\n");
	ck_assert_msg(tu_read_until(next, http, sizeof(http), "sockd_children",
	    IT_WAIT) > 0, "%s", it_tail(d->log));
	ck_assert_ptr_nonnull(strstr(http, "HTTP/1.1 200 OK"));
	close(next);
	/* Answered while the silent ones wait, but for the oldest. */
	ck_assert(it_wait_eof(stalled[0], IT_WAIT));
	for (int i = 1; i < SCRAPES; i++)
		ck_assert_msg(it_quiet(stalled[i], 0), "silent %d closed", i);
	/* A scraper that never asks is dropped after the timeout. */
	t0 = tu_now_ms();
	ck_assert(it_wait_eof(stalled[1], SCRAPE_TIMEOUT_MS + 2000));
	ck_assert(tu_now_ms() - t0 > 1000);
	for (int i = 0; i < SCRAPES; i++)
		close(stalled[i]);
	it_stop(d);
}
END_TEST

/* Answers of the master are logged like a started handler; refusals in
 * JSON carry their keys. */
START_TEST(every_answer_logged)
{
	struct daemon *d;
	char buf[64], want[256];
	int fd;

	with_metrics = false;
	d = it_start(all_conf("log_format = \"json\";"));

	ck_assert_int_ne(fd = tu_connect(pd), -1);
	snprintf(want, sizeof(want), "\"event\":\"answered\",\"service\":\"d\","
	    "\"client\":\"127.0.0.1\",\"port\":%u,", it_local_port(fd));
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert_msg(it_wait_log_count(d, want, 1, IT_WAIT), "%s", it_tail(d->log));
	/* UDP: one line per datagram at debug level (tests run sockd -d). */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(tu_udp_ask(pe, 0, "ping", 4, buf, sizeof(buf),
		    IT_WAIT), 4);
	ck_assert(it_wait_log_count(d, "\"event\":\"answered\",\"service\":\"e\"",
	    3, IT_WAIT));
	ck_assert_int_ne(fd = tu_connect(pr), -1);
	snprintf(want, sizeof(want), "\"event\":\"refused\",\"service\":\"r\","
	    "\"client\":\"127.0.0.1\",\"port\":%u,\"reason\":\"access\"",
	    it_local_port(fd));
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert_msg(it_wait_log_count(d, want, 1, IT_WAIT), "%s", it_tail(d->log));
	kill(d->pid, SIGUSR1);
	ck_assert(it_wait_log_count(d, "\"event\":\"stats\",\"service\":\"e\","
	    "\"accepted\":3,", 1, IT_WAIT));
	it_stop(d);
}
END_TEST

/* SIGUSR1 answers even with log_level = "error" (and without -d). */
START_TEST(sigusr1_whatever_log_level)
{
	/* Runs sockd without the -d that tu_start() adds: $1 is sockd,
	 * then -F -d -f FILE. */
	char wrapper[4096];
	struct daemon *d;

	snprintf(wrapper, sizeof(wrapper), "%s", tu_write("no-debug",
	    "#!/bin/sh\nexec \"$1\" \"$2\" \"$4\" \"$5\"\n"));
	ck_assert_int_eq(chmod(wrapper, 0755), 0);
	with_metrics = false;
	d = it_start_via(wrapper, all_conf("log_level = \"error\";"));
	connect_eof(pd);
	kill(d->pid, SIGUSR1);
	ck_assert_msg(it_wait_log_count(d, "service \"d\": accepted 1, refused 0",
	    1, IT_WAIT), "%s", it_tail(d->log));
	ck_assert_int_eq(it_count(d->log, "answered"), 0);
	it_stop(d);
}
END_TEST

/* log_addresses: the log shows the network or nothing; the handler still
 * gets the real address. */
static void
addresses_logged(const char *mode, const char *shown)
{
	char global[64], want[128], env[4096];
	struct daemon *d;
	int fd;

	snprintf(global, sizeof(global), "log_addresses = \"%s\";", mode);
	ph = tu_free_port();
	pr = tu_free_port();
	d = it_start(tu_write("sockd.conf", "sockd = { %s };\nservices = (\n"
	    " { name = \"p\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " server = \"%s\"; args = [\"probe\", \"env\"]; },\n"
	    " { name = \"r\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " builtin = \"daytime\"; only_from = [\"10.0.0.0/8\"]; }\n"
	    ");\n", global, ph, it_probe(), pr));
	ck_assert_int_ne(fd = tu_connect(ph), -1);
	ck_assert(tu_read_until(fd, env, sizeof(env), "end\n", IT_WAIT) > 0);
	ck_assert(it_has_line(env, "env:TCPREMOTEIP=127.0.0.1"));
	close(fd);
	connect_eof(pr);
	snprintf(want, sizeof(want), "service \"p\": accepted %s port ", shown);
	ck_assert_msg(it_wait_log_count(d, want, 1, IT_WAIT), "%s", it_tail(d->log));
	snprintf(want, sizeof(want), "service \"r\": refused %s port ", shown);
	ck_assert_msg(it_wait_log_count(d, want, 1, IT_WAIT), "%s", it_tail(d->log));
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "0", 1, IT_WAIT));
	ck_assert_msg(strstr(d->log, "127.0.0.1 port") == NULL, "%s", it_tail(d->log));
	it_stop(d);
}

START_TEST(log_addresses_truncated)
{
	addresses_logged("truncated", "127.0.0.0/24");
}
END_TEST

START_TEST(log_addresses_none)
{
	addresses_logged("none", "-");
}
END_TEST

/* Writes the services of reload_tells_what_changed. */
static const char *
diff_conf(const char *global, unsigned d_instances, uint16_t e_port, bool with_h,
    bool with_x)
{
	static char h[512], x[512];

	snprintf(h, sizeof(h), " { name = \"h\"; protocol = \"tcp\"; port = %u;"
	    " address = \"127.0.0.1\"; server = \"%s\"; },\n", ph,
	    it_path("services/hello-tcp"));
	snprintf(x, sizeof(x), " { name = \"x\"; protocol = \"tcp\"; port = %u;"
	    " address = \"127.0.0.1\"; builtin = \"time\"; },\n", pr);
	return tu_write("sockd.conf", "sockd = { %s };\nservices = (\n%s%s"
	    " { name = \"d\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";"
	    " builtin = \"daytime\"; instances = %u; },\n"
	    " { name = \"e\"; protocol = \"udp\"; port = %u; address = \"127.0.0.1\";"
	    " builtin = \"echo\"; }\n);\n", global, with_h ? h : "",
	    with_x ? x : "", pd, d_instances, e_port);
}

static void
reload(struct daemon *d, int n)
{
	kill(d->pid, SIGHUP);
	ck_assert_msg(it_wait_log_count(d, "reloaded", n, IT_WAIT), "%s",
	    it_tail(d->log));
}

/* After a reload, a line per service added, removed or changed. */
START_TEST(reload_tells_what_changed)
{
	struct daemon *d;
	uint16_t pe2 = tu_free_port();
	char want[256];

	all_conf("");
	d = it_start(diff_conf("", 2, pe, true, false));
	reload(d, 1);
	ck_assert_int_eq(it_count(d->log, "SIGHUP: service"), 0);
	ck_assert_int_eq(it_count(d->log, "SIGHUP: no service changed"), 1);

	diff_conf("", 3, pe2, false, true);
	reload(d, 2);
	ck_assert_ptr_nonnull(strstr(d->log, "SIGHUP: service \"d\" changed "
	    "(instances 2 -> 3); socket kept\n"));
	snprintf(want, sizeof(want), "SIGHUP: service \"e\" changed "
	    "(port %u -> %u); socket new\n", pe, pe2);
	ck_assert_msg(strstr(d->log, want) != NULL, "%s", it_tail(d->log));
	ck_assert_ptr_nonnull(strstr(d->log, "SIGHUP: service \"x\" added; socket new\n"));
	ck_assert_ptr_nonnull(strstr(d->log, "SIGHUP: service \"h\" removed; "
	    "socket closed\n"));
	ck_assert_int_eq(it_count(d->log, "SIGHUP: service"), 4);

	/* In JSON, as keys (the format applies from the reload after). */
	diff_conf("log_format = \"json\";", 3, pe2, false, true);
	reload(d, 3);
	diff_conf("log_format = \"json\";", 4, pe2, false, true);
	reload(d, 4);
	ck_assert_msg(strstr(d->log, "\"event\":\"reload_change\",\"service\":\"d\","
	    "\"change\":\"changed\",\"socket\":\"kept\",\"keys\":\"instances\","
	    "\"detail\":\"instances 3 -> 4\"") != NULL, "%s", it_tail(d->log));
	it_stop(d);
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_set_timeout(tc, IT_TIMEOUT);
	tu_add_test(tc, metrics_count_what_happened, parser_skip());
	tu_add_test(tc, metrics_of_the_master_process, parser_skip());
	tcase_add_test(tc, metrics_http_errors);
	tcase_add_test(tc, stalled_scrapers_block_nothing);
	tcase_add_test(tc, every_answer_logged);
	tcase_add_test(tc, sigusr1_whatever_log_level);
	tcase_add_test(tc, log_addresses_truncated);
	tcase_add_test(tc, log_addresses_none);
	tcase_add_test(tc, reload_tells_what_changed);
	suite_add_tcase(s, tc);
	return s;
}
