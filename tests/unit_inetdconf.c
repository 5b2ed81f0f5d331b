/*
 * inetd.conf lines (inetdconf.c) one by one, valid and invalid, then
 * through the loader: the services they become and the line each error
 * points at.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "inetdconf.h"
#include "testutil.h"

static struct inetdconf_entry e;
static char err[INETDCONF_ERRLEN];
static struct cfgerr cerr;

static void
teardown(void)
{
	inetdconf_free(&e);
	cfgerr_free(&cerr);
	tu_cleanup();
}

static enum inetdconf_kind
parse(const char *line)
{
	inetdconf_free(&e);
	return inetdconf_parse(line, NULL, &e, err);
}

static void
expect_error(const char *line, const char *needle)
{
	ck_assert_msg(parse(line) == INETDCONF_ERROR, "accepted: %s", line);
	ck_assert_msg(strstr(err, needle) != NULL, "\"%s\": \"%s\" lacks \"%s\"",
	    line, err, needle);
}

START_TEST(blank_and_comments)
{
	ck_assert_int_eq(parse(""), INETDCONF_BLANK);
	ck_assert_int_eq(parse("   \t "), INETDCONF_BLANK);
	ck_assert_int_eq(parse("# echo stream tcp nowait root internal"),
	    INETDCONF_BLANK);
	ck_assert_int_eq(parse("  #echo"), INETDCONF_BLANK);
	ck_assert_int_eq(parse("#:STANDARD: Telnet"), INETDCONF_BLANK);
}
END_TEST

START_TEST(internal_lines)
{
	char name[65];

	ck_assert_int_eq(parse("daytime\tstream\ttcp\tnowait\troot\tinternal"),
	    INETDCONF_SERVICE);
	ck_assert_str_eq(e.service, "daytime");
	ck_assert_uint_eq(e.port, 13);
	ck_assert(!e.udp);
	ck_assert_int_eq(e.family, INETDCONF_BOTH);
	ck_assert_ptr_null(e.program);
	ck_assert_ptr_null(e.host);
	ck_assert_str_eq(e.user, "root");
	ck_assert_ptr_null(e.group);
	ck_assert(inetdconf_name(&e, name, sizeof(name)));
	ck_assert_str_eq(name, "daytime-tcp");
	ck_assert_int_eq(parse("time dgram udp wait root internal"),
	    INETDCONF_SERVICE);
	ck_assert_uint_eq(e.port, 37);
	ck_assert(e.udp && e.wait);
	ck_assert_int_eq(parse("echo stream tcp6 nowait root internal extra"),
	    INETDCONF_SERVICE);
	ck_assert_int_eq(e.family, INETDCONF_V6);
	expect_error("ftp stream tcp nowait root internal", "internal service");
	expect_error("7 stream tcp nowait root internal", "internal service");
}
END_TEST

START_TEST(program_lines)
{
	ck_assert_int_eq(parse("ident stream tcp4 nowait.40 identd:nogroup "
	    "/usr/sbin/identd identd -i -t 30"), INETDCONF_SERVICE);
	ck_assert_uint_eq(e.port, 113);
	ck_assert_int_eq(e.family, INETDCONF_V4);
	ck_assert_uint_eq(e.max, 40);
	ck_assert(!e.wait);
	ck_assert_str_eq(e.user, "identd");
	ck_assert_str_eq(e.group, "nogroup");
	ck_assert_str_eq(e.program, "/usr/sbin/identd");
	ck_assert_str_eq(e.argv[0], "identd");
	ck_assert_str_eq(e.argv[3], "30");
	ck_assert_ptr_null(e.argv[4]);
	/* No argv[0]: the program's name, as sockd.conf's args default. */
	ck_assert_int_eq(parse("7000 stream tcp nowait nobody.nogroup /bin/cat"),
	    INETDCONF_SERVICE);
	ck_assert_uint_eq(e.port, 7000);
	ck_assert_str_eq(e.user, "nobody");
	ck_assert_str_eq(e.group, "nogroup");
	ck_assert_str_eq(e.argv[0], "cat");
	ck_assert_ptr_null(e.argv[1]);
	ck_assert_int_eq(parse("tftp dgram udp4 wait.100 nobody /usr/sbin/in.tftpd "
	    "in.tftpd -s /srv/tftp"), INETDCONF_SERVICE);
	ck_assert(e.udp && e.wait);
	ck_assert_uint_eq(e.max, 100);
	ck_assert_uint_eq(e.port, 69);
	ck_assert_int_eq(parse("telnet stream tcp46 nowait root /usr/sbin/tcpd "
	    "/usr/sbin/in.telnetd"), INETDCONF_SERVICE);
	ck_assert_int_eq(e.family, INETDCONF_BOTH);
	ck_assert_str_eq(e.argv[0], "/usr/sbin/in.telnetd");
}
END_TEST

