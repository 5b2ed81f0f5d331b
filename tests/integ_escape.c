/*
 * Integration: the jail against its prisoner. tests/escape runs inside
 * jails as a handler and tries every way out an attacker would (host
 * tunables and kernel files of /proc, host files, new namespaces, io_uring,
 * host sockets of every kind, the calls of the deny list, terminal
 * injection, other processes, filling /tmp): every attempt must fail, as
 * root's id of its own, as nobody, in a root of its own, with no_sockets,
 * and in a user namespace of a sockd that is not root. Then what is each
 * connection's own (its process limit), and the trial at load: what -t
 * passes a connection gets, and a trial dies with a killed master.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "integ_util.h"

static char buf[65536];

/* The host's targets: a TCP listener, a UNIX socket and an abstract one,
 * and a secret, the last two in a directory of /run the jail hides. */
static struct {
	char dir[64], sock[128], secret[128], abstract[64];
	uint16_t tcp;
	int fds[3];
} host;

static int
listen_unix(const char *path, bool abstract)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(sun);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (abstract) {
		snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "%s", path);
		len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path);
	} else
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

static void
host_setup(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd;

	it_setup();
	snprintf(host.dir, sizeof(host.dir), "/run/sockd-escape.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(host.dir));
	ck_assert_int_eq(chmod(host.dir, 0755), 0);
	snprintf(host.sock, sizeof(host.sock), "%s/sock", host.dir);
	snprintf(host.secret, sizeof(host.secret), "%s/secret", host.dir);
	snprintf(host.abstract, sizeof(host.abstract), "sockd-escape-%ld",
	    (long)getpid());
	fd = open(host.secret, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "flag{x}\n", 8), 8);
	close(fd);
	host.fds[0] = listen_unix(host.sock, false);
	ck_assert_int_eq(chmod(host.sock, 0666), 0);
	host.fds[1] = listen_unix(host.abstract, true);
	host.tcp = tu_free_port();
	sin.sin_port = htons(host.tcp);
	host.fds[2] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(host.fds[2], (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(host.fds[2], 8), 0);
}

static void
host_teardown(void)
{
	for (int i = 0; i < 3; i++)
		if (host.fds[i] > 0)
			close(host.fds[i]);
	(void)unlink(host.sock);
	(void)unlink(host.secret);
	(void)rmdir(host.dir);
	it_teardown();
}

/* The escape probe's arguments naming the host's targets. */
static const char *
targets(void)
{
	static char args[1024];

	snprintf(args, sizeof(args), "\"tcp=%u\", \"unix=%s\", \"abstract=%s\", "
	    "\"secret=%s\", \"pid=%ld\"", host.tcp, host.sock, host.abstract,
	    host.secret, (long)getpid());
	return args;
}

static const char *
service(uint16_t port, const char *extra, const char *jail)
{
	return tu_write("sockd.conf",
	    "services = ({ name = \"x\"; protocol = \"tcp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; server = \"%s\";\n"
	    "  args = [\"escape\", %s];\n  %s\n"
	    "  jail = { %s };\n});\n", port, it_jail_prog("tests/escape"),
	    targets(), extra, jail);
}

/* One connection's report, up to its "end". */
static const char *
ask(struct daemon *d, uint16_t port)
{
	return it_report(d, port, buf, sizeof(buf), IT_WAIT * 2);
}

/*
 * Every attempt held: no "ESCAPED" line, and all of them were made. Says
 * on stderr what was tried, for the record of the run.
 */
static void
all_held(const char *what, const char *r)
{
	int tried = it_count_prefix(r, "try:");
	const char *esc = strstr(r, "=ESCAPED");

	ck_assert_msg(esc == NULL, "%s: an escape worked:\n%s", what, r);
	ck_assert_msg(tried >= 45, "%s: only %d attempts:\n%s", what, tried, r);
	fprintf(stderr, "jail escapes (%s): %d tried, %d held\n", what, tried,
	    tried);
	ck_assert(it_has_line(r, "info:session=own"));
	ck_assert(it_has_line(r, "info:clone3_errno=ENOSYS"));
	ck_assert(!it_has_line(r, "info:uid=0"));
}

static void
run(const char *what, const char *extra, const char *jail)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(service(port, extra, jail));

	all_held(what, ask(d, port));
	it_stop(d);
}

/*
 * Root's handler naming no user runs as an id of its own, never uid 0:
 * one of the default jail_ids range, its gid the same; not necessarily
 * the first, which sockd skips while any process on the machine runs as
 * it (another test run's jailed handler); /tmp holds 16 MiB by default.
 */
