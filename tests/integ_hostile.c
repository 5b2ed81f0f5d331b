/*
 * Hostile configuration files on a running daemon: a reload of any of
 * them fails with a FILE:LINE error while the master goes on serving, and
 * failed reloads cost the master nothing. sockd -t answers them too. And
 * a file that changes under a running service (a chdir removed).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "integ_util.h"

static uint16_t port;

/* An echo built-in on port, the configuration every test starts from. */
static const char *
good_conf(void)
{
	return tu_write("sockd.conf", "services = ( { name = \"e\"; protocol = \"tcp\"; address = \"127.0.0.1\";"
	    " port = %u; builtin = \"echo\"; } );\n", port);
}

static void
setup(void)
{
	it_setup();
	port = tu_free_port();
}

static bool
echoes(void)
{
	char buf[8];
	int fd = tu_connect(port);
	bool ok;

	if (fd == -1)
		return false;
	it_send(fd, "ping\n");
	ok = it_read_n(fd, buf, 5, IT_WAIT) == 5 && memcmp(buf, "ping\n", 5) == 0;
	close(fd);
	return ok;
}

/* Replaces the configuration with len raw bytes (NULs allowed). */
static void
write_conf(const char *data, size_t len)
{
	const char *path = it_tmp("sockd.conf");
	int fd;

	unlink(path);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), -1);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
reload_fails(struct daemon *d, int nth, const char *why)
{
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert_msg(it_wait_log_count(d, "reload failed; keeping the running "
	    "configuration", nth, IT_WAIT), "reload %d did not fail:\n%s", nth,
	    it_tail(d->log));
	ck_assert_msg(strstr(d->log, why), "no \"%s\" in:\n%s", why, it_tail(d->log));
	ck_assert_msg(echoes(), "not serving after reload %d", nth);
}

#define HOSTILE(lit) write_conf(lit, sizeof(lit) - 1)

START_TEST(reload_hostile_files)
{
	struct daemon *d = it_start(good_conf());
	char *big;
	int n = 0;

	ck_assert_int_eq(mkfifo(it_tmp("fifo"), 0600), 0);
	ck_assert_ptr_nonnull(it_mkdir("dir"));
	HOSTILE("# \0\n@include \"fifo\"\n");
	reload_fails(d, ++n, "sockd.conf:1: a NUL byte");
	HOSTILE("@include \"fifo\"\n");
	reload_fails(d, ++n, "sockd.conf:1: @include \"fifo\": not a regular file");
	HOSTILE("\n@include \"dir\"\n");
	reload_fails(d, ++n, "sockd.conf:2: @include \"dir\": not a regular file");
	HOSTILE("@include \"\0\"\n");
	reload_fails(d, ++n, "sockd.conf:1: a NUL byte");
	/* One long string where a setting name should be, in short lines. */
	ck_assert_ptr_nonnull(big = malloc(900 * 1024));
	memset(big, 'x', 900 * 1024);
	for (size_t i = 100; i < 900 * 1024; i += 100)
		big[i] = '\n';
	big[0] = '"';
	memcpy(big + 900 * 1024 - 6, "\" = 1;", 6);
	write_conf(big, 900 * 1024);
	free(big);
	reload_fails(d, ++n, "sockd.conf:1: a string longer than");
	/* The file itself a FIFO: never opened. */
	unlink(it_tmp("sockd.conf"));
	ck_assert_int_eq(rename(it_tmp("fifo"), it_tmp("sockd.conf")), 0);
	reload_fails(d, ++n, "sockd.conf: not a regular file");
	unlink(it_tmp("sockd.conf"));
	good_conf();
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert(it_wait_log_count(d, "reloaded: 1 services", 1, IT_WAIT));
	ck_assert(echoes());
	it_stop(d);
}
END_TEST

/*
 * libconfig 1.5 leaks the string it was reading when it meets a syntax
 * error: a reload of such a file must not grow the master.
 */
