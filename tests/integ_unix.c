/*
 * Integration: UNIX-domain services (protocol = "unix"): the peer's
 * credentials in the handler's environment, the user and group lists,
 * per_source per uid, the socket file's mode and owner, stale and live
 * files, and the file's life across reloads and exit.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

/* A listening socket at path, as another process's would be. */
static int
unix_listen(const char *path)
{
	struct sockaddr_un sun;
	socklen_t len = it_unix_addr(path, &sun);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

/* Connects, ends its side, and reads the whole answer into buf. */
static void
ask(const char *path, char *buf, size_t len)
{
	int fd = it_unix_connect(path);

	ck_assert_msg(fd >= 0, "connect %s: %s", path, strerror(errno));
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_int_ge(tu_read_until(fd, buf, len, NULL, IT_WAIT), 0);
	close(fd);
}

static const char *
probe_service(const char *name, const char *path, const char *mode,
    const char *extra)
{
	static char bufs[4][2048];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "{ name = \"%s\"; protocol = \"unix\"; "
	    "address = \"%s\"; server = \"%s\"; args = [\"probe\", \"%s\"]; %s }",
	    name, path, it_probe(), mode, extra ? extra : "");
	return b;
}

static bool
has_linef(const char *buf, const char *fmt, long v)
{
	char line[128];

	snprintf(line, sizeof(line), fmt, v);
	return it_has_line(buf, line);
}

START_TEST(handler_gets_peer_credentials)
{
	const char *path = it_tmp("api.sock");
	struct daemon *d = it_start(tu_write("sockd.conf", "services = (%s,\n"
	    "{ name = \"e\"; protocol = \"unix\"; address = \"@sockd-it-%ld\"; "
	    "builtin = \"echo\"; });\n",
	    probe_service("api", path, "env", "socket_mode = \"0600\";"),
	    (long)getpid()));
	char buf[65536], abstract[64];
	struct stat st;
	int fd;

	ask(path, buf, sizeof(buf));
	ck_assert_msg(it_has_line(buf, "env:PROTO=IPC"), "%s", buf);
	ck_assert_msg(has_linef(buf, "env:IPCREMOTEEUID=%ld", (long)geteuid()), "%s", buf);
	ck_assert_msg(has_linef(buf, "env:IPCREMOTEEGID=%ld", (long)getegid()), "%s", buf);
	ck_assert_msg(has_linef(buf, "env:IPCREMOTEPID=%ld", (long)getpid()), "%s", buf);
	ck_assert_msg(it_has_line(buf, "env:IPCCONNNUM=1"), "%s", buf);
	snprintf(abstract, sizeof(abstract), "env:IPCLOCALPATH=%s", path);
	ck_assert_msg(it_has_line(buf, abstract), "%s", buf);
	ck_assert_msg(!strstr(buf, "TCPREMOTE"), "%s", buf);
	ck_assert_msg(it_has_line(buf, "fd:0") && it_has_line(buf, "fd:1") &&
	    !it_has_line(buf, "fd:3"), "%s", buf);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert(tu_wait_log(d, "service \"api\": accepted uid", IT_WAIT));

	/* A built-in on an abstract name. */
	snprintf(abstract, sizeof(abstract), "@sockd-it-%ld", (long)getpid());
	ck_assert((fd = it_unix_connect(abstract)) >= 0);
	it_send(fd, "ping\n");
	ck_assert_int_eq(it_read_n(fd, buf, 5, IT_WAIT), 5);
	ck_assert(memcmp(buf, "ping\n", 5) == 0);
	close(fd);
	it_stop(d);
	ck_assert_msg(access(path, F_OK) == -1 && errno == ENOENT,
	    "%s outlived sockd", path);
}
END_TEST

/* The answer to a refused peer: the refusal message, then EOF. */
static void
expect_refused(const char *path)
{
	char buf[256];

	ask(path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "no\n");
}