START_TEST(escape_default_jail)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(service(port, "", ""));
	const char *r = ask(d, port), *u;
	unsigned long id = 0;
	char line[64];

	all_held("root, default jail, an id of its own", r);
	ck_assert_msg((u = strstr(r, "info:uid=")) != NULL, "%s", r);
	id = strtoul(u + sizeof("info:uid=") - 1, NULL, 10);
	ck_assert_msg(id >= 2113929216ul && id < 2113929216ul + 65536ul,
	    "uid %lu is no id of the default jail_ids:\n%s", id, r);
	snprintf(line, sizeof(line), "info:gid=%lu", id);
	ck_assert_msg(it_has_line(r, line), "%s", r);
	ck_assert(it_has_line(r, "info:tmp_filled=16"));
	ck_assert(it_has_line(r, "info:socket=ok"));
	it_stop(d);
}
END_TEST

START_TEST(escape_as_nobody)
{
	run("root, default jail, user nobody", "user = \"nobody\";", "");
}
END_TEST

START_TEST(escape_no_sockets)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(service(port, "",
	    "no_sockets = true; tmp_size = 1048576;"));
	const char *r = ask(d, port);

	all_held("root, no_sockets", r);
	ck_assert(it_has_line(r, "info:socket=EPERM"));
	ck_assert(it_has_line(r, "info:tmp_filled=1"));
	it_stop(d);
}
END_TEST

/*
 * The server itself set-user-ID root, as a careless install might leave
 * it: no_new_privs keeps its ids the handler's, and it tries all the rest
 * from there.
 */
START_TEST(escape_setuid_server)
{
	char prog[PATH_MAX + 16];
	uint16_t port = tu_free_port();
	struct daemon *d;
	const char *conf;

	snprintf(prog, sizeof(prog), "%s-suid", it_jail_prog("tests/escape"));
	ck_assert_int_eq(tu_copy_prog(it_jail_prog("tests/escape"), prog), 0);
	ck_assert_int_eq(chown(prog, 0, 0), 0);
	ck_assert_int_eq(chmod(prog, 04755), 0);
	conf = tu_write("sockd.conf",
	    "services = ({ name = \"x\"; protocol = \"tcp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; server = \"%s\";\n"
	    "  args = [\"escape\", %s];\n  jail = { };\n});\n", port, prog,
	    targets());
	d = it_start(conf);
	all_held("root, a set-user-ID root server", ask(d, port));
	it_stop(d);
	(void)unlink(prog);
}
END_TEST

/* A root of its own: only /usr and the probe's directory bound. */
START_TEST(escape_own_root)
{
	const char *root = it_mkdir("root");
	char dir[PATH_MAX], jail[2 * PATH_MAX + 200], p[PATH_MAX + 64];
	static const char *const dirs[] = { "/proc", "/dev", "/tmp", "/usr" };

	snprintf(dir, sizeof(dir), "%s", it_jail_prog("tests/escape"));
	*strrchr(dir, '/') = '\0';
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", root, dirs[i]);
		ck_assert_int_eq(mkdir(p, 0755), 0);
	}
	snprintf(p, sizeof(p), "%s%s", root, dir);
	ck_assert_int_eq(it_mkdirs(p), 0);
	snprintf(p, sizeof(p), "%s/lib", root);
	ck_assert_int_eq(symlink("usr/lib", p), 0);
	snprintf(p, sizeof(p), "%s/lib64", root);
	ck_assert_int_eq(symlink("usr/lib64", p), 0);
	snprintf(jail, sizeof(jail), "root = \"%s\"; bind = [\"/usr\", \"%s\"];",
	    root, dir);
	run("root, a root of its own", "", jail);
}
END_TEST

/* The tree is under /tmp or /root when cloned there: nobody must reach it. */
static const char *
nobody_wrapper(void)
{
	const char *w = tu_write("as-nobody",
	    "#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups "
	    "\"$@\"\n");

	ck_assert_int_eq(chmod(w, 0755), 0);
	ck_assert_int_eq(chmod(tu_tmpdir(), 0755), 0);
	return w;
}

/*
 * A sockd that is not root jails with a user namespace: -t tries every
 * step a connection takes (its /proc among them, which the kernel mounts
 * in a user namespace only while the old root is still there), so what
 * -t passes, a connection gets.
 */
START_TEST(escape_user_namespace)
{
	uint16_t port = tu_free_port();
	char conf[PATH_MAX];
	struct daemon *d;
	const char *r;

	snprintf(conf, sizeof(conf), "%s", service(port, "", "namespaces = "
	    "[\"user\", \"pid\", \"mount\", \"ipc\", \"uts\", \"net\"];"));
	ck_assert_int_eq(chmod(conf, 0644), 0);
	d = it_start_via(nobody_wrapper(), conf);
	r = ask(d, port);
	all_held("nobody's sockd, user namespace", r);
	ck_assert(it_has_line(r, "info:uid=65534"));
	it_stop(d);
}
END_TEST

