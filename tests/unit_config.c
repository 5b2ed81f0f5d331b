/* config_load(): every rule, and the line each error points at. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
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

/* Loads text, expects failure and that some line holds both needles. */
static void
expect_error(const char *text, int line, const char *needle)
{
	char prefix[64];
	struct config *cfg = load(text);

	ck_assert_msg(cfg == NULL, "config accepted:\n%s", text);
	ck_assert_ptr_nonnull(err.text);
	snprintf(prefix, sizeof(prefix), "sockd.conf:%d: ", line);
	for (char *l = err.text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *end = strchr(l, '\n'), one[1024];
		size_t n = end ? (size_t)(end - l) : strlen(l);
		snprintf(one, sizeof(one), "%.*s", (int)n, l);
		if (strstr(one, prefix) && strstr(one, needle))
			return;
	}
	ck_abort_msg("no error at line %d with \"%s\" in:\n%s", line, needle, err.text);
}

#define SVC(body) "services = (\n{ name = \"s\"; protocol = \"tcp\"; port = 7000;\n" body " }\n);\n"

START_TEST(defaults)
{
	struct config *cfg = load(SVC("server = \"/bin/true\";"));

	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->nsvcs, 1);
	ck_assert_uint_eq(cfg->nenabled, 1);
	ck_assert_uint_eq(cfg->global.max_children, CONFIG_DEFAULT_MAX_CHILDREN);
	ck_assert_ptr_null(cfg->global.pidfile);
	struct svc_conf *sc = &cfg->svcs[0];
	ck_assert_str_eq(sc->name, "s");
	ck_assert_int_eq(sc->proto, PROTO_TCP);
	ck_assert_uint_eq(sc->port, 7000);
	ck_assert(addr_is_any(&sc->addrs[0]));
	ck_assert_str_eq(sc->server, "/bin/true");
	ck_assert_str_eq(sc->argv[0], "true");
	ck_assert_ptr_null(sc->argv[1]);
	ck_assert(!sc->wait);
	ck_assert_uint_eq(sc->instances, 0);
	ck_assert(!sc->disabled);
	ck_assert_int_eq(sc->line, 2);
	config_unref(cfg);
}
END_TEST

START_TEST(full_service)
{
	struct config *cfg = load(
	    "sockd = { max_children = 7; pidfile = \"/run/x.pid\"; };\n"
	    "services = (\n"
	    " { name = \"u-1.x_y\"; protocol = \"udp\"; port = 65535; address = \"127.0.0.2\";\n"
	    "   server = \"/bin/echo\"; args = [\"echo\", \"-n\", \"hi\"]; instances = 3; },\n"
	    " { name = \"d\"; protocol = \"udp\"; port = 13; builtin = \"daytime\"; },\n"
	    " { name = \"off\"; protocol = \"tcp\"; port = 13; builtin = \"time\"; disabled = true; }\n"
	    ");\n");

	ck_assert_msg(cfg != NULL, "%s", err.text);
	ck_assert_uint_eq(cfg->global.max_children, 7);
	ck_assert_str_eq(cfg->global.pidfile, "/run/x.pid");
	ck_assert_uint_eq(cfg->nsvcs, 3);
	ck_assert_uint_eq(cfg->nenabled, 2);
	struct svc_conf *u = &cfg->svcs[0], *d = &cfg->svcs[1];
	ck_assert_int_eq(u->proto, PROTO_UDP);
	ck_assert(u->wait);			/* the udp server default */
	ck_assert_str_eq(u->argv[2], "hi");
	ck_assert_ptr_null(u->argv[3]);
	ck_assert_uint_eq(u->instances, 3);
	char a[ADDR_STRLEN];
	addr_format(&u->addrs[0], a);
	ck_assert_str_eq(a, "127.0.0.2");
	ck_assert(!d->wait);			/* built-ins never wait */
	ck_assert_ptr_eq(d->builtin, builtin_find("daytime"));
	ck_assert_ptr_null(d->server);
	ck_assert(cfg->svcs[2].disabled);
	config_unref(cfg);
}
END_TEST

START_TEST(relative_server)
{
	char dir[4096], expect[4200];
	struct config *cfg;

	snprintf(dir, sizeof(dir), "%s/bin", tu_tmpdir());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	tu_write("bin/h", "#!/bin/sh\n");
	snprintf(expect, sizeof(expect), "%s/bin/h", tu_tmpdir());
	ck_assert_int_eq(chmod(expect, 0755), 0);
	/* Resolved against the config's directory, not the cwd. */
	ck_assert_int_eq(chdir("/"), 0);
	cfg = load(SVC("server = \"bin/h\";"));
	ck_assert_msg(cfg != NULL, "%s", err.text);
	ck_assert_str_eq(cfg->svcs[0].server, expect);
	ck_assert_str_eq(cfg->svcs[0].argv[0], "h");
	config_unref(cfg);
}
END_TEST

