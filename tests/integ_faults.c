/*
 * Integration: trouble the master must live through. Resource faults
 * (no process or descriptor to spare) and what they log, services paused
 * by failure back-off, and signals sockd has no use for.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

/* The lines a resource-fault episode starts and ends with. */
#define FAULT_START "pausing it briefly"
#define FAULT_END "serving again after "

static const char *
hello_conf(uint16_t port)
{
	return tu_write("sockd.conf", "services = ({ name = \"h\"; protocol = \"tcp\"; "
	    "port = %u; address = \"127.0.0.1\"; server = \"%s\"; });\n", port,
	    it_path("services/hello-tcp"));
}

/* The number of failures the line ending a fault episode gives; -1: none. */
static long
fault_count(struct daemon *d)
{
	const char *p = strstr(d->log, FAULT_END);

	return p ? atol(p + strlen(FAULT_END)) : -1;
}

/*
 * Sets the soft limit of sockd running as nobody; returns the old one.
 * Without CAP_SYS_RESOURCE (as in many containers) only a process of the
 * same user may, so a child of ours becomes nobody to do it.
 */
static rlim_t
nobody_soft_limit(pid_t pid, int resource, rlim_t soft)
{
	struct rlimit got[2];
	int p[2], status;
	pid_t helper;

	ck_assert_int_eq(pipe(p), 0);
	if ((helper = fork()) == 0) {
		close(p[0]);
		if (setgid(65534) == -1 || setuid(65534) == -1 ||
		    prlimit(pid, resource, NULL, &got[0]) == -1)
			_exit(1);
		got[1] = (struct rlimit){ soft, got[0].rlim_max };
		if (prlimit(pid, resource, &got[1], NULL) == -1 ||
		    write(p[1], got, sizeof(got)) != sizeof(got))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(it_read_n(p[0], got, sizeof(got), IT_WAIT), sizeof(got));
	close(p[0]);
	ck_assert_int_eq(waitpid(helper, &status, 0), helper);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return got[0].rlim_cur;
}

/*
 * No process to spare (RLIMIT_NPROC, which root is exempt from, so sockd
 * runs as nobody): every client is accepted and closed unserved. That is
 * one episode, logged when it starts and when a child can be started
 * again, with the failures in between counted; meanwhile the pause grows,
 * so the failures within the window stay few.
 */
START_TEST(fork_fault_is_one_episode)
{
	uint16_t port = tu_free_port();
	char wrapper[4200], conf[4200];
	rlim_t old;
	struct daemon *d;
	int clients = 0;

	ck_assert_int_eq(chmod(tu_tmpdir(), 0755), 0);
	/* tu_write() returns a buffer of its own: copy what it gives. */
	snprintf(conf, sizeof(conf), "%s", hello_conf(port));
	snprintf(wrapper, sizeof(wrapper), "%s", tu_write("as-nobody", "#!/bin/sh\n"
	    "exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$@\"\n"));
	ck_assert_int_eq(chmod(wrapper, 0755), 0);
	ck_assert_int_eq(chmod(conf, 0644), 0);
	d = it_start_via(wrapper, conf);
	old = nobody_soft_limit(d->pid, RLIMIT_NPROC, 1);

	/* Clients, one after the other, for 1.5 s: each is closed unserved. */
	for (long end = tu_now_ms() + 1500; tu_now_ms() < end; clients++) {
		int fd = tu_connect(port);
		ck_assert_int_ge(fd, 0);
		ck_assert_msg(it_wait_eof(fd, IT_WAIT), "served while out of processes");
		close(fd);
	}
	tu_drain_log(d);
	ck_assert_msg(it_count(d->log, FAULT_START) == 1, "%d starts:\n%s",
	    it_count(d->log, FAULT_START), it_tail(d->log));
	ck_assert_ptr_nonnull(strstr(d->log, "cannot start a child"));
	/* The one line about the service: nothing said it resumed or worked. */
	ck_assert_msg(it_count(d->log, "service \"h\": ") == 1,
	    "more than the fault's first line:\n%s", it_tail(d->log));
	/* Pauses of 100, 200, 400 and 800 ms fill the window. */
	ck_assert_msg(clients <= 7, "%d clients failed within 1.5 s: the pause "
	    "does not grow", clients);

	(void)nobody_soft_limit(d->pid, RLIMIT_NPROC, old);
	ck_assert(it_hello(port, NULL));
	ck_assert(it_wait_log_count(d, FAULT_END, 1, IT_WAIT));
	ck_assert(it_hello(port, NULL));
	it_stop(d);
	ck_assert_int_eq(it_count(d->log, FAULT_START), 1);
	ck_assert_int_eq(it_count(d->log, FAULT_END), 1);
	ck_assert_int_eq(fault_count(d), clients);
}
END_TEST

/*
 * Out of descriptors, accept() fails while clients wait in the backlog:
 * one line when it starts, none while it lasts, one when accept() works.
 */
START_TEST(emfile_is_one_episode)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "services = ({ name = \"p\"; "
	    "protocol = \"tcp\"; port = %u; address = \"127.0.0.1\"; server = \"%s\"; "
	    "args = [\"probe\", \"hold\"]; });\n", port, it_probe()));
	struct rlimit rl, old;
	int fds[3], n;
	char buf[64];

	ck_assert_int_eq(prlimit(d->pid, RLIMIT_NOFILE, NULL, &old), 0);
	rl = (struct rlimit){ it_lowest_free_fd(d->pid), old.rlim_max };
	ck_assert_int_eq(prlimit(d->pid, RLIMIT_NOFILE, &rl, NULL), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_ge(fds[i] = tu_connect(port), 0);
	ck_assert_msg(tu_wait_log(d, FAULT_START, IT_WAIT), "%s", it_tail(d->log));
	/* Pauses of 100, 200, 400 and 800 ms: several retries, no line. */
	n = it_count(d->log, "service \"p\": ");
	ck_assert_msg(!it_wait_log_count(d, "service \"p\": ", n + 1, 2000),
	    "a line during the fault:\n%s", it_tail(d->log));
	ck_assert_int_eq(it_count(d->log, FAULT_START), 1);

	ck_assert_int_eq(prlimit(d->pid, RLIMIT_NOFILE, &old, NULL), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_gt(tu_read_until(fds[i], buf, sizeof(buf), "pid=",
		    IT_WAIT), 0);
		close(fds[i]);
	}
	ck_assert(it_wait_log_count(d, FAULT_END, 1, IT_WAIT));
	it_stop(d);
	ck_assert_int_eq(it_count(d->log, FAULT_START), 1);
	ck_assert_int_eq(it_count(d->log, FAULT_END), 1);
	ck_assert_int_ge(fault_count(d), 2);
}
END_TEST