/*
 * nproc counts a uid's processes on the whole host; an id of its own per
 * connection makes it the connection's own: one player holding every
 * process it may have leaves the next its full share.
 */
START_TEST(nproc_is_per_connection)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf",
	    "services = ({ name = \"x\"; protocol = \"tcp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; server = \"%s\";\n"
	    "  args = [\"escape\", \"nproc\", \"8\"]; rlimits = { nproc = 4; };\n"
	    "  jail = { };\n});\n", port, it_jail_prog("tests/escape")));
	int fds[3];

	for (int i = 0; i < 3; i++) {
		fds[i] = tu_connect(port);
		ck_assert_int_ge(fds[i], 0);
		tu_read_until(fds[i], buf, sizeof(buf), "\nend\n", IT_WAIT);
		/* The handler and three children: the limit of four. */
		ck_assert_msg(it_has_line(buf, "forked=3"), "connection %d: %s", i,
		    buf);
	}
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	it_stop(d);
}
END_TEST

/* The uid line of a report, or -1. */
static long
report_uid(const char *r)
{
	const char *u = strstr(r, "info:uid=");

	return u ? atol(u + 9) : -1;
}

/*
 * An upgrade in place hands over the handlers, and the new image never
 * gives a running handler's id to another connection.
 */
START_TEST(own_id_survives_upgrade)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf",
	    "services = ({ name = \"x\"; protocol = \"tcp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; server = \"%s\";\n"
	    "  args = [\"escape\", \"nproc\", \"0\"];\n  jail = { };\n});\n",
	    port, it_jail_prog("tests/escape")));
	int held = tu_connect(port), fd;
	long first, second;

	ck_assert_int_ge(held, 0);
	tu_read_until(held, buf, sizeof(buf), "\nend\n", IT_WAIT);
	first = report_uid(buf);
	ck_assert_int_gt(first, 0);
	ck_assert_int_eq(kill(d->pid, SIGUSR2), 0);
	ck_assert_msg(tu_wait_log(d, "upgraded in place", IT_WAIT * 2), "%s",
	    it_tail(d->log));
	fd = tu_connect(port);
	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, buf, sizeof(buf), "\nend\n", IT_WAIT);
	second = report_uid(buf);
	ck_assert_int_gt(second, 0);
	ck_assert_msg(second != first, "uid %ld given twice", first);
	close(fd);
	close(held);
	it_stop(d);
}
END_TEST

/*
 * jail_ids gives the range: two connections held at once run as its two
 * ids, one each, and the next waits for neither (it is refused a child).
 */
START_TEST(ids_from_the_configured_range)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf",
	    "sockd = { jail_ids = \"3000000000-3000000001\"; };\n"
	    "services = ({ name = \"x\"; protocol = \"tcp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; server = \"%s\";\n"
	    "  args = [\"escape\", \"nproc\", \"0\"];\n  jail = { };\n});\n",
	    port, it_jail_prog("tests/escape")));
	int fd[2];
	long uid[2];

	for (int i = 0; i < 2; i++) {
		fd[i] = tu_connect(port);
		ck_assert_int_ge(fd[i], 0);
		tu_read_until(fd[i], buf, sizeof(buf), "\nend\n", IT_WAIT);
		uid[i] = report_uid(buf);
	}
	ck_assert_msg((uid[0] == 3000000000 && uid[1] == 3000000001) ||
	    (uid[0] == 3000000001 && uid[1] == 3000000000), "uids %ld %ld",
	    uid[0], uid[1]);
	int third = tu_connect(port);
	ck_assert_int_ge(third, 0);
	ck_assert_msg(tu_wait_log(d, "jail_ids: every id in use", IT_WAIT), "%s",
	    it_tail(d->log));
	close(third);
	close(fd[0]);
	close(fd[1]);
	it_stop(d);
}
END_TEST

/*
 * A daemon whose services take no ids keeps no pool of them; a reload
 * that brings one in makes the pool, and its handler runs as the range's
 * id.
 */