START_TEST(peer_lists_decide)
{
	const char *a = it_tmp("a.sock"), *b = it_tmp("b.sock"), *c = it_tmp("c.sock");
	char bsvc[256], csvc[256], buf[65536];
	struct daemon *d;

	/* The lists name ids by number: names may not exist here. a: only
	 * another user; b: another user or our group; c: our group denied. */
	snprintf(bsvc, sizeof(bsvc), "only_users = \"%d\"; only_groups = "
	    "[\"%ld\"];", geteuid() == 65534 ? 0 : 65534, (long)getegid());
	snprintf(csvc, sizeof(csvc), "no_groups = \"%ld\";", (long)getegid());
	d = it_start(tu_write("sockd.conf", "sockd = { refuse_message = \"no\\n\"; };\n"
	    "services = (%s,\n%s,\n%s);\n",
	    probe_service("a", a, "env", geteuid() == 65534 ?
		"only_users = \"0\";" : "only_users = [\"65534\"];"),
	    probe_service("b", b, "env", bsvc), probe_service("c", c, "env", csvc)));

	expect_refused(a);
	snprintf(buf, sizeof(buf), "service \"a\": refused uid %ld: access denied",
	    (long)geteuid());
	ck_assert_msg(tu_wait_log(d, buf, IT_WAIT), "%s", it_tail(d->log));
	ask(b, buf, sizeof(buf));
	ck_assert_msg(it_has_line(buf, "env:PROTO=IPC"), "%s", buf);
	expect_refused(c);
	it_stop(d);
}
END_TEST

/* Unprivileged ids no account needs to have: the lists take numbers. */
#define PEER_UID 64100
#define PEER_GID 64101
#define PEER_EXTRA 64102

/* More supplementary groups than sockd reads without malloc(). */
#define PEER_MANY 200

/*
 * What a client answered at path gets: 0 served, 1 refused, 2 neither.
 * It runs in a child as PEER_UID with primary group PEER_GID and n
 * supplementary groups, the last of them PEER_EXTRA: the way a user of a
 * Debian system (a private primary group) is in "staff".
 */
static int
ask_as_peer(const char *path, size_t n)
{
	gid_t g[PEER_MANY];
	char buf[65536];
	pid_t pid;
	int fd, status;

	for (size_t i = 0; i < n; i++)
		g[i] = i + 1 == n ? PEER_EXTRA : 65000 + i;
	if ((pid = fork()) == 0) {
		/* The credentials are taken at connect(): drop before it. */
		if (setgroups(n, g) == -1 || setgid(PEER_GID) == -1 ||
		    setuid(PEER_UID) == -1 || (fd = it_unix_connect(path)) == -1)
			_exit(3);
		if (shutdown(fd, SHUT_WR) == -1 ||
		    tu_read_until(fd, buf, sizeof(buf), NULL, IT_WAIT) < 0)
			_exit(3);
		_exit(it_has_line(buf, "env:PROTO=IPC") ? 0 :
		    strcmp(buf, "no\n") == 0 ? 1 : 2);
	}
	ck_assert_int_gt(pid, 0);
	status = it_wait_child(pid, IT_WAIT);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) < 3,
	    "client as uid %d: status %#x", PEER_UID, status);
	return WEXITSTATUS(status);
}

/*
 * A group the peer is in only as a supplementary group counts as much as
 * its primary one: a member of an only_groups group is let in, a member
 * of a no_groups group is kept out.
 */