/* A service whose handler fails at once, paused after its second failure. */
static struct daemon *
start_failing(uint16_t port, const char *extra)
{
	struct daemon *d = it_start(tu_write("sockd.conf",
	    "sockd = { fail_limit = 1; };\n"
	    "services = ({ name = \"bad\"; protocol = \"tcp\"; port = %u; "
	    "address = \"127.0.0.1\"; server = \"%s\"; args = [\"probe\", \"exit\", \"1\"]; "
	    "%s });\n", port, it_probe(), extra));

	for (int i = 0; i < 2; i++) {
		int fd = tu_connect(port);
		ck_assert_int_ge(fd, 0);
		ck_assert(it_wait_eof(fd, IT_WAIT));
		close(fd);
		ck_assert(it_wait_log_count(d, IT_LOG_EXIT "1", i + 1, IT_WAIT));
	}
	ck_assert_msg(tu_wait_log(d, "pausing for 1 s", IT_WAIT), "%s", it_tail(d->log));
	return d;
}

/*
 * Paused by back-off, a service tells its clients at once: accepted, sent
 * refuse_message, closed, and counted as refused because paused, rather
 * than left in the backlog for the pause (up to a minute). The master
 * does not spin meanwhile.
 */
START_TEST(paused_service_refuses)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_failing(port, "refuse_message = \"unavailable\\r\\n\";");
	double cpu = it_cpu_seconds(d->pid);
	char buf[64], line[96];
	int fd;

	fd = tu_connect(port);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(tu_read_until(fd, buf, sizeof(buf), NULL, IT_WAIT), 0);
	ck_assert_str_eq(buf, "unavailable\r\n");
	ck_assert(it_wait_eof(fd, IT_WAIT));
	snprintf(line, sizeof(line), "refused 127.0.0.1 port %u: service paused",
	    it_local_port(fd));
	close(fd);
	ck_assert_msg(tu_wait_log(d, line, IT_WAIT), "%s", it_tail(d->log));
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "1", 2, IT_WAIT));
	ck_assert_int_eq(it_count(d->log, IT_LOG_EXIT), 2);	/* nothing forked */

	ck_assert(tu_wait_log(d, "service \"bad\": pause over", IT_WAIT));
	/* Idle in epoll_wait for the rest of the pause. */
	ck_assert_msg(it_cpu_seconds(d->pid) - cpu < 0.5, "the master spun while paused");
	kill(d->pid, SIGUSR1);
	ck_assert_msg(tu_wait_log(d, "service \"bad\": accepted 2, refused 1 (", IT_WAIT),
	    "%s", it_tail(d->log));
	ck_assert_ptr_nonnull(strstr(d->log, ", paused 1), active 0"));
	/* Served again after the pause: it fails, and the next pause is longer. */
	fd = tu_connect(port);
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert(tu_wait_log(d, "pausing for 2 s", IT_WAIT));
	it_stop(d);
}
END_TEST

/* Without refuse_message the client is simply closed. */
START_TEST(paused_service_closes)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_failing(port, "");
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert_msg(tu_wait_log(d, ": service paused", IT_WAIT), "%s", it_tail(d->log));
	ck_assert_int_eq(it_count(d->log, IT_LOG_EXIT), 2);
	it_stop(d);
}
END_TEST