START_TEST(syntax_error)
{
	expect_error("services = (\n{ name = \"s\"; port = ; }\n);\n", 2,
	    "syntax error");
}
END_TEST

START_TEST(wrong_type)
{
	expect_error(SVC("server = \"/bin/true\";\ninstances = \"80\";"), 4,
	    "instances: expected an integer");
	expect_error(SVC("server = \"/bin/true\";\nwait = 1;"), 4,
	    "wait: expected true or false");
	expect_error(SVC("server = \"/bin/true\";\nargs = [1, 2];"), 4,
	    "args: expected a list of strings");
	expect_error("sockd = { max_children = \"x\"; };\n" SVC("server = \"/bin/true\";"),
	    1, "max_children: expected an integer");
}
END_TEST

/* peer_socket is for a process per UDP peer alone; off by default. */
START_TEST(peer_socket_only_per_peer)
{
	struct config *cfg;

	expect_error(SVC("server = \"/bin/true\";\npeer_socket = true;"), 4,
	    "peer_socket: for a UDP server with wait = false");
	expect_error("services = (\n{ name = \"s\"; protocol = \"udp\"; port = 7000;"
	    " server = \"/bin/true\"; wait = true;\npeer_socket = true; }\n);\n", 3,
	    "peer_socket: for a UDP server");
	cfg = load("services = (\n{ name = \"s\"; protocol = \"udp\"; port = 7000;"
	    " server = \"/bin/true\"; wait = false; }\n);\n");
	ck_assert_ptr_nonnull(cfg);
	ck_assert(cfg->svcs[0].per_peer && !cfg->svcs[0].peer_socket);
	config_unref(cfg);
	cfg = load("services = (\n{ name = \"s\"; protocol = \"udp\"; port = 7000;"
	    " server = \"/bin/true\"; wait = false; peer_socket = true; }\n);\n");
	ck_assert_ptr_nonnull(cfg);
	ck_assert(cfg->svcs[0].peer_socket);
	config_unref(cfg);
}
END_TEST

START_TEST(out_of_range)
{
	expect_error("services = (\n{ name = \"s\"; protocol = \"tcp\";\nport = 0;"
	    " server = \"/bin/true\"; }\n);\n", 3, "port: 0 is out of range (from 1 to 65535)");
	expect_error("services = (\n{ name = \"s\"; protocol = \"tcp\";\nport = 65536;"
	    " server = \"/bin/true\"; }\n);\n", 3, "out of range");
	expect_error(SVC("server = \"/bin/true\";\ninstances = 0;"), 4,
	    "instances: 0 is out of range");
	expect_error("sockd = {\nmax_children = -1; };\n" SVC("server = \"/bin/true\";"),
	    2, "max_children: -1 is out of range");
}
END_TEST

/* libconfig 1.5 would hand back these 64-bit values truncated. */
START_TEST(int64_traps)
{
	expect_error("services = (\n{ name = \"s\"; protocol = \"tcp\";\n"
	    "port = 4294967303; server = \"/bin/true\"; }\n);\n", 3,
	    "port: 4294967303 is out of range");
	expect_error("services = (\n{ name = \"s\"; protocol = \"tcp\";\n"
	    "port = 99999999999L; server = \"/bin/true\"; }\n);\n", 3,
	    "port: 99999999999 is out of range");
	expect_error(SVC("server = \"/bin/true\";\ninstances = 4294967297;"), 4,
	    "out of range");
	/* Where no getter reads it, the literal is still reported. */
	expect_error(SVC("server = \"/bin/true\";\n/* 1 */ bogus = 0x1ffffffff;"), 4,
	    "bogus: 0x1ffffffff does not fit");
	/* Comments and strings are not numbers. */
	struct config *cfg = load(SVC("server = \"/bin/true\"; # 99999999999\n"
	    "args = [\"x\", \"99999999999\"]; /* 99999999999 */"));
	ck_assert_msg(cfg != NULL, "%s", err.text);
	config_unref(cfg);
}
END_TEST

START_TEST(missing_keys)
{
	expect_error("services = (\n{ protocol = \"tcp\"; port = 1; server = \"/bin/true\"; }\n);\n",
	    2, "service #1: missing key 'name'");
	expect_error("services = (\n{ name = \"s\"; port = 1; server = \"/bin/true\"; }\n);\n",
	    2, "service \"s\": missing key 'protocol'");
	expect_error("services = (\n{ name = \"s\"; protocol = \"udp\"; builtin = \"echo\"; }\n);\n",
	    2, "missing key 'port'");
	expect_error("sockd = { max_children = 5; };\n", 1, "missing 'services' list");
}
END_TEST