START_TEST(supplementary_groups_decide)
{
	char only[64], no[64], onlyl[64], nol[64];
	struct daemon *d;

	snprintf(only, sizeof(only), "@sockd-it-%ld-only", (long)getpid());
	snprintf(no, sizeof(no), "@sockd-it-%ld-no", (long)getpid());
	snprintf(onlyl, sizeof(onlyl), "only_groups = \"%d\";", PEER_EXTRA);
	snprintf(nol, sizeof(nol), "no_groups = [\"%d\"];", PEER_EXTRA);
	d = it_start(tu_write("sockd.conf", "sockd = { refuse_message = \"no\\n\"; };\n"
	    "services = (%s,\n%s);\n", probe_service("only", only, "env", onlyl),
	    probe_service("no", no, "env", nol)));

	ck_assert_int_eq(ask_as_peer(only, 1), 0);
	ck_assert_int_eq(ask_as_peer(no, 1), 1);
	ck_assert_msg(tu_wait_log(d, "service \"no\": refused uid 64100: access "
	    "denied", IT_WAIT), "%s", it_tail(d->log));
	/* Among many groups, as well as alone. */
	ck_assert_int_eq(ask_as_peer(only, PEER_MANY), 0);
	ck_assert_int_eq(ask_as_peer(no, PEER_MANY), 1);
	/* Without the supplementary group, the other way round. */
	ck_assert_int_eq(ask_as_peer(only, 0), 1);
	ck_assert_int_eq(ask_as_peer(no, 0), 0);
	it_stop(d);
}
END_TEST

/* Another process of ours (same uid, another pid) holds a connection. */
START_TEST(per_source_counts_per_uid)
{
	const char *path = it_tmp("h.sock");
	struct daemon *d = it_start(tu_write("sockd.conf", "sockd = { refuse_message "
	    "= \"busy\\n\"; };\nservices = (%s);\n",
	    probe_service("h", path, "hold", "per_source = 1;")));
	char buf[256];
	int p[2], q[2];
	pid_t holder;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	if ((holder = fork()) == 0) {
		int fd = it_unix_connect(path);

		char line[64];
		close(q[1]);
		if (fd == -1 || tu_read_until(fd, line, sizeof(line), "\n", IT_WAIT) <= 0)
			_exit(1);
		(void)!write(p[1], "held", 4);
		(void)!read(q[0], line, 1);	/* until the test is done */
		_exit(0);
	}
	close(p[1]);
	close(q[0]);
	ck_assert_int_eq(it_read_n(p[0], buf, 4, IT_WAIT), 4);
	ask(path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "busy\n");
	ck_assert(tu_wait_log(d, "per_source limit reached", IT_WAIT));
	close(q[1]);
	ck_assert(WIFEXITED(it_wait_child(holder, IT_WAIT)));
	close(p[0]);
	it_stop(d);
}
END_TEST

START_TEST(wait_mode_hands_over_the_socket)
{
	const char *path = it_tmp("w.sock");
	struct daemon *d = it_start(tu_write("sockd.conf", "services = (%s);\n",
	    probe_service("w", path, "accept", "wait = true;")));
	char buf[65536];

	ask(path, buf, sizeof(buf));
	ck_assert_msg(it_has_line(buf, "listening=1"), "%s", buf);
	ck_assert_msg(it_has_line(buf, "env:PROTO=IPC"), "%s", buf);
	ck_assert(tu_wait_log(d, IT_LOG_TOOK, IT_WAIT));
	it_stop(d);
}
END_TEST

START_TEST(stale_file_replaced_live_one_refused)
{
	const char *path = it_tmp("s.sock"), *conf;
	char out[8192], buf[65536];
	struct daemon *d;
	int fd, c;

	/* A crash leaves the file: bound, then closed without unlink(). */
	fd = unix_listen(path);
	close(fd);
	conf = tu_write("sockd.conf", "services = (%s);\n",
	    probe_service("s", path, "env", NULL));
	d = it_start(conf);
	ask(path, buf, sizeof(buf));
	ck_assert_msg(it_has_line(buf, "env:PROTO=IPC"), "%s", buf);
	it_stop(d);

	/* Another process listens there: sockd refuses to start, and that
	 * process keeps its socket. */
	fd = unix_listen(path);
	ck_assert_int_ne(tu_run(out, sizeof(out), "-F", "-f", conf, NULL), 0);
	ck_assert_msg(strstr(out, "unix ") && strstr(out, path) &&
	    strstr(out, "another process listens there"), "%s", out);
	ck_assert((c = it_unix_connect(path)) >= 0);
	ck_assert_int_ge(accept(fd, NULL, NULL), 0);
	close(c);
	close(fd);
}
END_TEST

