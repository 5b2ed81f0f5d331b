/*
 * What a reload reports as changed in a service: confdiff on two
 * configurations loaded from real text, so the values are what the
 * loader makes of them.
 */
#include <stdio.h>
#include <string.h>

#include "confdiff.h"
#include "config.h"
#include "testutil.h"

static struct config *old, *new;
static struct confdiff d;
static char keys[512], text[4096];

static void
teardown(void)
{
	config_unref(old);
	config_unref(new);
	old = new = NULL;
	tu_cleanup();
}

/* Compares the one service of each text; returns the number of keys. */
static size_t
compare(const char *a, const char *b)
{
	size_t n;

	config_unref(old);
	config_unref(new);
	old = tu_load_services("old.conf", a);
	new = tu_load_services("new.conf", b);
	n = confdiff_services(&old->svcs[0], &new->svcs[0], &d);
	confdiff_keys(&d, keys, sizeof(keys));
	confdiff_text(&d, text, sizeof(text));
	return n;
}

#define ECHO(extra) "{ name = \"a\"; protocol = \"tcp\"; port = 7001; " \
	"builtin = \"echo\"; " extra " }"

START_TEST(same_text_no_change)
{
	ck_assert_uint_eq(compare(ECHO("instances = 4; only_from = [\"10.0.0.0/8\"];"),
	    ECHO("instances = 4; only_from = [\"10.0.0.0/8\"];")), 0);
	ck_assert_str_eq(keys, "");
	/* Sets in another order are the same set. */
	ck_assert_uint_eq(compare(
	    ECHO("address = [\"127.0.0.1\", \"127.0.0.2\"]; no_access = [\"10.1.0.0/16\", \"::1\"];"),
	    ECHO("address = [\"127.0.0.2\", \"127.0.0.1\"]; no_access = [\"::1\", \"10.1.0.0/16\"];")),
	    0);
}
END_TEST

/*
 * Lists compare as multisets: a value given twice counts twice, so that
 * [a, a] -> [a, b] is a change though each holds what the other's first
 * does; the order alone is none. (An address given twice is refused by
 * the loader.)
 */
#define UNIXSVC(extra) "{ name = \"u\"; protocol = \"unix\"; address = " \
	"\"@confdiff\"; builtin = \"echo\"; " extra " }"

START_TEST(lists_as_multisets)
{
	ck_assert_uint_eq(compare(
	    ECHO("only_from = [\"10.0.0.0/8\", \"10.0.0.0/8\"];"),
	    ECHO("only_from = [\"10.0.0.0/8\", \"192.0.2.0/24\"];")), 1);
	ck_assert_str_eq(keys, "only_from");
	ck_assert_uint_eq(compare(
	    ECHO("no_access = [\"10.0.0.0/8\", \"192.0.2.0/24\"];"),
	    ECHO("no_access = [\"192.0.2.0/24\", \"192.0.2.0/24\"];")), 1);
	ck_assert_str_eq(keys, "no_access");
	ck_assert_uint_eq(compare(UNIXSVC("only_users = [\"0\", \"0\"];"),
	    UNIXSVC("only_users = [\"0\", \"65534\"];")), 1);
	ck_assert_str_eq(keys, "only_users");
	ck_assert_uint_eq(compare(UNIXSVC("no_groups = [\"0\", \"65534\"];"),
	    UNIXSVC("no_groups = [\"65534\", \"65534\"];")), 1);
	ck_assert_str_eq(keys, "no_groups");
	/* The same multiset in another order. */
	ck_assert_uint_eq(compare(
	    UNIXSVC("only_groups = [\"0\", \"65534\", \"0\"];"),
	    UNIXSVC("only_groups = [\"0\", \"0\", \"65534\"];")), 0);
}
END_TEST

START_TEST(numbers_and_strings)
{
	ck_assert_uint_eq(compare(ECHO("instances = 4;"),
	    ECHO("instances = 8; refuse_message = \"busy\";")), 2);
	ck_assert_str_eq(keys, "instances,refuse_message");
	ck_assert_str_eq(text, "instances 4 -> 8, refuse_message unset -> \"busy\"");
}
END_TEST

START_TEST(identity_and_lists)
{
	ck_assert_uint_eq(compare(ECHO("address = \"127.0.0.1\";"),
	    "{ name = \"b\"; protocol = \"udp\"; port = 7002; address = [\"127.0.0.1\", \"::1\"];"
	    " builtin = \"daytime\"; only_from = [\"127.0.0.0/8\"]; }"), 6);
	ck_assert_str_eq(keys, "name,protocol,port,builtin,address,only_from");
	ck_assert_ptr_nonnull(strstr(text, "name \"a\" -> \"b\", protocol \"tcp\" -> \"udp\", "
	    "port 7001 -> 7002, builtin \"echo\" -> \"daytime\", "
	    "address 127.0.0.1 -> 127.0.0.1, ::1, only_from unset -> [127.0.0.0/8]"));
}
END_TEST