START_TEST(unknown_key_suggests)
{
	expect_error(SVC("server = \"/bin/true\";\ninstance = 3;"), 4,
	    "unknown key 'instance' (did you mean 'instances'?)");
	expect_error(SVC("sever = \"/bin/true\";"), 3,
	    "unknown key 'sever' (did you mean 'server'?)");
	expect_error(SVC("server = \"/bin/true\";\nzzzzzzzzzz = 3;"), 4,
	    "unknown key 'zzzzzzzzzz'");
	expect_error("sockd = {\n max_child = 4; };\n" SVC("server = \"/bin/true\";"), 2,
	    "did you mean 'max_children'?");
	expect_error("servces = ();\n", 1, "did you mean 'services'?");
}
END_TEST

START_TEST(bad_values)
{
	expect_error("services = (\n{ name = \"a b\"; protocol = \"tcp\"; port = 1; "
	    "server = \"/bin/true\"; }\n);\n", 2, "name \"a b\"");
	expect_error(SVC("server = \"/bin/true\";\naddress = \"localhost\";"), 4,
	    "address \"localhost\" is not an IP address literal");
	expect_error("services = (\n{ name = \"s\";\nprotocol = \"sctp\"; port = 1; "
	    "server = \"/bin/true\"; }\n);\n", 3, "protocol \"sctp\"");
}
END_TEST

START_TEST(duplicate_name_and_port)
{
	expect_error("services = (\n"
	    "{ name = \"a\"; protocol = \"tcp\"; port = 7000; server = \"/bin/true\"; },\n"
	    "{ name = \"a\"; protocol = \"tcp\"; port = 7001; server = \"/bin/true\"; }\n);\n",
	    3, "service \"a\": duplicate name (first defined at ");
	expect_error("services = (\n"
	    "{ name = \"a\"; protocol = \"tcp\"; port = 7000; address = \"127.0.0.1\"; server = \"/bin/true\"; },\n"
	    "{ name = \"b\"; protocol = \"tcp\"; port = 7000; server = \"/bin/true\"; }\n);\n",
	    3, "tcp 0.0.0.0 port 7000 is already used by service \"a\"");
}
END_TEST

START_TEST(same_port_other_protocol_or_address)
{
	struct config *cfg = load("services = (\n"
	    "{ name = \"a\"; protocol = \"tcp\"; port = 7000; address = \"127.0.0.1\"; server = \"/bin/true\"; },\n"
	    "{ name = \"b\"; protocol = \"udp\"; port = 7000; address = \"127.0.0.1\"; builtin = \"echo\"; },\n"
	    "{ name = \"c\"; protocol = \"tcp\"; port = 7000; address = \"127.0.0.2\"; server = \"/bin/true\"; },\n"
	    "{ name = \"d\"; protocol = \"tcp\"; port = 7000; server = \"/bin/true\"; disabled = true; }\n);\n");

	ck_assert_msg(cfg != NULL, "%s", err.text);
	config_unref(cfg);
}
END_TEST

START_TEST(server_or_builtin)
{
	expect_error(SVC("server = \"/bin/true\"; builtin = \"echo\";"), 2,
	    "either 'server' or 'builtin', not both");
	expect_error(SVC(""), 2, "missing key 'server' or 'builtin'");
	expect_error(SVC("builtin = \"qotd\";"), 3, "unknown builtin \"qotd\"");
	expect_error(SVC("builtin = \"echo\";\nargs = [\"x\"];"), 4,
	    "args: not allowed with a builtin");
	expect_error(SVC("builtin = \"echo\";\nwait = true;"), 4,
	    "built-in services cannot wait");
}
END_TEST

/* NULL unless /tmp lets root execute a mode-644 file (modes ignored). */
static const char *
modes_skip(void)
{
	char path[] = "/tmp/sockd-mode.XXXXXX";
	int fd = mkstemp(path);
	bool ignored;

	if (fd == -1)
		return "cannot create a file under /tmp";
	close(fd);
	ignored = chmod(path, 0644) == -1 || access(path, X_OK) == 0;
	unlink(path);
	return ignored ? "the file system of /tmp ignores execute bits" : NULL;
}

START_TEST(server_not_executable)
{
	char path[4200];

	expect_error(SVC("server = \"/nonexistent/x\";"), 3, "No such file or directory");
	expect_error(SVC("server = \"/tmp\";"), 3, "is not a regular file");
	tu_write("plain", "data\n");
	snprintf(path, sizeof(path), "%s/plain", tu_tmpdir());
	ck_assert_int_eq(chmod(path, 0644), 0);
	expect_error(SVC("server = \"plain\";"), 3, "is not executable");
}
END_TEST