START_TEST(socket_owner_and_group)
{
	const char *path = it_tmp("o.sock");
	struct daemon *d = it_start(tu_write("sockd.conf", "services = (%s);\n",
	    probe_service("o", path, "env", "socket_user = \"nobody\"; "
	    "socket_group = \"65534\"; socket_mode = \"0660\";")));
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_uid, 65534);
	ck_assert_int_eq(st.st_gid, 65534);
	ck_assert_int_eq(st.st_mode & 07777, 0660);
	it_stop(d);
}
END_TEST

START_TEST(reload_keeps_and_removes_files)
{
	const char *p1 = it_tmp("k.sock"), *p2 = it_tmp("r.sock");
	const char *conf = tu_write("sockd.conf", "services = (%s,\n%s);\n",
	    probe_service("k", p1, "env", NULL), probe_service("r", p2, "env", NULL));
	struct daemon *d = it_start(conf);
	struct stat before, after;
	char buf[65536];

	ck_assert_int_eq(stat(p1, &before), 0);
	ck_assert_int_eq(access(p2, F_OK), 0);
	tu_write("sockd.conf", "services = (%s);\n",
	    probe_service("k", p1, "env", "socket_mode = \"0604\";"));
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert(tu_wait_log(d, "reloaded: 1 services", IT_WAIT));
	ck_assert_msg(access(p2, F_OK) == -1 && errno == ENOENT,
	    "%s outlived its service", p2);
	ck_assert_int_eq(stat(p1, &after), 0);
	ck_assert_int_eq(after.st_ino, before.st_ino);
	ck_assert_int_eq(after.st_mode & 07777, 0604);
	ask(p1, buf, sizeof(buf));
	ck_assert_msg(it_has_line(buf, "env:PROTO=IPC"), "%s", buf);
	it_stop(d);
	ck_assert_msg(access(p1, F_OK) == -1 && errno == ENOENT,
	    "%s outlived sockd", p1);
}
END_TEST

/* Reloads d (its file was rewritten) and waits until it has. */
static void
reload(struct daemon *d)
{
	const char *done = "reloaded: 1 services";

	tu_drain_log(d);
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert_msg(it_wait_log_count(d, done, it_count(d->log, done) + 1,
	    IT_WAIT), "%s", it_tail(d->log));
}

/* Whether the file at path (never a link's target) has mode and uid. */
static void
expect_perms(const char *path, mode_t mode, uid_t uid)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_msg((st.st_mode & 07777) == mode && st.st_uid == uid,
	    "%s became %04o uid %d", path, st.st_mode & 07777, (int)st.st_uid);
}

/*
 * The owner of the socket's directory moves the socket away and puts a
 * symbolic link to a file of its choice (here the test's, standing for
 * /etc/shadow) at its path, then another socket: a reload that changes
 * socket_mode and socket_user must change neither, warn, and leave the
 * service serving on the socket it bound.
 */
START_TEST(reload_leaves_a_replaced_path_alone)
{
	const char *warning = "is no longer the socket sockd bound";
	char path[512], moved[512], target[512], buf[65536];
	struct daemon *d;
	int fd;

	snprintf(path, sizeof(path), "%s/s.sock", it_mkdir("run"));
	snprintf(moved, sizeof(moved), "%s/moved.sock", it_tmp("run"));
	snprintf(target, sizeof(target), "%s", tu_write("secret", "x\n"));
	ck_assert_int_eq(chmod(target, 0600), 0);
	d = it_start(tu_write("sockd.conf", "services = (%s);\n",
	    probe_service("s", path, "env", "socket_mode = \"0660\";")));
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(symlink(target, path), 0);
	tu_write("sockd.conf", "services = (%s);\n", probe_service("s", path,
	    "env", "socket_mode = \"0666\"; socket_user = \"65534\";"));
	reload(d);
	expect_perms(target, 0600, 0);
	ck_assert_msg(it_count(d->log, warning) == 1, "%s", it_tail(d->log));

	/* A socket, but not the one sockd bound. */
	ck_assert_int_eq(unlink(path), 0);
	fd = unix_listen(path);
	ck_assert_int_eq(chmod(path, 0600), 0);
	tu_write("sockd.conf", "services = (%s);\n", probe_service("s", path,
	    "env", "socket_mode = \"0606\";"));
	reload(d);
	expect_perms(path, 0600, 0);
	ck_assert_msg(it_count(d->log, warning) == 2, "%s", it_tail(d->log));
	close(fd);
	/* Unchanged too, and still served. */
	expect_perms(moved, 0660, 0);

	ask(moved, buf, sizeof(buf));
	ck_assert_msg(it_has_line(buf, "env:PROTO=IPC"), "%s", buf);
	it_stop(d);
}
END_TEST