START_TEST(addresses)
{
	char name[65];

	ck_assert_int_eq(parse("127.0.0.1:7001 stream tcp nowait root /bin/cat cat"),
	    INETDCONF_SERVICE);
	ck_assert_str_eq(e.host, "127.0.0.1");
	ck_assert_uint_eq(e.port, 7001);
	ck_assert(inetdconf_name(&e, name, sizeof(name)));
	ck_assert_str_eq(name, "127.0.0.1-7001-tcp");
	ck_assert_int_eq(parse("[::1]:echo stream tcp6 nowait root internal"),
	    INETDCONF_SERVICE);
	ck_assert_str_eq(e.host, "::1");
	ck_assert(inetdconf_name(&e, name, sizeof(name)));
	ck_assert_str_eq(name, "__1-echo-tcp6");
	ck_assert_int_eq(parse("::1:echo stream tcp6 nowait root internal"),
	    INETDCONF_SERVICE);
	ck_assert_str_eq(e.host, "::1");
	ck_assert_int_eq(parse("*:echo stream tcp nowait root internal"),
	    INETDCONF_SERVICE);
	ck_assert_ptr_null(e.host);
	/* "address:" alone is the default of the lines that follow it. */
	ck_assert_int_eq(parse("127.0.0.2:"), INETDCONF_HOST);
	ck_assert_str_eq(e.host, "127.0.0.2");
	inetdconf_free(&e);
	ck_assert_int_eq(inetdconf_parse("echo stream tcp nowait root internal",
	    "127.0.0.2", &e, err), INETDCONF_SERVICE);
	ck_assert_str_eq(e.host, "127.0.0.2");
	ck_assert_int_eq(parse("*:"), INETDCONF_HOST);
	ck_assert_ptr_null(e.host);
	expect_error("localhost:echo stream tcp nowait root internal",
	    "not an IP address literal");
	expect_error("::1:echo stream tcp4 nowait root internal", "not an IPv4");
	expect_error("127.0.0.1:echo stream tcp6 nowait root internal",
	    "not an IPv6");
	expect_error("host.example:", "not an IP address literal");
}
END_TEST

