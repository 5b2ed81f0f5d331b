/*
 * STARTTLS (tls = { starttls = true; }), the UCSPI-TLS way, with
 * tests/starttls (a little SMTP) as the handler and the openssl command's
 * s_client -starttls smtp as the client: the handler starts in plain text
 * on the connection, asks for TLS on $SSLCTLFD, gets the handshake's
 * variables back after "Y" (none after "y"), and goes on through the
 * relay, jailed or not; a client that never asks stays plain to the end,
 * the handler holding the three descriptors and no other; a handshake
 * that fails after STARTTLS is the refusal tls_handshake; with listen_fds
 * the connection on 3 too, the three descriptors above it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "integ_util.h"

static char out[16384];

/* A STARTTLS service on port, its handler run with arg ("Y" or "y"),
 * with more keys. */
static const char *
conf_more(uint16_t port, const char *arg, const char *more)
{
	return tu_write("sockd.conf", "services = ( { name = \"smtp\"; protocol "
	    "= \"tcp\"; address = \"127.0.0.1\"; port = %u;\n  server = \"%s\"; "
	    "args = [ \"starttls\", \"%s\" ];\n  tls = { certificate = "
	    "\"server.pem\"; key = \"server.key\"; starttls = true; }; %s } );\n",
	    port, strstr(more, "jail") ? it_jail_prog("tests/starttls") :
	    tu_path("tests/starttls"), arg, more);
}

static const char *
conf(uint16_t port, const char *arg)
{
	return conf_more(port, arg, "");
}

/* s_client -starttls smtp sending lines (LF-ended) after the handshake. */
static const char *
s_client(uint16_t port, const char *lines)
{
	it_sh(out, sizeof(out), "printf '%s' | timeout 20 openssl s_client "
	    "-starttls smtp -connect 127.0.0.1:%u -quiet -crlf 2>/dev/null",
	    lines, port);
	return out;
}

START_TEST(s_client_starttls_smtp)
{
	uint16_t port = tu_free_port();
	struct daemon *d;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf(port, "Y"));
	s_client(port, "ENV\\nQUIT\\n");
	ck_assert_msg(strstr(out, "250-told SSL_PROTOCOL=TLSv1.3\r\n"), "%s", out);
	ck_assert_msg(strstr(out, "250-told SSL_CIPHER=TLS_"), "%s", out);
	/* What the handler had before: the descriptors, no SSL_PROTOCOL. */
	ck_assert_msg(strstr(out, "250-env SSLCTLFD="), "%s", out);
	ck_assert(strstr(out, "250-env SSLREADFD="));
	ck_assert(strstr(out, "250-env SSLWRITEFD="));
	ck_assert(!strstr(out, "250-env SSL_PROTOCOL"));
	ck_assert_msg(strstr(out, "221 bye\r\n"), "%s", out);
	ck_assert(tu_wait_log(d, "exited with status 0", IT_WAIT));
	it_stop(d);
}
END_TEST

START_TEST(lowercase_y_tells_nothing)
{
	uint16_t port = tu_free_port();
	struct daemon *d;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf(port, "y"));
	s_client(port, "ENV\\nQUIT\\n");
	ck_assert_msg(strstr(out, "250-env SSLCTLFD="), "%s", out);
	ck_assert(!strstr(out, "250-told"));
	ck_assert_msg(strstr(out, "221 bye\r\n"), "%s", out);
	it_stop(d);
}
END_TEST

START_TEST(a_client_that_never_asks_stays_plain)
{
	uint16_t port = tu_free_port();
	struct daemon *d;
	char buf[4096];
	int fd;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf(port, "Y"));
	ck_assert_int_ge(fd = tu_connect(port), 0);
	it_send(fd, "EHLO me\r\nENV\r\nFDS\r\nQUIT\r\n");
	tu_read_until(fd, buf, sizeof(buf), "221 bye\r\n", IT_WAIT);
	ck_assert_msg(strstr(buf, "250 STARTTLS\r\n"), "%s", buf);
	ck_assert_msg(strstr(buf, "250-env SSLCTLFD="), "%s", buf);
	/* 0, 1, 2 and the three of UCSPI-TLS: nothing of the relay's. */
	ck_assert_msg(strstr(buf, "250 fds 6\r\n"), "%s", buf);
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert(tu_wait_log(d, "exited with status 0", IT_WAIT));
	it_stop(d);
}
END_TEST

