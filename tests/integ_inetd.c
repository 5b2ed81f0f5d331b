/*
 * inetd_conf: a classic inetd.conf served beside sockd.conf's services,
 * re-read on SIGHUP, and a port both files claim refused with both lines.
 */
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

static const char *
me(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return pw ? pw->pw_name : "root";
}

static void
expect_udp(uint16_t port, const char *msg, const char *reply)
{
	char buf[256];
	ssize_t n = tu_udp_ask(port, 0, msg, strlen(msg), buf, sizeof(buf) - 1,
	    IT_WAIT);

	ck_assert_msg(n >= 0, "no reply to \"%s\"", msg);
	buf[n] = '\0';
	ck_assert_str_eq(buf, reply);
}

/* inetd.conf with hello-tcp on a, echo-udp on u, and b as the caller says. */
static void
write_inetd(uint16_t a, uint16_t u, uint16_t b, bool a_on, bool b_on)
{
	char la[512] = "", lb[512];

	if (a_on)
		snprintf(la, sizeof(la), "127.0.0.1:%u stream tcp4 nowait %s %s "
		    "hello-tcp\n", a, me(), it_path("services/hello-tcp"));
	snprintf(lb, sizeof(lb), "%s127.0.0.1:%u\tstream\ttcp4\tnowait.600\t%s\t%s\n",
	    b_on ? "" : "#<off># ", b, me(), it_path("services/hello-tcp"));
	tu_write("inetd.conf", "# written by the test\n\n%s"
	    "127.0.0.1:%u dgram udp4 wait %s %s echo-udp 1\n%s", la, u, me(),
	    it_path("services/echo-udp"), lb);
}

START_TEST(inetd_conf_served_and_reloaded)
{
	uint16_t a = tu_free_port(), u = tu_free_port(), b = tu_free_port(),
	    own = tu_free_port();
	const char *conf;
	struct daemon *d;

	write_inetd(a, u, b, true, false);
	conf = tu_write("sockd.conf", "sockd = { inetd_conf = \"inetd.conf\"; };\n"
	    "services = ({ name = \"own\"; protocol = \"tcp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; server = \"%s\"; });\n", own,
	    it_path("services/hello-tcp"));
	d = it_start(conf);
	ck_assert(it_hello(a, "inetd"));
	ck_assert(it_hello(own, "sockd"));
	expect_udp(u, "Michael", "Echo: Michael!");
	/* Switched off by update-inetd: not served. */
	ck_assert_int_eq(tu_connect(b), -1);
	/* Services named after the line's address (the log has their names). */
	ck_assert_msg(tu_wait_log(d, "127.0.0.1-", IT_WAIT), "%s", it_tail(d->log));

	/* update-inetd --enable b, a's line removed, then SIGHUP. */
	write_inetd(a, u, b, false, true);
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert_msg(tu_wait_log(d, "reloaded: 3 services", 10000), "%s",
	    it_tail(d->log));
	ck_assert(it_hello(b, "enabled"));
	ck_assert_int_eq(tu_connect(a), -1);
	ck_assert(it_hello(own, "kept"));
	it_stop(d);
}
END_TEST

/* The internal services on their /etc/services ports: root binds those. */
START_TEST(inetd_conf_internal)
{
	const char *conf;
	struct daemon *d;
	char buf[128];
	int fd;

	tu_write("inetd.conf", "127.0.0.1:daytime stream tcp4 nowait root internal\n"
	    "127.0.0.1:time dgram udp4 wait root internal\n");
	conf = tu_write("sockd.conf", "sockd = { inetd_conf = \"inetd.conf\"; };\n");
	d = it_start(conf);
	ck_assert_int_ge(fd = tu_connect(13), 0);
	ck_assert_int_gt(tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT), 10);
	close(fd);
	ck_assert_int_eq(tu_udp_ask(37, 0, "", 0, buf, sizeof(buf), IT_WAIT), 4);
	it_stop(d);
}
END_TEST

