/* config_load() for the per-service controls and their global defaults. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

static struct cfgerr err;

static void
teardown(void)
{
	cfgerr_free(&err);
	tu_cleanup();
}

static struct config *
load(const char *text)
{
	cfgerr_free(&err);
	return config_load(tu_write("sockd.conf", "%s", text), &err);
}

#define SVC(n, port, body) "{ name = \"" n "\"; protocol = \"tcp\"; port = " \
	#port "; server = \"/bin/cat\"; " body " }"

START_TEST(global_defaults)
{
	struct config *cfg = load("sockd = { per_source = 3; env = [\"A=1\"];\n"
	    "  only_from = \"10.0.0.0/8\"; };\n"
	    "services = (\n" SVC("a", 7000, "") ",\n"
	    SVC("b", 7001, "per_source = 5; env = [\"B=2\"];") "\n);\n");

	ck_assert_msg(cfg != NULL, "%s", err.text);
	ck_assert_uint_eq(cfg->svcs[0].per_source, 3);
	ck_assert_uint_eq(cfg->svcs[1].per_source, 5);
	ck_assert_str_eq(cfg->svcs[0].env[0], "PATH=" CONFIG_DEFAULT_PATH);
	ck_assert_str_eq(cfg->svcs[0].env[1], "A=1");
	ck_assert_str_eq(cfg->svcs[1].env[1], "B=2");
	ck_assert_ptr_null(cfg->svcs[1].env[2]);
	ck_assert(cfg->svcs[1].only_from.set);
	ck_assert_uint_eq(cfg->svcs[1].per_source_prefix6, 64);
	ck_assert(cfg->svcs[1].udp_loop_guard);
	ck_assert_int_eq(cfg->svcs[1].umask, -1);
	config_unref(cfg);
}
END_TEST

START_TEST(users_and_errors)
{
	/* A user sockd may switch to as whoever runs the tests: itself. */
	struct passwd *pw = getpwuid(geteuid());
	char text[512];
	struct config *cfg;

	ck_assert_ptr_nonnull(pw);
	snprintf(text, sizeof(text), "services = (\n" SVC("a", 7000,
	    "user = \"%s\"; umask = \"027\"; rate = 5;") "\n);\n", pw->pw_name);
	cfg = load(text);
	ck_assert_msg(cfg != NULL, "%s", err.text);
	ck_assert(cfg->svcs[0].set_ids);
	ck_assert_uint_eq(cfg->svcs[0].uid, geteuid());
	ck_assert_int_ge(cfg->svcs[0].ngroups, 1);
	ck_assert_int_eq(cfg->svcs[0].umask, 027);
	ck_assert_uint_eq(cfg->svcs[0].rate_burst, 5);
	config_unref(cfg);

	/* The global section's errors are reported once, at their line. */
	cfg = load("sockd = {\n  user = \"no-such-user\"; };\nservices = (\n"
	    SVC("a", 7000, "") ",\n" SVC("b", 7001, "") "\n);\n");
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err.text, "sockd.conf:2: sockd: user \"no-such-user\" "
	    "does not exist\n"), "%s", err.text);
	ck_assert_uint_eq(err.count, 1);

	cfg = load("services = (\n" SVC("a", 7000,
	    "\nrate_burst = 3;\ngroup = \"no-such-group\";") "\n);\n");
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err.text, ":3: service \"a\": rate_burst: set 'rate'"),
	    "%s", err.text);
	ck_assert(strstr(err.text, ":4: service \"a\": group \"no-such-group\""));
}
END_TEST

START_TEST(dual_stack_conflicts)
{
	struct config *cfg = load("services = (\n"
	    SVC("a", 7000, "address = [\"::\", \"127.0.0.1\"];") "\n);\n");

	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err.text, "127.0.0.1 port 7000 is already used"),
	    "%s", err.text);
	cfg = load("services = (\n"
	    SVC("a", 7000, "address = [\"::\", \"127.0.0.1\"]; v6only = true;") ",\n"
	    SVC("b", 7000, "address = \"127.0.0.2\";") "\n);\n");
	ck_assert_msg(cfg != NULL, "%s", err.text);
	ck_assert_uint_eq(cfg->svcs[0].naddrs, 2);
	config_unref(cfg);
}
END_TEST

Suite *
config_controls_suite(void)
{
	Suite *s = suite_create("config controls");

	tu_tcase(s, "controls", NULL, teardown, 0, global_defaults,
	    users_and_errors, dual_stack_conflicts, NULL);
	return s;
}
