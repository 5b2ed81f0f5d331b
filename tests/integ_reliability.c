/*
 * Integration: what a handler or a client must not be able to do to the
 * daemon or hold it to. Handlers in their own sessions, and every process
 * group ended with its handler; no datagram loop through an exec'd UDP
 * service; no built-in child held by a client that never reads; handlers
 * left running by shutdown = "leave" keep a reader for their stderr.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

/* An executable shell script under the temp dir; returns its path, in
 * a buffer of its own (tu_write() reuses one). */
static const char *
script(const char *name, const char *text)
{
	static char path[4][4200];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s", tu_write(name, "#!/bin/sh\n%s", text));
	ck_assert_int_eq(chmod(p, 0755), 0);
	return p;
}

/* One TCP service on 127.0.0.1:port running server; extra adds keys. */
static const char *
server_conf(const char *global, const char *name, uint16_t port,
    const char *server, const char *extra)
{
	return tu_write("sockd.conf", "sockd = { %s };\n"
	    "services = (\n"
	    "  { name = \"%s\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "    server = \"%s\"; %s }\n"
	    ");\n", global, name, port, server, extra);
}

/* The value of "key=N" in the line the handler wrote first. */
static long
line_value(const char *buf, const char *key)
{
	char k[32];
	const char *p;

	snprintf(k, sizeof(k), "%s=", key);
	ck_assert_msg((p = strstr(buf, k)) != NULL, "no %s in \"%s\"", k, buf);
	return strtol(p + strlen(k), NULL, 10);
}

/*
 * Until they exec, handlers share the master's process group, so a
 * "kill 0" in one would signal the master too. The test blocks SIGTERM in
 * itself, which the old process group includes, and sees whether sockd
 * stays up and serves the next connection.
 */
START_TEST(handler_kill_group_spares_master)
{
	uint16_t port = tu_free_port();
	const char *srv = script("killer", "echo pid=$$\nkill -TERM 0\necho alive\n");
	struct daemon *d;
	sigset_t term;
	char buf[256];
	long pid;
	int fd;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &term, NULL), 0);
	d = it_start(server_conf("", "killer", port, srv, ""));
	for (int i = 0; i < 2; i++) {
		ck_assert_int_ge(fd = tu_connect(port), 0);
		tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
		pid = line_value(buf, "pid");
		const char *how = it_wait_reaped(d, "killer", pid, IT_WAIT);
		ck_assert_msg(how && strstr(how, "signal 15"),
		    "handler %ld: %s\n%s", pid, how ? how : "not reaped",
		    it_tail(d->log));
		close(fd);
		tu_drain_log(d);
		ck_assert_msg(strstr(d->log, "shutting down") == NULL,
		    "the handler's kill reached sockd:\n%s", it_tail(d->log));
	}
	it_stop(d);
}
END_TEST

/*
 * max_lifetime ends the handler's whole process group: a grandchild it
 * started in the background goes with it.
 */
START_TEST(max_lifetime_ends_group)
{
	uint16_t port = tu_free_port();
	const char *srv = script("parent",
	    "sleep 30 &\necho pid=$$ grandchild=$!\nexec sleep 30\n");
	struct daemon *d;
	char buf[256];
	long pid, gc;
	int fd, status;

	it_subreaper();		/* orphans come to us, and can be waited for */
	d = it_start(server_conf("", "parent", port, srv, "max_lifetime = 1;"));
	ck_assert_int_ge(fd = tu_connect(port), 0);
	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	pid = line_value(buf, "pid");
	gc = line_value(buf, "grandchild");
	ck_assert(tu_wait_log(d, "outlived max_lifetime", 3000));
	const char *how = it_wait_reaped(d, "parent", pid, IT_WAIT);
	ck_assert_msg(how && strstr(how, "signal 15"), "%s", how ? how : "?");
	status = it_wait_child(gc, IT_WAIT);
	if (status == -1)
		(void)kill(gc, SIGKILL);
	ck_assert_msg(status != -1, "grandchild %ld outlived its handler", gc);
	(void)waitpid(gc, NULL, WNOHANG);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
	    "grandchild: wait status %#x", status);
	close(fd);
	it_stop(d);
}
END_TEST

/* shutdown = "terminate" does the same for every handler's group. */
START_TEST(terminate_ends_group)
{
	uint16_t port = tu_free_port();
	const char *srv = script("parent",
	    "sleep 30 &\necho pid=$$ grandchild=$!\nexec sleep 30\n");
	struct daemon *d;
	char buf[256];
	long gc;
	int fd, status;

	it_subreaper();
	d = it_start(server_conf("shutdown = \"terminate\"; shutdown_grace = 2;",
	    "parent", port, srv, ""));
	ck_assert_int_ge(fd = tu_connect(port), 0);
	tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT);
	gc = line_value(buf, "grandchild");
	status = tu_stop(d, SIGTERM);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "sockd: %#x\n%s", status, it_tail(d->log));
	status = it_wait_child(gc, IT_WAIT);
	if (status == -1)
		(void)kill(gc, SIGKILL);
	ck_assert_msg(status != -1, "grandchild %ld outlived shutdown", gc);
	close(fd);
}
END_TEST

Suite *
reliability_suite(void)
{
	Suite *s = suite_create("reliability");
	TCase *tc;

	tc = tcase_create("groups");
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_add_test(tc, handler_kill_group_spares_master);
	tcase_add_test(tc, max_lifetime_ends_group);
	tcase_add_test(tc, terminate_ends_group);
	suite_add_tcase(s, tc);

	return s;
}