START_TEST(inetd_conf_port_clash)
{
	uint16_t p = tu_free_port();
	const char *conf;
	char out[4096];
	int status;

	tu_write("inetd.conf", "#\n%u stream tcp nowait %s %s hello-tcp\n", p, me(),
	    it_path("services/hello-tcp"));
	conf = tu_write("sockd.conf", "sockd = { inetd_conf = \"inetd.conf\"; };\n"
	    "services = (\n{ name = \"mine\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;\n"
	    "  server = \"%s\"; });\n", p, it_path("services/hello-tcp"));
	status = tu_run(out, sizeof(out), "-t", "-f", conf, NULL);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	ck_assert_msg(strstr(out, "inetd.conf:2: ") && strstr(out, "sockd.conf:3)")
	    && strstr(out, "\"mine\""), "%s", out);
}
END_TEST


/* Runs sockd --convert on path into the file out; returns the text. */
static const char *
convert(const char *path, const char *out)
{
	static char text[16384];
	int status = tu_run(text, sizeof(text), "--convert", path, NULL);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", text);
	tu_write(out, "%s", text);
	return text;
}

/* Debian's xinetd.d files (disable = yes) and one with every attribute. */
START_TEST(convert_xinetd)
{
	static const char *const debian[] = { "echo", "daytime", "time",
	    "chargen", "discard" };
	uint16_t p = tu_free_port();
	const char *text, *conf;
	char out[4096];
	struct daemon *d;

	it_mkdir("xinetd.d");
	for (size_t i = 0; i < 5; i++) {
		char name[64];
		snprintf(name, sizeof(name), "xinetd.d/%s", debian[i]);
		/* As Debian ships them, but for the user when not root: only
		 * root may name another, and -t checks disabled services too. */
		tu_write(name, "# default: off\nservice %s\n{\n\tdisable\t\t= yes\n"
		    "\ttype\t\t= INTERNAL\n\tid\t\t= %s-stream\n\tsocket_type\t= stream\n"
		    "\tprotocol\t= tcp\n\tuser\t\t= %s\n\twait\t\t= no\n}\n\n"
		    "service %s\n{\n\tdisable\t\t= yes\n\ttype\t\t= INTERNAL\n"
		    "\tid\t\t= %s-dgram\n\tsocket_type\t= dgram\n\tprotocol\t= udp\n"
		    "\tuser\t\t= %s\n\twait\t\t= yes\n}\n", debian[i], debian[i],
		    me(), debian[i], debian[i], me());
	}
	tu_write("xinetd.d/hello", "service hello\n{\n\ttype = UNLISTED\n"
	    "\tsocket_type = stream\n\tprotocol = tcp\n\tport = %u\n"
	    "\tbind = 127.0.0.1\n\twait = no\n\tuser = %s\n\tserver = %s\n"
	    "\tserver_args = 30\n\tonly_from = 127.0.0.0/8 localhost\n"
	    "\tno_access = 10.0.0.0/8\n\tinstances = 10\n\tper_source = 5\n"
	    "\tcps = 50 10\n\tenv = A=b\n\tpassenv = LANG\n\tumask = 022\n"
	    "\trlimit_files = 100\n\trlimit_stack = 8M\n\tredirect = 10.0.0.1 80\n"
	    "\tlog_on_success = HOST\n}\n", p, me(), it_path("services/hello-tcp"));
	tu_write("xinetd.d/skipped.dpkg-old", "garbage\n");
	tu_write("xinetd.conf", "defaults\n{\n\tlog_type = SYSLOG daemon info\n}\n"
	    "\nincludedir %s\n", it_tmp("xinetd.d"));
	text = convert(it_tmp("xinetd.conf"), "sockd.conf");
	ck_assert_msg(strstr(text, "name = \"daytime-dgram\";") &&
	    strstr(text, "builtin = \"chargen\";") &&
	    strstr(text, "disabled = true;") && strstr(text, "rate = 50;") &&
	    strstr(text, "# redirect = 10.0.0.1 80: sockd does not forward") &&
	    strstr(text, "\"localhost\" dropped") &&
	    strstr(text, "rlimits = { nofile = 100; };") &&
	    !strstr(text, "garbage"), "%s", text);
	conf = it_tmp("sockd.conf");
	ck_assert_msg(tu_run(out, sizeof(out), "-t", "-f", conf, NULL) == 0,
	    "%s\n%s", out, text);
	d = it_start(conf);
	ck_assert(it_hello(p, "converted"));
	it_stop(d);
}
END_TEST