/* hello on port, with a pidfile in the temp dir. */
static struct daemon *
start_with_pidfile(uint16_t port)
{
	return it_start(tu_write("sockd.conf", "sockd = { pidfile = \"%s\"; };\n"
	    "services = ({ name = \"h\"; protocol = \"tcp\"; port = %u; "
	    "address = \"127.0.0.1\"; server = \"%s\"; });\n", it_tmp("sockd.pid"),
	    port, it_path("services/hello-tcp")));
}

static bool
pidfile_exists(void)
{
	return access(it_tmp("sockd.pid"), F_OK) == 0;
}

/*
 * Signals sockd has no use for, whose default would end it silently and
 * leave the pidfile: each is logged and ignored, and SIGTERM still ends
 * it cleanly.
 */
START_TEST(unused_signals_are_ignored)
{
	static const int sigs[] = { SIGALRM, SIGVTALRM, SIGPROF, SIGIO,
	    SIGPWR, SIGXCPU, 32, 33, 40, 64 };
	uint16_t port = tu_free_port();
	struct daemon *d = start_with_pidfile(port);
	char line[64];
	int status;

	ck_assert(pidfile_exists());
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ck_assert_int_eq(kill(d->pid, sigs[i]), 0);
		snprintf(line, sizeof(line), "ignoring signal %d (", sigs[i]);
		ck_assert_msg(tu_wait_log(d, line, IT_WAIT), "no \"%s\":\n%s", line,
		    it_tail(d->log));
		ck_assert_msg(it_hello(port, NULL), "not serving after signal %d", sigs[i]);
	}
	ck_assert_ptr_nonnull(strstr(d->log, "ignoring signal 14 (Alarm clock)"));
	/* A flood of one signal: its first line, and no line per signal. */
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(kill(d->pid, 50), 0);
	ck_assert(tu_wait_log(d, "ignoring signal 50 (", IT_WAIT));
	ck_assert(it_hello(port, NULL));
	ck_assert_int_le(it_count(d->log, "ignoring signal 50 ("), 2);
	status = tu_stop(d, SIGTERM);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x:\n%s",
	    status, it_tail(d->log));
	ck_assert(!pidfile_exists());
}
END_TEST

/* SIGQUIT is a shutdown like SIGTERM's: no core, the pidfile removed. */
START_TEST(sigquit_shuts_down)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_with_pidfile(port);
	int status;

	ck_assert(it_hello(port, NULL));
	status = tu_stop(d, SIGQUIT);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x:\n%s",
	    status, it_tail(d->log));
	ck_assert_ptr_nonnull(strstr(d->log, "Quit: shutting down"));
	ck_assert(!pidfile_exists());
}
END_TEST

/*
 * A fatal signal that cannot be read from the loop (a crash, or abort())
 * is still noted on stderr, the pidfile removed, and the signal's own
 * ending kept: the wait status says what happened.
 */
START_TEST(fatal_signal_is_noted)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_with_pidfile(port);
	struct rlimit nocore = { 0, 0 };
	int status;

	ck_assert_int_eq(prlimit(d->pid, RLIMIT_CORE, &nocore, NULL), 0);
	status = tu_stop(d, SIGABRT);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "status %#x:\n%s", status, it_tail(d->log));
	ck_assert_msg(strstr(d->log, "sockd: fatal signal 6 (Aborted)") != NULL,
	    "%s", it_tail(d->log));
	ck_assert(!pidfile_exists());
}
END_TEST

/*
 * A built-in child is forked, not exec'd, so nothing resets what sockd
 * catches, ignores or blocks but sockd itself: it must start clean.
 */
START_TEST(builtin_child_signals_default)
{
	uint16_t port = tu_free_port();
	struct daemon *d = it_start(tu_write("sockd.conf", "services = ({ name = \"e\"; "
	    "protocol = \"tcp\"; port = %u; address = \"127.0.0.1\"; "
	    "builtin = \"echo\"; });\n", port));
	int fd = tu_connect(port);
	char buf[8];
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	it_send(fd, "x");
	ck_assert_int_eq(it_read_n(fd, buf, 1, IT_WAIT), 1);	/* it runs */
	pid = it_conn_pid(d, "e", it_local_port(fd));
	ck_assert_int_gt(pid, 0);
	ck_assert_str_eq(tu_proc_status(pid, "SigBlk"), "0000000000000000");
	ck_assert_str_eq(tu_proc_status(pid, "SigIgn"), "0000000000000000");
	ck_assert_str_eq(tu_proc_status(pid, "SigCgt"), "0000000000000000");
	close(fd);
	it_stop(d);
}
END_TEST

Suite *
faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc;

	tc = tu_tcase(s, "resources", it_setup, it_teardown, IT_TIMEOUT,
	    emfile_is_one_episode, NULL);
	tu_add_test(tc, fork_fault_is_one_episode, tu_nobody_skip());
	tu_tcase(s, "backoff", it_setup, it_teardown, IT_TIMEOUT,
	    paused_service_refuses, paused_service_closes, NULL);
	tu_tcase(s, "signals", it_setup, it_teardown, IT_TIMEOUT,
	    unused_signals_are_ignored, sigquit_shuts_down,
	    fatal_signal_is_noted, builtin_child_signals_default, NULL);
	return s;
}
