/*
 * The TLS module (src/tls/tlsmod.h): a daemon without a TLS service maps no
 * OpenSSL, and maps it once a reload adds one, which then serves; a
 * module that cannot be loaded is an error of the configuration that
 * needs it, naming the service's tls group and the module's path, and no
 * matter to one that does not.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "integ_util.h"

static char out[8192];

/* Whether pid maps a file whose name has part. */
static bool
maps(pid_t pid, const char *part)
{
	char path[64], line[1024];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/maps", (long)pid);
	ck_assert_ptr_nonnull(f = fopen(path, "re"));
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, part) != NULL;
	fclose(f);
	return found;
}

/* A plain /bin/cat service on plain, and with tls a TLS one on tls. */
static const char *
conf(uint16_t plain, uint16_t tls, bool with_tls)
{
	char svc[512] = "";

	if (with_tls)
		snprintf(svc, sizeof(svc), ",\n{ name = \"t\"; protocol = \"tcp\"; "
		    "address = \"127.0.0.1\"; port = %u; server = \"/bin/cat\";\n"
		    "  tls = { certificate = \"server.pem\"; key = \"server.key\"; "
		    "}; }", tls);
	return tu_write("sockd.conf", "services = (\n{ name = \"p\"; protocol = "
	    "\"tcp\"; address = \"127.0.0.1\"; port = %u; server = \"/bin/cat\"; "
	    "}%s );\n", plain, svc);
}

static const char *
through_tls(uint16_t port)
{
	it_sh(out, sizeof(out), "cd %s && %s %u --send 'bob\\n'", tu_tmpdir(),
	    tu_path("tests/tls_client.py"), port);
	return out;
}

START_TEST(openssl_only_with_a_tls_service)
{
	uint16_t plain = tu_free_port(), tls = tu_free_port();
	struct daemon *d;
	char line[64];
	int fd;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf(plain, tls, false));
	ck_assert_int_ge(fd = tu_connect(plain), 0);
	it_send(fd, "plain\n");
	tu_read_until(fd, line, sizeof(line), "plain\n", IT_WAIT);
	close(fd);
	ck_assert(!maps(d->pid, "libssl"));
	ck_assert(!maps(d->pid, "libcrypto"));
	ck_assert(!maps(d->pid, "sockd-tls.so"));
	/* A reload that adds a TLS service loads the module, and it serves. */
	conf(plain, tls, true);
	kill(d->pid, SIGHUP);
	ck_assert_msg(tu_wait_log(d, "reloaded", IT_WAIT), "%s", it_tail(d->log));
	ck_assert_str_eq(through_tls(tls), "bob\n");
	ck_assert(maps(d->pid, "sockd-tls.so"));
	ck_assert(maps(d->pid, "libssl"));
	it_stop(d);
}
END_TEST

START_TEST(a_daemon_started_with_tls_serves_it)
{
	uint16_t plain = tu_free_port(), tls = tu_free_port();
	struct daemon *d;

	it_selfsigned("server", "localhost", 30);
	d = it_start(conf(plain, tls, true));
	ck_assert(maps(d->pid, "sockd-tls.so"));
	ck_assert_str_eq(through_tls(tls), "bob\n");
	it_stop(d);
}
END_TEST

/*
 * A sockd beside a file that is no module: a configuration with a TLS
 * service fails -t at its tls group, naming the file; one without passes.
 */
START_TEST(a_broken_module_is_a_load_error)
{
	char bin[PATH_MAX], sockd[PATH_MAX + 16], mod[PATH_MAX + 16];
	char want[sizeof(mod) + 128];
	const char *c;
	int rc;

	it_selfsigned("server", "localhost", 30);
	snprintf(bin, sizeof(bin), "%s/bin", tu_tmpdir());
	ck_assert_int_eq(mkdir(bin, 0755), 0);
	snprintf(sockd, sizeof(sockd), "%s/sockd", bin);
	snprintf(mod, sizeof(mod), "%s/sockd-tls.so", bin);
	ck_assert_int_eq(tu_copy_prog(tu_path("src/sockd"), sockd), 0);
	tu_write("bin/sockd-tls.so", "not a shared object\n");
	c = conf(tu_free_port(), tu_free_port(), true);
	rc = it_sh(out, sizeof(out), "%s -t -f %s", sockd, c);
	ck_assert_msg(rc != 0, "%s", out);
	snprintf(want, sizeof(want), "sockd.conf:4: service \"t\": tls: cannot "
	    "load the TLS module: %s: ", mod);
	ck_assert_msg(strstr(out, want), "%s\nnot in\n%s", want, out);
	c = conf(tu_free_port(), tu_free_port(), false);
	rc = it_sh(out, sizeof(out), "%s -t -f %s", sockd, c);
	ck_assert_msg(rc == 0, "%s", out);
}
END_TEST

/*
 * A sockd in a directory others may write to (a copy run as root from
 * /tmp): a module planted beside it is not loaded; the daemon looks where
 * it was installed instead.
 */
START_TEST(a_module_beside_a_writable_directory_is_not_loaded)
{
	char bin[PATH_MAX], sockd[PATH_MAX + 16], mod[PATH_MAX + 16];
	const char *c;
	int rc;

	it_selfsigned("server", "localhost", 30);
	snprintf(bin, sizeof(bin), "%s/bin", tu_tmpdir());
	ck_assert_int_eq(mkdir(bin, 0755), 0);
	ck_assert_int_eq(chmod(bin, 01777), 0);
	snprintf(sockd, sizeof(sockd), "%s/sockd", bin);
	snprintf(mod, sizeof(mod), "%s/sockd-tls.so", bin);
	ck_assert_int_eq(tu_copy_prog(tu_path("src/sockd"), sockd), 0);
	tu_write("bin/sockd-tls.so", "not a shared object\n");
	c = conf(tu_free_port(), tu_free_port(), true);
	rc = it_sh(out, sizeof(out), "%s -t -f %s", sockd, c);
	ck_assert_msg(strstr(out, mod) == NULL, "%s was tried:\n%s", mod, out);
	ck_assert_msg(rc == 0 || strstr(out, "cannot load the TLS module: "),
	    "%s", out);
	/* A build tree of umask 002: the group that may write the module
	 * may write the binary too, so the module there is the one tried. */
	ck_assert_int_eq(chmod(bin, 0775), 0);
	ck_assert_int_eq(chmod(sockd, 0775), 0);
	rc = it_sh(out, sizeof(out), "%s -t -f %s", sockd, c);
	ck_assert_msg(rc != 0 && strstr(out, mod), "%s not tried:\n%s", mod, out);
}
END_TEST

Suite *
tlsmod_suite(void)
{
	Suite *s = suite_create("tlsmod");

	tu_tcase(s, "tlsmod", it_setup, it_teardown, IT_TIMEOUT,
	    openssl_only_with_a_tls_service, a_daemon_started_with_tls_serves_it,
	    a_broken_module_is_a_load_error,
	    a_module_beside_a_writable_directory_is_not_loaded, NULL);
	return s;
}