/* An inetd.conf converted: the same services inetd_conf would make. */
START_TEST(convert_inetd_conf)
{
	uint16_t p = tu_free_port();
	const char *text;
	char out[4096];

	tu_write("inetd.conf", "127.0.0.1:%u stream tcp4 nowait.120 %s %s "
	    "hello-tcp\n#<off># echo stream tcp nowait %s internal\n"
	    "rstatd/1 dgram rpc/udp wait root /x x\n", p, me(),
	    it_path("services/hello-tcp"), me());
	text = convert(it_tmp("inetd.conf"), "sockd.conf");
	ck_assert_msg(strstr(text, "rate_burst = 120;") &&
	    strstr(text, "name = \"echo-tcp\";") &&
	    strstr(text, "line 3 not converted: protocol \"rpc/udp\""), "%s", text);
	ck_assert_msg(tu_run(out, sizeof(out), "-t", "-f", it_tmp("sockd.conf"),
	    NULL) == 0, "%s\n%s", out, text);
}
END_TEST

/*
 * xinetd's += and -= on lists: a service changes the defaults' list, and
 * what it ends with is what sockd gets; on another attribute, a comment.
 * The converted file serves: hello (127/8 left in only_from) answers, its
 * twin whose only_from -= leaves nothing lets no one in, as xinetd does.
 */
START_TEST(convert_list_operators)
{
	uint16_t p = tu_free_port(), q = tu_free_port();
	const char *text, *conf;
	char out[4096];
	struct daemon *d;
	int fd;

	tu_write("xinetd.conf", "defaults\n{\n\tonly_from = 127.0.0.0/8 "
	    "10.0.0.0/8\n\tenv = A=1\n\tpassenv = LANG\n}\n"
	    "service hello\n{\n\ttype = UNLISTED\n\tsocket_type = stream\n"
	    "\tprotocol = tcp\n\tport = %u\n\tbind = 127.0.0.1\n\twait = no\n"
	    "\tuser = %s\n\tuser += root\n\tserver = %s\n"
	    "\tonly_from -= 10.0.0.0/8\n\tonly_from += 192.0.2.0/24\n"
	    "\tenv += B=2\n\tpassenv -= LANG\n\tno_access = 192.0.2.7\n}\n"
	    "service closed\n{\n\ttype = UNLISTED\n\tsocket_type = stream\n"
	    "\tprotocol = tcp\n\tport = %u\n\tbind = 127.0.0.1\n\twait = no\n"
	    "\tuser = %s\n\tserver = %s\n"
	    "\tonly_from -= 127.0.0.0/8 10.0.0.0/8\n}\n", p, me(),
	    it_path("services/hello-tcp"), q, me(), it_path("services/hello-tcp"));
	text = convert(it_tmp("xinetd.conf"), "sockd.conf");
	ck_assert_msg(strstr(text, "only_from = [ \"127.0.0.0/8\", \"192.0.2.0/24\" ];")
	    && strstr(text, "env = [ \"A=1\", \"B=2\" ];") &&
	    strstr(text, "no_access = [ \"192.0.2.7\" ];") &&
	    strstr(text, "# user += root: xinetd takes += and -= on lists only") &&
	    strstr(text, "only_from = [  ];") &&
	    it_count(text, "passenv = [ \"LANG\" ];") == 1, "%s", text);
	conf = it_tmp("sockd.conf");
	ck_assert_msg(tu_run(out, sizeof(out), "-t", "-f", conf, NULL) == 0,
	    "%s\n%s", out, text);
	d = it_start(conf);
	ck_assert(it_hello(p, "operators"));
	ck_assert_int_ge(fd = tu_connect(q), 0);
	ck_assert_msg(it_wait_eof(fd, IT_WAIT), "closed let a client in");
	close(fd);
	ck_assert(it_wait_log_count(d, "access denied", 1, IT_WAIT));
	it_stop(d);
}
END_TEST