/*
 * listen_fds beside STARTTLS: the connection on 3 as well, LISTEN_FDS=1
 * and LISTEN_PID the handler's, and the UCSPI-TLS descriptors none of 0 to
 * 3, each what it should be, before the handshake and after it; more:
 * the service's other keys (a jail).
 */
static void
listen_fds_beside_starttls(const char *more)
{
	static const char want[] = "250 listen fds=1 pid_ok=1 fd3=conn "
	    "ctl=socket read=pipe-in write=pipe-out\r\n";
	uint16_t port = tu_free_port();
	struct daemon *d;
	char buf[4096];
	int fd;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf_more(port, "Y", more));
	ck_assert_int_ge(fd = tu_connect(port), 0);
	it_send(fd, "LISTEN\r\nFDS\r\nQUIT\r\n");
	tu_read_until(fd, buf, sizeof(buf), "221 bye\r\n", IT_WAIT);
	ck_assert_msg(strstr(buf, want), "%s", buf);
	/* 0, 1, 2, 3 and the three of UCSPI-TLS. */
	ck_assert_msg(strstr(buf, "250 fds 7\r\n"), "%s", buf);
	close(fd);
	s_client(port, "LISTEN\\nENV\\nQUIT\\n");
	ck_assert_msg(strstr(out, want), "%s", out);
	ck_assert_msg(strstr(out, "250-told SSL_PROTOCOL=TLSv1.3\r\n"), "%s", out);
	ck_assert_msg(strstr(out, "221 bye\r\n"), "%s", out);
	it_stop(d);
}

START_TEST(listen_fds_and_the_ucspi_descriptors)
{
	listen_fds_beside_starttls("listen_fds = true;");
}
END_TEST

START_TEST(listen_fds_and_the_ucspi_descriptors_jailed)
{
	listen_fds_beside_starttls("listen_fds = true; jail = { };");
}
END_TEST

/* Garbage where the ClientHello should be: the handler reads the end of
 * its pipe, the client's connection ends, and it is counted. */
START_TEST(a_failed_handshake_after_starttls_is_refused)
{
	uint16_t port = tu_free_port();
	struct daemon *d;
	char buf[4096];
	int fd;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf(port, "Y"));
	ck_assert_int_ge(fd = tu_connect(port), 0);
	it_send(fd, "STARTTLS\r\n");
	tu_read_until(fd, buf, sizeof(buf), "220 ready to start TLS\r\n", IT_WAIT);
	it_send(fd, "this is no ClientHello\r\n");
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert_msg(tu_wait_log(d, "TLS handshake with 127.0.0.1", IT_WAIT),
	    "%s", it_tail(d->log));
	ck_assert(tu_wait_log(d, "exited with status 124", IT_WAIT));
	kill(d->pid, SIGUSR1);
	ck_assert_msg(tu_wait_log(d, "tls_handshake 1)", IT_WAIT), "%s",
	    it_tail(d->log));
	it_stop(d);
}
END_TEST

/* A jailed handler gets the UCSPI-TLS descriptors through the jail's
 * steps (spawn.c) as an unjailed one does. */
START_TEST(jailed_handler_asks_for_tls)
{
	uint16_t port = tu_free_port();
	struct daemon *d;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf_more(port, "Y", "jail = { };"));
	s_client(port, "ENV\\nQUIT\\n");
	ck_assert_msg(strstr(out, "250-told SSL_PROTOCOL=TLSv1.3\r\n"), "%s", out);
	ck_assert_msg(strstr(out, "221 bye\r\n"), "%s", out);
	ck_assert(tu_wait_log(d, IT_LOG_EXIT "0", IT_WAIT));
	it_stop(d);
}
END_TEST

Suite *
starttls_suite(void)
{
	Suite *s = suite_create("starttls");

	/* Where a jail with tmp = true sees it, copied before tests fork. */
	(void)it_jail_prog("tests/starttls");
	TCase *tc = tu_tcase(s, "starttls", it_setup, it_teardown, IT_TIMEOUT,
	    s_client_starttls_smtp, lowercase_y_tells_nothing,
	    a_client_that_never_asks_stays_plain,
	    a_failed_handshake_after_starttls_is_refused,
	    listen_fds_and_the_ucspi_descriptors, NULL);

	tu_add_test(tc, jailed_handler_asks_for_tls, it_jail_skip());
	tu_add_test(tc, listen_fds_and_the_ucspi_descriptors_jailed, it_jail_skip());
	return s;
}