START_TEST(ids_after_a_reload_brings_them)
{
	uint16_t port = tu_free_port(), other = tu_free_port();
	const char *path = tu_write("sockd.conf",
	    "sockd = { jail_ids = \"3000000000-3000000001\"; };\n"
	    "services = ({ name = \"e\"; protocol = \"tcp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; builtin = \"echo\"; });\n", other);
	struct daemon *d = it_start(path);

	tu_write("sockd.conf",
	    "sockd = { jail_ids = \"3000000000-3000000001\"; };\n"
	    "services = ({ name = \"x\"; protocol = \"tcp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; server = \"%s\";\n"
	    "  args = [\"escape\", \"nproc\", \"0\"];\n  jail = { };\n});\n",
	    port, it_jail_prog("tests/escape"));
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert_msg(tu_wait_log(d, "reloaded:", IT_WAIT), "%s", it_tail(d->log));
	int fd = tu_connect(port);
	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, buf, sizeof(buf), "\nend\n", IT_WAIT);
	long uid = report_uid(buf);
	ck_assert_msg(uid == 3000000000 || uid == 3000000001, "uid %ld", uid);
	close(fd);
	it_stop(d);
}
END_TEST

/* The pid namespace of pid, into ns; false if it is gone. */
static bool
pid_ns(pid_t pid, char *ns, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/ns/pid", (long)pid);
	if ((n = readlink(path, ns, len - 1)) <= 0)
		return false;
	ns[n] = '\0';
	return true;
}

/*
 * A descendant of pid (a child, or a child's child: the reload's checking
 * child tries the jails) in a pid namespace other than mine; 0 if none.
 */
static pid_t
jail_trial(pid_t pid, const char *mine, int depth)
{
	char path[128], line[4096], ns[64];
	pid_t found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)pid,
	    (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	for (char *t = strtok(line, " \n"); t && !found; t = strtok(NULL, " \n")) {
		pid_t c = atoi(t);
		if (pid_ns(c, ns, sizeof(ns)) && strcmp(ns, mine) != 0)
			found = c;
		else if (depth > 0)
			found = jail_trial(c, mine, depth - 1);
	}
	return found;
}

/*
 * The master killed while a reload tries a jail: the trial children (the
 * checking child's) hold no listener and die with it, so the port is free
 * again at once.
 */
START_TEST(trial_dies_with_master)
{
	uint16_t port = tu_free_port();
	char services[16384] = "", mine[64];
	struct daemon *d;
	pid_t trial = 0;

	/* Many jailed services make the trials a long window to catch. */
	for (int i = 0; i < 24; i++)
		snprintf(services + strlen(services), sizeof(services) -
		    strlen(services), "{ name = \"x%d\"; protocol = \"tcp\"; "
		    "port = %u; address = \"127.0.0.%d\"; server = \"%s\"; "
		    "args = [\"escape\"]; jail = { }; },\n", i, port, i + 1,
		    it_jail_prog("tests/escape"));
	services[strlen(services) - 2] = '\0';
	d = it_start(tu_write("sockd.conf", "services = (%s);\n", services));
	ck_assert(pid_ns(d->pid, mine, sizeof(mine)));
	for (int tries = 0; tries < 20 && trial == 0; tries++) {
		long until = tu_now_ms() + IT_WAIT;
		ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
		while (trial == 0 && tu_now_ms() < until &&
		    !tu_wait_log(d, "reloaded", 0))
			trial = jail_trial(d->pid, mine, 1);
		if (trial == 0)
			ck_assert(tu_wait_log(d, "reloaded", IT_WAIT));
	}
	ck_assert_msg(trial != 0, "no jail trial seen in 20 reloads");
	ck_assert_int_eq(kill(d->pid, SIGKILL), 0);
	(void)tu_kill_wait(d, SIGKILL, IT_WAIT);
	ck_assert_msg(it_pid_gone(trial, IT_WAIT), "trial %ld outlived the "
	    "master", (long)trial);
	ck_assert_msg(it_port_free(port, IT_WAIT),
	    "port %u still bound after the master died", port);
}
END_TEST

Suite *
escape_suite(void)
{
	Suite *s = suite_create("escape");
	const char *why = it_jail_skip();
	const char *nobody = why ? why : tu_nobody_skip();
	TCase *tc;

	(void)it_jail_prog("tests/escape");	/* copied now, before tests fork */
	(void)it_jail_prog("tests/probe");
	tc = tcase_create("escapes");
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_checked_fixture(tc, host_setup, host_teardown);
	tu_add_test(tc, escape_default_jail, why);
	tu_add_test(tc, escape_as_nobody, nobody);
	tu_add_test(tc, escape_no_sockets, why);
	tu_add_test(tc, escape_own_root, why);
	tu_add_test(tc, escape_setuid_server, why);
	tu_add_test(tc, escape_user_namespace, nobody);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounds");
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tu_add_test(tc, nproc_is_per_connection, why);
	tu_add_test(tc, trial_dies_with_master, why);
	tu_add_test(tc, own_id_survives_upgrade, why);
	tu_add_test(tc, ids_from_the_configured_range, why);
	tu_add_test(tc, ids_after_a_reload_brings_them, why);
	suite_add_tcase(s, tc);
	return s;
}