START_TEST(failed_reloads_do_not_grow_master)
{
	struct daemon *d = it_start(good_conf());
	size_t len = 12 * 1024;
	char *text = malloc(len + 16);
	long before, after;

	ck_assert_ptr_nonnull(text);
	text[0] = '"';
	memset(text + 1, 'x', len);
	for (size_t i = 100; i < len; i += 100)
		text[i] = '\n';
	strcpy(text + 1 + len, "\" = 1;\n");
	write_conf(text, strlen(text));
	free(text);
	for (int i = 1; i <= 5; i++)
		reload_fails(d, i, "syntax error");
	before = atol(tu_proc_status(d->pid, "VmRSS"));
	ck_assert_int_gt(before, 0);
	for (int i = 6; i <= 105; i++) {
		ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
		ck_assert_msg(it_wait_log_count(d, "reload failed;", i, IT_WAIT),
		    "reload %d did not fail:\n%s", i, it_tail(d->log));
	}
	after = atol(tu_proc_status(d->pid, "VmRSS"));
	ck_assert_int_gt(after, 0);
	/* 100 leaks of 12 KiB would be 1.2 MB. */
	ck_assert_msg(after - before < 600, "master RSS %ld kB -> %ld kB", before,
	    after);
	ck_assert(echoes());
	it_stop(d);
}
END_TEST

/* A reload must not drop what include_dir held when it is gone. */
START_TEST(include_dir_moved_away)
{
	uint16_t other = tu_free_port();
	const char *conf;
	struct daemon *d;
	int fd;

	it_mkdir("conf.d");
	tu_write("conf.d/other.conf", "services = ( { name = \"o\"; protocol = \"tcp\"; address = \"127.0.0.1\";"
	    " port = %u; builtin = \"echo\"; } );\n", other);
	conf = tu_write("sockd.conf", "sockd = { include_dir = \"conf.d\"; };\n"
	    "services = ( { name = \"e\"; protocol = \"tcp\"; address = \"127.0.0.1\"; port = %u;"
	    " builtin = \"echo\"; } );\n", port);
	d = it_start(conf);
	ck_assert_int_eq(rename(it_tmp("conf.d"), it_tmp("elsewhere")), 0);
	reload_fails(d, 1, "sockd.conf:1: include_dir \"");
	ck_assert_int_ne(fd = tu_connect(other), -1);
	it_send(fd, "x\n");
	ck_assert(it_read_n(fd, (char[2]){ 0 }, 2, IT_WAIT) == 2);
	close(fd);
	it_stop(d);
}
END_TEST

/* -t goes through the same checks, in bounded time. */
START_TEST(test_mode_hostile)
{
	char out[4096];

	ck_assert_int_eq(mkfifo(it_tmp("fifo"), 0600), 0);
	HOSTILE("# \0\n@include \"fifo\"\n");
	ck_assert_int_ne(tu_run(out, sizeof(out), "-t", "-f", it_tmp("sockd.conf"),
	    NULL), 0);
	ck_assert_msg(strstr(out, "sockd.conf:1: a NUL byte"), "%s", out);
	ck_assert_int_ne(tu_run(out, sizeof(out), "-t", "-f", it_tmp("fifo"), NULL), 0);
	ck_assert_msg(strstr(out, "fifo: not a regular file"), "%s", out);
}
END_TEST

/*
 * A built-in child whose set-up fails says which step failed, as the
 * master does for a server's child: here its chdir goes missing after
 * the load.
 */
START_TEST(builtin_setup_failure_reported)
{
	struct daemon *d;
	const char *conf;
	int fd;

	it_mkdir("gone");
	conf = tu_write("sockd.conf", "services = ( { name = \"e\"; protocol = \"tcp\"; address = \"127.0.0.1\";"
	    " port = %u; builtin = \"echo\"; chdir = \"%s\"; } );\n", port,
	    it_tmp("gone"));
	d = it_start(conf);
	ck_assert_int_eq(rmdir(it_tmp("gone")), 0);
	ck_assert_int_ne(fd = tu_connect(port), -1);
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert_msg(tu_wait_log(d, "cannot start the built-in: chdir: No such file "
	    "or directory", IT_WAIT), "%s", it_tail(d->log));
	ck_assert(tu_wait_log(d, "exited with status 126", IT_WAIT));
	it_stop(d);
}
END_TEST

Suite *
hostile_suite(void)
{
	Suite *s = suite_create("hostile");

	tu_tcase(s, "hostile", setup, it_teardown, IT_TIMEOUT,
	    reload_hostile_files, failed_reloads_do_not_grow_master,
	    include_dir_moved_away, test_mode_hostile,
	    builtin_setup_failure_reported, NULL);
	return s;
}
