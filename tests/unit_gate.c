/*
 * gate_wanted(): whether a service's listeners are polled, for each kind
 * of service (a server per connection, a waiting UDP server, a UDP server
 * per peer, a built-in answered in the master, the metrics built-in, a
 * PROXY protocol service) and each state that closes or opens the gate.
 * The services are made from real configuration text by service_new(),
 * each with one listener open on /dev/null (the gate makes no call on it).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "sockd.h"
#include "testutil.h"

static struct config *cfg;
static struct sockd sd;
static struct service *svcs[8];

enum { TCP, UDP_WAIT, UDP_PEER, DAYTIME, METRICS, PROXY, CAPPED };

static void
setup(void)
{
	cfg = tu_load_services("gate.conf",
	    "{ name = \"tcp\"; protocol = \"tcp\"; port = 7001; server = \"/bin/cat\"; },"
	    "{ name = \"udpwait\"; protocol = \"udp\"; port = 7002; server = \"/bin/cat\"; },"
	    "{ name = \"udppeer\"; protocol = \"udp\"; port = 7003; server = \"/bin/cat\"; "
	    "wait = false; },"
	    "{ name = \"daytime\"; protocol = \"tcp\"; port = 7004; builtin = \"daytime\"; },"
	    "{ name = \"metrics\"; protocol = \"tcp\"; port = 7005; builtin = \"metrics\"; },"
	    "{ name = \"proxy\"; protocol = \"tcp\"; port = 7006; server = \"/bin/cat\"; "
	    "proxy_protocol = \"v2\"; proxy_from = \"127.0.0.1\"; },"
	    "{ name = \"capped\"; protocol = \"tcp\"; port = 7007; server = \"/bin/cat\"; "
	    "instances = 2; }");
	memset(&sd, 0, sizeof(sd));
	sd.cfg = cfg;
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		struct service *svc = service_new(&cfg->svcs[i], cfg);
		ck_assert_ptr_nonnull(svc);
		ck_assert_ptr_nonnull(svc->ls = calloc(1, sizeof(*svc->ls)));
		svc->nls = 1;
		svc->ls[0].fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		ck_assert_int_ge(svc->ls[0].fd, 0);
		svcs[i] = svc;
	}
}

static void
teardown(void)
{
	for (size_t i = 0; cfg && i < cfg->nsvcs; i++)
		service_unref(svcs[i]);
	config_unref(cfg);
	cfg = NULL;
	tu_cleanup();
}

static bool
wanted(int i)
{
	return gate_wanted(&sd, svcs[i]);
}

/* Open, every kind is polled; quitting, faulted or closed, none. */
START_TEST(open_then_shut)
{
	for (int i = TCP; i <= CAPPED; i++)
		ck_assert_msg(wanted(i), "%s", svcs[i]->conf->name);
	for (int i = TCP; i <= CAPPED; i++) {
		svcs[i]->faulted = true;
		ck_assert_msg(!wanted(i), "%s faulted", svcs[i]->conf->name);
		svcs[i]->faulted = false;
		close(svcs[i]->ls[0].fd);
		svcs[i]->ls[0].fd = -1;
		ck_assert_msg(!wanted(i), "%s closed", svcs[i]->conf->name);
	}
	sd.quit = true;
	ck_assert(!wanted(UDP_PEER));
}
END_TEST

/* A service that accepts its own connections keeps taking them while
 * paused, to refuse them; one that lends its socket stops. */
START_TEST(paused_or_held)
{
	svcs[TCP]->paused = true;
	svcs[UDP_WAIT]->held = true;
	ck_assert(wanted(TCP));
	ck_assert(!wanted(UDP_WAIT));
	svcs[TCP]->paused = false;
	svcs[TCP]->held = true;
	ck_assert(wanted(TCP));
	/* A per-peer service serves its known peers whatever its state. */
	svcs[UDP_PEER]->held = true;
	ck_assert(wanted(UDP_PEER));
}
END_TEST

/* instances, max_children, a busy socket and rate tokens close the gate
 * of a service that starts children; not that of one answered in the
 * master, which rate tokens alone close. */
START_TEST(caps_and_rates)
{
	svcs[CAPPED]->nchildren = 1;
	ck_assert(wanted(CAPPED));
	svcs[CAPPED]->nchildren = 2;
	ck_assert(!wanted(CAPPED));
	svcs[UDP_WAIT]->busy = true;
	ck_assert(!wanted(UDP_WAIT));
	sd.children.count = cfg->global.max_children;
	ck_assert(!wanted(TCP));
	ck_assert(wanted(DAYTIME));
	ck_assert(wanted(METRICS));
	ck_assert(wanted(UDP_PEER));
	sd.children.count = 0;
	for (int i = TCP; i <= CAPPED; i++)
		svcs[i]->rate_wait = true;
	ck_assert(!wanted(TCP));
	ck_assert(!wanted(DAYTIME));
	ck_assert(!wanted(METRICS));
	ck_assert(wanted(UDP_PEER));
}
END_TEST

/* Before an upgrade's exec: no scrape starts, and no connection waits
 * for a PROXY header; the others go on. */
START_TEST(upgrade_pending)
{
	sd.up.exec_pending = true;
	ck_assert(!wanted(METRICS));
	ck_assert(!wanted(PROXY));
	ck_assert(wanted(TCP));
	ck_assert(wanted(DAYTIME));
}
END_TEST

Suite *
gate_suite(void)
{
	Suite *s = suite_create("gate");
	TCase *tc = tcase_create("gate");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, open_then_shut);
	tcase_add_test(tc, paused_or_held);
	tcase_add_test(tc, caps_and_rates);
	tcase_add_test(tc, upgrade_pending);
	suite_add_tcase(s, tc);
	return s;
}
