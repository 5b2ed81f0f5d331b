/*
 * The keys of a service behind a balancer or beside other daemons through
 * the loader: the PROXY protocol's and the socket options, global defaults
 * and a service's own, what a UDP or wait service takes, and each
 * load-time error.
 */
#include <string.h>

#include "config.h"
#include "proxyproto.h"
#include "testutil.h"

static struct cfgerr cerr;

static void
teardown(void)
{
	cfgerr_free(&cerr);
	tu_cleanup();
}

static struct config *
load(const char *text)
{
	cfgerr_free(&cerr);
	return config_load(tu_write("sockd.conf", "%s", text), &cerr);
}

#define TCP(n, port, body) "{ name = \"" n "\"; protocol = \"tcp\"; port = " \
	#port "; builtin = \"echo\"; " body " }"
#define UDP(n, port, body) "{ name = \"" n "\"; protocol = \"udp\"; port = " \
	#port "; builtin = \"echo\"; " body " }"

START_TEST(defaults_and_own)
{
	struct config *cfg = load("sockd = { keepalive = true; "
	    "keepalive_idle = 60; nodelay = true; rcvbuf = 65536; "
	    "reuseport = true; };\nservices = (\n" TCP("a", 7000, "") ",\n"
	    TCP("b", 7001, "nodelay = false; keepalive_count = 3; "
	    "defer_accept = 10; fastopen = 32; sndbuf = 4096; freebind = true; "
	    "interface = \"lo\";") ",\n" UDP("u", 7002, "") "\n);\n");

	ck_assert_msg(cfg != NULL, "%s", cerr.text);
	const struct sockopts *a = &cfg->svcs[0].so, *b = &cfg->svcs[1].so,
	    *u = &cfg->svcs[2].so;
	ck_assert(a->keepalive && a->nodelay && a->reuseport && !a->freebind);
	ck_assert_uint_eq(a->keepidle, 60);
	ck_assert_uint_eq(a->keepcnt, 0);
	ck_assert_uint_eq(a->rcvbuf, 65536);
	ck_assert_str_eq(a->interface, "");
	ck_assert(b->keepalive && !b->nodelay && b->freebind);
	ck_assert_uint_eq(b->keepcnt, 3);
	ck_assert_uint_eq(b->defer_accept, 10);
	ck_assert_uint_eq(b->fastopen, 32);
	ck_assert_uint_eq(b->sndbuf, 4096);
	ck_assert_str_eq(b->interface, "lo");
	/* A UDP service takes the defaults that mean something for it. */
	ck_assert(!u->keepalive && !u->nodelay && u->reuseport);
	ck_assert_uint_eq(u->keepidle, 0);
	ck_assert_uint_eq(u->rcvbuf, 65536);
	config_unref(cfg);
}
END_TEST

static void
assert_error(const char *text, const char *want)
{
	struct config *cfg = load(text);

	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(cerr.text, want), "wanted \"%s\" in:\n%s", want,
	    cerr.text);
}

START_TEST(errors)
{
	assert_error("services = (\n" UDP("u", 7000, "\nnodelay = true;") ");\n",
	    "sockd.conf:3: service \"u\": nodelay: a TCP option, and the "
	    "service is UDP");
	assert_error("services = (\n" UDP("u", 7000, "\ndefer_accept = 1;")
	    ");\n", "sockd.conf:3: service \"u\": defer_accept: a TCP option");
	assert_error("services = (\n" TCP("a", 7000, "\nkeepalive_idle = 5;")
	    ");\n", "sockd.conf:3: service \"a\": keepalive_idle: set keepalive "
	    "= true too");
	assert_error("sockd = {\nkeepalive_count = 5; };\nservices = (\n"
	    TCP("a", 7000, "") ");\n", "sockd.conf:2: sockd: "
	    "keepalive_count: set keepalive = true too");
	assert_error("services = (\n" TCP("a", 7000, "\ninterface = \"nope0\";")
	    ");\n", "sockd.conf:3: service \"a\": interface \"nope0\": no such "
	    "network interface");
	assert_error("services = (\n" TCP("a", 7000, "\nrcvbuf = 100;") ");\n",
	    "sockd.conf:3: service \"a\": rcvbuf: 100 is out of range");
	assert_error("services = (\n" TCP("a", 7000, "\nkeepalive_count = 128;")
	    ");\n", "sockd.conf:3: service \"a\": keepalive_count: 128 is out");
	assert_error("services = (\n" TCP("a", 7000, "\nreuseport = 1;") ");\n",
	    "sockd.conf:3: service \"a\": reuseport");
	assert_error("services = (\n" TCP("a", 7000, "nodelai = true;") ");\n",
	    "did you mean 'nodelay'");
}
END_TEST