START_TEST(switched_off)
{
	ck_assert_int_eq(parse("#<off># discard stream tcp nowait root internal"),
	    INETDCONF_OFF);
	ck_assert_str_eq(e.service, "discard");
	/* Its program may be gone with its package: still no error. */
	ck_assert_int_eq(parse("#<off># swat stream tcp nowait.400 root "
	    "/usr/sbin/swat swat"), INETDCONF_OFF);
	ck_assert_int_eq(parse("#<off># rpc.x/1 stream rpc/tcp wait root /x x"),
	    INETDCONF_OFF);
	ck_assert_ptr_null(e.service);
	ck_assert_int_eq(parse("#<off>#"), INETDCONF_OFF);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(invalid_lines)
{
	expect_error("echo stream tcp nowait root", "found 5 fields");
	expect_error("echo", "found 1 field");
	expect_error("rstatd/1-3 dgram rpc/udp wait root /usr/sbin/rpc.rstatd "
	    "rpc.rstatd", "RPC");
	expect_error("echo stream sctp nowait root internal", "protocol \"sctp\"");
	expect_error("echo raw tcp nowait root internal", "stream and dgram");
	expect_error("echo seqpacket tcp nowait root internal", "stream and dgram");
	expect_error("echo dgram tcp nowait root internal", "does not go with");
	expect_error("echo stream udp wait root internal", "does not go with");
	expect_error("nosuchservice stream tcp nowait root internal",
	    "not in /etc/services");
	expect_error("0 stream tcp nowait root /bin/cat", "1-65535");
	expect_error("65536 stream tcp nowait root /bin/cat", "1-65535");
	expect_error("7x stream tcp nowait root /bin/cat", "1-65535");
	expect_error(":echo stream tcp nowait root internal", "not an IP");
	expect_error("echo stream tcp maybe root internal", "wait or nowait");
	expect_error("echo stream tcp nowait. root internal", "count per minute");
	expect_error("echo stream tcp nowait.0 root internal", "count per minute");
	expect_error("echo stream tcp nowait.x root internal", "count per minute");
	expect_error("echo stream tcp nowait.-1 root internal", "count per minute");
	expect_error("echo stream tcp nowait.1000001 root internal",
	    "count per minute");
	expect_error("echo stream tcp nowait root: internal", "group after it");
	expect_error("echo stream tcp nowait :root internal", "user is empty");
	expect_error("7000 stream tcp nowait root bin/cat cat", "absolute path");
	expect_error("7000 stream tcp nowait root /bin/cat 1 2 3 4 5 6 7 8 9 10 "
	    "11 12 13 14 15 16 17 18 19 20 21", "more than 20");
}
END_TEST

START_TEST(names_and_rates)
{
	unsigned rate, burst;
	char name[8];

	inetdconf_rate(40, &rate, &burst);
	ck_assert_uint_eq(rate, 1);
	ck_assert_uint_eq(burst, 40);
	inetdconf_rate(256, &rate, &burst);
	ck_assert_uint_eq(rate, 5);
	ck_assert_uint_eq(burst, 256);
	ck_assert_int_eq(parse("daytime stream tcp nowait root internal"),
	    INETDCONF_SERVICE);
	ck_assert(!inetdconf_name(&e, name, sizeof(name)));
}
END_TEST

/* Loads a sockd.conf naming inetd.conf holding text; NULL on errors. */
static struct config *
load(const char *sockd, const char *inetd)
{
	tu_write("inetd.conf", "%s", inetd);
	cfgerr_free(&cerr);
	return config_load(tu_write("sockd.conf", "%s", sockd), &cerr);
}

START_TEST(loaded_services)
{
	struct config *cfg = load("sockd = { inetd_conf = \"inetd.conf\"; "
	    "only_from = \"127.0.0.0/8\"; };\n",
	    "# a comment\n\n"
	    "daytime stream tcp nowait root internal\n"
	    "#<off># echo stream tcp nowait root internal\n"
	    "127.0.0.1:7001 stream tcp4 nowait.120 nobody:nogroup /bin/cat cat -u\n"
	    "7002 dgram udp6 wait root /bin/cat\n");
	const struct svc_conf *s;

	ck_assert_msg(cfg != NULL, "%s", cerr.text);
	ck_assert_uint_eq(cfg->nsvcs, 3);
	s = &cfg->svcs[0];
	ck_assert_str_eq(s->name, "daytime-tcp");
	ck_assert_ptr_nonnull(s->builtin);
	ck_assert_uint_eq(s->port, 13);
	ck_assert_int_eq(s->addrs[0].family, AF_INET6);
	ck_assert(!s->v6only);
	ck_assert_int_eq(s->line, 3);
	ck_assert_ptr_nonnull(strstr(s->file, "inetd.conf"));
	/* The sockd section's defaults apply, as to sockd.conf's services. */
	ck_assert(s->only_from.set);
	s = &cfg->svcs[1];
	ck_assert_str_eq(s->name, "127.0.0.1-7001-tcp4");
	ck_assert_str_eq(s->server, "/bin/cat");
	ck_assert_str_eq(s->argv[1], "-u");
	ck_assert(s->set_ids && !s->wait);
	ck_assert_uint_eq(s->rate, 2);
	ck_assert_uint_eq(s->rate_burst, 120);
	ck_assert_int_eq(s->addrs[0].family, AF_INET);
	ck_assert_int_eq(s->line, 5);
	s = &cfg->svcs[2];
	ck_assert_int_eq(s->proto, PROTO_UDP);
	ck_assert(s->wait && s->v6only && !s->per_peer);
	ck_assert_str_eq(s->argv[0], "cat");
	config_unref(cfg);
}
END_TEST

static void
expect_load_error(const char *sockd, const char *inetd, const char *where,
    const char *needle)
{
	struct config *cfg = load(sockd, inetd);

	ck_assert_msg(cfg == NULL, "accepted:\n%s", inetd);
	ck_assert_msg(strstr(cerr.text, where) && strstr(cerr.text, needle),
	    "no \"%s\" with \"%s\" in:\n%s", where, needle, cerr.text);
}

START_TEST(load_errors)
{
	const char *g = "sockd = { inetd_conf = \"inetd.conf\"; };\n";

	expect_load_error(g, "\n\nrstatd/1-3 dgram rpc/udp wait root /x x\n",
	    "inetd.conf:3: ", "RPC");
	expect_load_error(g, "7000 stream tcp nowait nosuchuser /bin/cat cat\n",
	    "inetd.conf:1: ", "user \"nosuchuser\" does not exist");
	expect_load_error(g, "#\n7000 stream tcp nowait root /nonexistent x\n",
	    "inetd.conf:2: ", "/nonexistent");
	expect_load_error(g, "echo stream tcp nowait root internal\n"
	    "echo stream tcp nowait root internal\n", "inetd.conf:2: ",
	    "duplicate name");
	expect_load_error("sockd = { inetd_conf = \"inetd.conf\"; };\nservices = (\n"
	    "{ name = \"e\"; protocol = \"tcp\"; port = 7; builtin = \"echo\"; });\n",
	    "\necho stream tcp nowait root internal\n", "inetd.conf:2: ",
	    "already used by service \"e\" (");
	/* A file that does not exist holds no services: nothing else here. */
	expect_load_error("sockd = { inetd_conf = \"nothere.conf\"; };\n", "",
	    "sockd.conf", "no enabled service");
	expect_load_error(g, "# nothing but comments\n", "sockd.conf",
	    "no enabled service");
}
END_TEST

Suite *
inetdconf_suite(void)
{
	Suite *s = suite_create("inetdconf");
	TCase *tc = tcase_create("inetdconf");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, blank_and_comments);
	tcase_add_test(tc, internal_lines);
	tcase_add_test(tc, program_lines);
	tcase_add_test(tc, addresses);
	tcase_add_test(tc, switched_off);
	tcase_add_test(tc, invalid_lines);
	tcase_add_test(tc, names_and_rates);
	/* Its lines name root and nobody, which only root may run handlers as. */
	tu_add_test(tc, loaded_services, tu_root_skip());
	tcase_add_test(tc, load_errors);
	suite_add_tcase(s, tc);
	return s;
}