START_TEST(config_errors)
{
	char out[8192], line[512];
	const char *conf = tu_write("bad.conf", "services = (\n"
	    "{ name = \"a\"; protocol = \"unix\"; address = \"rel.sock\"; builtin = \"echo\"; },\n"
	    "{ name = \"b\"; protocol = \"unix\"; port = 7; address = \"/x\"; builtin = \"echo\"; },\n"
	    "{ name = \"c\"; protocol = \"tcp\"; port = 7; socket_mode = \"0600\"; builtin = \"echo\"; },\n"
	    "{ name = \"d\"; protocol = \"unix\"; address = \"@n\"; only_from = \"10.0.0.0/8\"; builtin = \"echo\"; },\n"
	    "{ name = \"e\"; protocol = \"unix\"; address = \"/nonexistent-dir/x.sock\"; builtin = \"echo\"; },\n"
	    "{ name = \"f\"; protocol = \"unix\"; address = \"@n\"; only_users = \"no-such-user-x\"; builtin = \"echo\"; },\n"
	    "{ name = \"g\"; protocol = \"unix\"; address = \"%s/x.sock\"; builtin = \"echo\"; }\n"
	    ");\n", it_tmp("bad.conf"));

	ck_assert_int_ne(tu_run(out, sizeof(out), "-t", "-f", conf, NULL), 0);
	ck_assert_msg(strstr(out, "bad.conf:2: service \"a\": address \"rel.sock\""), "%s", out);
	ck_assert_msg(strstr(out, "bad.conf:3: service \"b\": port: a unix service"), "%s", out);
	ck_assert_msg(strstr(out, "bad.conf:4: service \"c\": socket_mode: only for"), "%s", out);
	ck_assert_msg(strstr(out, "bad.conf:5: service \"d\": only_from: not for"), "%s", out);
	/* The directory's own trouble, not a stale one: missing, or a file. */
	ck_assert_msg(strstr(out, "bad.conf:6: service \"e\": address \"/nonexistent-dir"
	    "/x.sock\": directory /nonexistent-dir: No such file or directory"), "%s", out);
	snprintf(line, sizeof(line), "bad.conf:8: service \"g\": address \"%s/x.sock\": "
	    "directory %s: Not a directory", it_tmp("bad.conf"), it_tmp("bad.conf"));
	ck_assert_msg(strstr(out, line), "%s", out);
	ck_assert_msg(strstr(out, "bad.conf:7: service \"f\": only_users: no user"), "%s", out);
}
END_TEST

Suite *
unix_suite(void)
{
	Suite *s = suite_create("unix");
	TCase *tc = tcase_create("unix");

	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_add_test(tc, handler_gets_peer_credentials);
	tcase_add_test(tc, peer_lists_decide);
	tcase_add_test(tc, per_source_counts_per_uid);
	tcase_add_test(tc, wait_mode_hands_over_the_socket);
	tcase_add_test(tc, stale_file_replaced_live_one_refused);
	tu_add_test(tc, supplementary_groups_decide, tu_root_skip());
	tu_add_test(tc, socket_owner_and_group, tu_root_skip());
	tcase_add_test(tc, reload_keeps_and_removes_files);
	tu_add_test(tc, reload_leaves_a_replaced_path_alone, tu_root_skip());
	tcase_add_test(tc, config_errors);
	suite_add_tcase(s, tc);
	return s;
}