#define SVC(n, port, body) "{ name = \"" n "\"; protocol = \"tcp\"; port = " \
	#port "; server = \"/bin/cat\"; " body " }"

START_TEST(proxy_defaults)
{
	struct config *cfg = load("sockd = { proxy_protocol = \"v2\";\n"
	    "  proxy_from = [\"10.0.0.0/8\", \"fd00::/8\"]; proxy_pending = 64; };\n"
	    "services = (\n" SVC("a", 7000, "") ",\n"
	    SVC("b", 7001, "proxy_protocol = \"any\"; proxy_timeout = 9; "
	    "proxy_pending = 1;") ",\n"
	    SVC("c", 7002, "proxy_protocol = \"off\";") ",\n"
	    SVC("w", 7003, "wait = true;") ",\n"
	    "{ name = \"u\"; protocol = \"udp\"; port = 7004; builtin = \"echo\"; }"
	    "\n);\n");

	ck_assert_msg(cfg != NULL, "%s", cerr.text);
	ck_assert_uint_eq(cfg->svcs[0].proxy_protocol, PROXYPROTO_V2);
	ck_assert_uint_eq(cfg->svcs[0].proxy_timeout, 5000);
	ck_assert_uint_eq(cfg->svcs[0].proxy_from.n, 2);
	ck_assert_uint_eq(cfg->svcs[1].proxy_protocol, PROXYPROTO_V1 | PROXYPROTO_V2);
	ck_assert_uint_eq(cfg->svcs[1].proxy_timeout, 9000);
	ck_assert_uint_eq(cfg->svcs[0].proxy_pending, 64);
	ck_assert_uint_eq(cfg->svcs[1].proxy_pending, 1);
	ck_assert_uint_eq(cfg->svcs[2].proxy_protocol, 0);
	/* The default leaves alone the services that cannot take a header. */
	ck_assert_uint_eq(cfg->svcs[3].proxy_protocol, 0);
	ck_assert_uint_eq(cfg->svcs[4].proxy_protocol, 0);
	config_unref(cfg);
}
END_TEST

START_TEST(proxy_errors)
{
	assert_error("services = (\n" SVC("a", 7000, "\nproxy_protocol = \"v3\";\n"
	    "proxy_from = \"127.0.0.1\";") ");\n", "sockd.conf:3: service \"a\": "
	    "proxy_protocol \"v3\": expected \"off\", \"v1\", \"v2\" or \"any\"");
	assert_error("services = (\n" SVC("a", 7000, "\nproxy_protocol = \"v1\";")
	    ");\n", "sockd.conf:3: service \"a\": proxy_protocol: set proxy_from");
	assert_error("sockd = {\nproxy_protocol = \"v1\"; };\nservices = (\n"
	    SVC("a", 7000, "") ");\n", "sockd.conf:2: sockd: proxy_protocol: set "
	    "proxy_from");
	assert_error("services = (\n" SVC("a", 7000, "wait = true;\n"
	    "proxy_protocol = \"v2\"; proxy_from = \"127.0.0.1\";") ");\n",
	    "sockd.conf:3: service \"a\": proxy_protocol: only a TCP service "
	    "with wait = false");
	assert_error("services = (\n" SVC("a", 7000, "proxy_protocol = \"v2\";\n"
	    "proxy_from = \"127.0.0.1/33\";") ");\n",
	    "sockd.conf:3: service \"a\": proxy_from: \"127.0.0.1/33\"");
	assert_error("services = (\n" SVC("a", 7000, "proxy_protocol = \"v2\";\n"
	    "proxy_from = \"127.0.0.1\";\nproxy_timeout = 0;") ");\n",
	    "sockd.conf:4: service \"a\": proxy_timeout");
	assert_error("services = (\n" SVC("a", 7000, "proxy_protocol = \"v2\";\n"
	    "proxy_from = \"127.0.0.1\";\nproxy_pending = 65537;") ");\n",
	    "sockd.conf:4: service \"a\": proxy_pending");
	assert_error("sockd = {\nproxy_pending = 0; };\nservices = (\n"
	    SVC("a", 7000, "") ");\n", "sockd.conf:2: sockd: proxy_pending");
	assert_error("services = (\n" SVC("a", 7000, "proxy_protcol = \"v2\";")
	    ");\n", "did you mean 'proxy_protocol'");
}
END_TEST

Suite *
config_balancer_suite(void)
{
	Suite *s = suite_create("balancer config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, defaults_and_own);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, proxy_defaults);
	tcase_add_test(tc, proxy_errors);
	suite_add_tcase(s, tc);
	return s;
}