START_TEST(udp_server_per_peer)
{
	struct config *cfg = load("services = (\n"
	    "{ name = \"p\"; protocol = \"udp\"; port = 7000; server = \"/bin/true\";\n"
	    "  wait = false; idle_timeout = 5; },\n"
	    "{ name = \"w\"; protocol = \"udp\"; port = 7001; server = \"/bin/true\"; }\n);\n");

	ck_assert_msg(cfg != NULL, "%s", err.text);
	ck_assert(cfg->svcs[0].per_peer);
	ck_assert_uint_eq(cfg->svcs[0].idle_timeout, 5);
	ck_assert(!cfg->svcs[1].per_peer);
	ck_assert(cfg->svcs[1].wait);
	config_unref(cfg);
	expect_error("services = (\n{ name = \"u\"; protocol = \"udp\"; port = 7000;\n"
	    "server = \"/bin/true\";\nwait = false; idle_timeout = 0; }\n);\n", 4,
	    "idle_timeout");
}
END_TEST

START_TEST(no_enabled_service)
{
	expect_error("services = (\n{ name = \"s\"; protocol = \"tcp\"; port = 1; "
	    "builtin = \"echo\"; disabled = true; }\n);\n", 1, "no enabled service");
	expect_error("services = ();\n", 1, "no enabled service");
}
END_TEST

START_TEST(all_errors_reported)
{
	struct config *cfg = load("services = (\n"
	    "{ name = \"a\"; protocol = \"tcp\"; port = 0; server = \"/bin/true\"; },\n"
	    "{ name = \"b\"; protocol = \"tcp\"; port = 1; builtin = \"nope\"; }\n);\n");

	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(err.count, 2);
	ck_assert_ptr_nonnull(strstr(err.text, "sockd.conf:2: service \"a\""));
	ck_assert_ptr_nonnull(strstr(err.text, "sockd.conf:3: service \"b\""));
}
END_TEST

/* libconfig 1.5 calls exit() on an @include of a directory. */
START_TEST(include_directory)
{
	char sub[4200];

	snprintf(sub, sizeof(sub), "%s/conf.d", tu_tmpdir());
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	expect_error("# comment\n@include \"conf.d\"\n", 2,
	    "@include \"conf.d\": not a regular file");
	expect_error("\n\n  @include \"missing.conf\"\n", 3,
	    "@include \"missing.conf\": No such file or directory");
}
END_TEST

START_TEST(include_file)
{
	struct config *cfg;

	tu_write("inc.conf", "services = (\n{ name = \"i\"; protocol = \"tcp\";\n"
	    "port = 0; builtin = \"echo\"; }\n);\n");
	cfg = load("@include \"inc.conf\"\n");
	ck_assert_ptr_null(cfg);
	/* The error names the included file and its line. */
	ck_assert_ptr_nonnull(strstr(err.text, "inc.conf:3: service \"i\": port: 0"));
}
END_TEST

START_TEST(unreadable_file)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/none.conf", tu_tmpdir());
	ck_assert_ptr_null(config_load(path, &err));
	ck_assert_ptr_nonnull(strstr(err.text, "none.conf: No such file or directory"));
	cfgerr_free(&err);
	ck_assert_ptr_null(config_load(tu_tmpdir(), &err));
	ck_assert_ptr_nonnull(strstr(err.text, "not a regular file"));
}
END_TEST

START_TEST(shipped_config)
{
	struct config *cfg = config_load(tu_path("etc/sockd.conf"), &err);

	ck_assert_msg(cfg != NULL, "%s", err.text);
	ck_assert_uint_eq(cfg->nenabled, 5);
	config_unref(cfg);
}
END_TEST

START_TEST(backlog_key)
{
	struct config *cfg = load(SVC("server = \"/bin/true\"; backlog = 64;"));

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg->svcs[0].backlog, 64);
	config_unref(cfg);
	cfg = load(SVC("server = \"/bin/true\";"));
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg->svcs[0].backlog, 0);	/* somaxconn */
	config_unref(cfg);
	expect_error(SVC("server = \"/bin/true\";\nbacklog = 0;"), 4,
	    "backlog: 0 is out of range");
	expect_error(SVC("server = \"/bin/true\";\nbacklog = 4294967303;"), 4,
	    "backlog");
	expect_error(SVC("server = \"/bin/true\";\nbacklog = \"big\";"), 4,
	    "backlog: expected an integer");
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tu_tcase(s, "load", NULL, teardown, 0, defaults, full_service,
	    relative_server, syntax_error, wrong_type, peer_socket_only_per_peer,
	    out_of_range, int64_traps, missing_keys, unknown_key_suggests, bad_values,
	    duplicate_name_and_port, same_port_other_protocol_or_address,
	    server_or_builtin, udp_server_per_peer, no_enabled_service,
	    all_errors_reported, include_directory, include_file,
	    unreadable_file, shipped_config, backlog_key, NULL);
	tu_add_test(tc, server_not_executable, modes_skip());
	return s;
}