/* Runs sockd --convert path with its output and its messages apart. */
static int
convert_apart(const char *path, char *out, char *msg, size_t len)
{
	char cmd[8192];
	int status, fd;
	ssize_t n;

	snprintf(cmd, sizeof(cmd), "%s --convert %s >%s 2>%s", it_path("src/sockd"),
	    path, it_tmp("converted"), it_tmp("messages"));
	status = system(cmd);
	for (int i = 0; i < 2; i++) {
		char *buf = i ? msg : out;
		ck_assert_int_ge(fd = open(it_tmp(i ? "messages" : "converted"),
		    O_RDONLY | O_CLOEXEC), 0);
		n = read(fd, buf, len - 1);
		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	return status;
}

/*
 * Every service disabled (Debian's xinetd.d as shipped, an inetd.conf of
 * switched-off lines) or none: the file says it serves nothing, and so
 * does a message; it still converts, and passes -t.
 */
START_TEST(convert_nothing_served)
{
	static char out[16384], msg[1024];
	char check[4096];

	it_mkdir("xinetd.d");
	tu_write("xinetd.d/echo", "service echo\n{\n\tdisable = yes\n"
	    "\ttype = INTERNAL\n\tid = echo-stream\n\tsocket_type = stream\n"
	    "\tprotocol = tcp\n\tuser = %s\n\twait = no\n}\n", me());
	tu_write("xinetd.d/time", "defaults\n{\n\tdisabled = time\n}\n"
	    "service time\n{\n\ttype = INTERNAL\n\tsocket_type = stream\n"
	    "\tprotocol = tcp\n\tuser = %s\n\twait = no\n}\n", me());
	ck_assert_int_eq(convert_apart(it_tmp("xinetd.d"), out, msg, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "# every service in it is disabled") &&
	    it_count(out, "disabled = true;") == 2, "%s", out);
	ck_assert_msg(strstr(msg, "xinetd.d: every service (2) is disabled"), "%s",
	    msg);
	/* What sockd -t says of a file that serves nothing, as the message did. */
	ck_assert_int_ne(tu_run(check, sizeof(check), "-t", "-f",
	    it_tmp("converted"), NULL), 0);
	ck_assert_msg(strstr(check, "no enabled service"), "%s\n%s", check, out);

	tu_write("inetd.conf", "#<off># echo stream tcp nowait root internal\n");
	ck_assert_int_eq(convert_apart(it_tmp("inetd.conf"), out, msg, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "# every service in it is disabled"), "%s", out);
	ck_assert_msg(strstr(msg, "every service (1) is disabled"), "%s", msg);

	tu_write("inetd.conf", "# nothing\n");
	ck_assert_int_eq(convert_apart(it_tmp("inetd.conf"), out, msg, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "# no service in it"), "%s", out);
	ck_assert_msg(strstr(msg, "no service to convert"), "%s", msg);
}
END_TEST

Suite *
inetd_suite(void)
{
	Suite *s = suite_create("inetd");
	TCase *tc;

	tc = tu_tcase(s, "inetd", it_setup, it_teardown, IT_TIMEOUT,
	    inetd_conf_served_and_reloaded, inetd_conf_port_clash,
	    convert_xinetd, convert_inetd_conf, convert_list_operators,
	    convert_nothing_served, NULL);
	tu_add_test(tc, inetd_conf_internal, tu_root_skip());
	return s;
}