START_TEST(server_args_env)
{
	const char *sh = "{ name = \"a\"; protocol = \"tcp\"; port = 7001; "
	    "server = \"/bin/sh\"; args = [\"sh\", \"-c\", \"true\"]; env = [\"A=1\"]; }";

	ck_assert_uint_eq(compare(sh, "{ name = \"a\"; protocol = \"tcp\"; port = 7001; "
	    "server = \"/bin/sh\"; args = [\"sh\", \"-c\", \"false\"]; env = [\"A=2\"]; "
	    "umask = \"027\"; nice = 5; max_lifetime = 60; }"), 5);
	ck_assert_str_eq(keys, "args,env,nice,umask,max_lifetime");
	ck_assert_ptr_nonnull(strstr(text, "args [\"sh\", \"-c\", \"true\"] -> "
	    "[\"sh\", \"-c\", \"false\"]"));
	ck_assert_ptr_nonnull(strstr(text, "umask unset -> 027"));
	ck_assert_ptr_nonnull(strstr(text, "nice unset -> 5"));
	ck_assert_uint_eq(compare(sh, sh), 0);
}
END_TEST

/* A value too long for the line is cut, visibly. */
/* The keys of the later capabilities: unix, sockets, PROXY, jail. */
START_TEST(later_keys)
{
	ck_assert_uint_eq(compare("{ name = \"u\"; protocol = \"unix\"; address = "
	    "\"/tmp/a.sock\"; builtin = \"echo\"; }", "{ name = \"u\"; protocol = "
	    "\"unix\"; address = \"/tmp/b.sock\"; builtin = \"echo\"; "
	    "socket_mode = \"0600\"; only_users = [\"0\"]; }"), 3);
	ck_assert_str_eq(keys, "socket_mode,only_users,address");
	ck_assert_ptr_nonnull(strstr(text, "socket_mode unset -> 0600"));
	ck_assert(compare("{ name = \"u\"; protocol = \"unix\"; address = "
	    "\"/tmp/a.sock\"; builtin = \"echo\"; }", ECHO("")) >= 3);
	ck_assert_msg(strstr(text, "protocol \"unix\" -> \"tcp\""), "%s", text);
	ck_assert_uint_eq(compare(ECHO(""), ECHO("keepalive = true; nodelay = true;"
	    " proxy_protocol = \"v2\"; proxy_from = \"10.0.0.1\";")), 4);
	ck_assert_str_eq(keys, "proxy_protocol,proxy_from,keepalive,nodelay");
	ck_assert_uint_eq(compare(ECHO("proxy_protocol = \"v2\"; proxy_from = "
	    "\"10.0.0.1\";"), ECHO("proxy_protocol = \"v2\"; proxy_from = "
	    "\"10.0.0.1\"; proxy_pending = 8;")), 1);
	ck_assert_str_eq(text, "proxy_pending 256 -> 8");
}
END_TEST

START_TEST(long_values_cut)
{
	char big[600], svc[1024];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(svc, sizeof(svc), ECHO("refuse_message = \"%s\";"), big);
	ck_assert_uint_eq(compare(ECHO(""), svc), 1);
	ck_assert_uint_eq(strlen(d.k[0].new), CONFDIFF_VALUE_MAX - 1);
	ck_assert_str_eq(d.k[0].new + CONFDIFF_VALUE_MAX - 4, "...");
}
END_TEST

/* The daemon's keys a reload applies: control and control_group. */
START_TEST(global_control)
{
	config_unref(old);
	config_unref(new);
	old = new = NULL;
	struct cfgerr err = { 0 };
	struct config *a = config_load(tu_write("a.conf", "sockd = { control = "
	    "\"/run/a\"; };\nservices = ( " ECHO("") " );\n"), &err);
	struct config *b = config_load(tu_write("b.conf", "sockd = { control = "
	    "\"/run/b\"; control_group = \"1\"; };\nservices = ( " ECHO("")
	    " );\n"), &err);

	ck_assert_msg(a && b, "%s", err.text ? err.text : "");
	ck_assert_uint_eq(confdiff_global(&a->global, &a->global, &d), 0);
	ck_assert_uint_eq(confdiff_global(&a->global, &b->global, &d), 2);
	confdiff_text(&d, text, sizeof(text));
	ck_assert_str_eq(text, "control \"/run/a\" -> \"/run/b\", control_group 0 -> 1");
	config_unref(a);
	config_unref(b);
	cfgerr_free(&err);
}
END_TEST

Suite *
confdiff_suite(void)
{
	Suite *s = suite_create("confdiff");
	TCase *tc = tcase_create("confdiff");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, same_text_no_change);
	tcase_add_test(tc, lists_as_multisets);
	tcase_add_test(tc, numbers_and_strings);
	tcase_add_test(tc, identity_and_lists);
	tcase_add_test(tc, server_args_env);
	tcase_add_test(tc, long_values_cut);
	tcase_add_test(tc, later_keys);
	tcase_add_test(tc, global_control);
	suite_add_tcase(s, tc);
	return s;
}
