/*
 * Hostile configuration files: config_load() answers every one with a
 * FILE:LINE error, in bounded time, without blocking in open() or letting
 * libconfig exit. Check's per-test timeout turns a hang into a failure,
 * and an exit() inside config_load() into an error.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfgscan.h"
#include "config.h"
#include "testutil.h"

static struct cfgerr err;

#define GOOD_SVC "services = ( { name = \"g\"; protocol = \"tcp\"; port = 7001;" \
	" builtin = \"echo\"; } );\n"

static void
setup(void)
{
	char p[4200];

	/* Bait that would hang or kill libconfig 1.5 if it ever opened it. */
	snprintf(p, sizeof(p), "%s/fifo", tu_tmpdir());
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	snprintf(p, sizeof(p), "%s/dir", tu_tmpdir());
	ck_assert_int_eq(mkdir(p, 0755), 0);
}

static void
teardown(void)
{
	cfgerr_free(&err);
	tu_cleanup();
}

/* Writes len bytes (NULs allowed) to name in the temp dir. */
static const char *
write_raw(const char *name, const char *data, size_t len)
{
	static char p[4200];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", tu_tmpdir(), name);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
	fclose(fp);
	return p;
}

static struct config *
load_raw(const char *data, size_t len)
{
	cfgerr_free(&err);
	return config_load(write_raw("sockd.conf", data, len), &err);
}

static struct config *
load_text(const char *text)
{
	return load_raw(text, strlen(text));
}

/* Expects data refused with an error "sockd.conf:LINE: ...needle...". */
static void
expect_refused(const char *data, size_t len, int line, const char *needle)
{
	char where[64];
	struct config *cfg = load_raw(data, len);

	ck_assert_msg(cfg == NULL, "accepted: %.60s", data);
	if (line > 0)
		snprintf(where, sizeof(where), "sockd.conf:%d: ", line);
	else
		snprintf(where, sizeof(where), "sockd.conf: ");
	ck_assert_msg(err.text && strstr(err.text, where) && strstr(err.text, needle),
	    "wanted \"%s%s\" in:\n%s", where, needle, err.text ? err.text : "");
}

#define REFUSED(lit, line, needle) \
	expect_refused(lit, sizeof(lit) - 1, line, needle)

/* Item: a NUL byte used to hide an @include from the pre-scan. */
START_TEST(nul_byte)
{
	REFUSED("# \0\n@include \"fifo\"\n" GOOD_SVC, 1, "a NUL byte");
	REFUSED("@include \"dir\0\"\n" GOOD_SVC, 1, "a NUL byte");
	REFUSED("@include \"\0\"\n", 1, "a NUL byte");
	REFUSED(GOOD_SVC "a = 1;\0 b = 99999999999999999999;\n", 2, "a NUL byte");
	REFUSED("services = ( { name = \"d\\x00\"; protocol = \"tcp\";\n"
	    "port = 7001; builtin = \"echo\"; } );\n", 1, "cannot hold a NUL");
}
END_TEST

/* A FIFO, a device or a directory, named or included, is never opened. */
START_TEST(not_regular_files)
{
	char p[4200];

	REFUSED("@include \"fifo\"\n" GOOD_SVC, 1, "@include \"fifo\": not a regular file");
	REFUSED("\n@include \"dir\"\n" GOOD_SVC, 2, "@include \"dir\": not a regular file");
	REFUSED("\n\n @include \"/dev/zero\"\n" GOOD_SVC, 3, "not a regular file");
	REFUSED("@include \"missing.conf\"\n", 1, "No such file or directory");
	snprintf(p, sizeof(p), "%s/fifo", tu_tmpdir());
	ck_assert_ptr_null(config_load(p, &err));
	ck_assert_ptr_nonnull(strstr(err.text, "fifo: not a regular file"));
	cfgerr_free(&err);
	ck_assert_ptr_null(config_load("/dev/null", &err));
	ck_assert_ptr_nonnull(strstr(err.text, "/dev/null: not a regular file"));
}
END_TEST

/* libconfig 1.5 put its include directory in front of absolute paths. */
START_TEST(absolute_include)
{
	char text[8400];
	struct config *cfg;

	write_raw("sub.conf", GOOD_SVC, strlen(GOOD_SVC));
	snprintf(text, sizeof(text), "@include \"%s/sub.conf\"\n", tu_tmpdir());
	cfg = load_text(text);
	ck_assert_msg(cfg != NULL, "%s", err.text);
	ck_assert_uint_eq(cfg->nsvcs, 1);
	/* The service says where it was defined: the real file. */
	ck_assert_ptr_nonnull(strstr(cfg->svcs[0].file, "/sub.conf"));
	config_unref(cfg);
}
END_TEST

/* Relative names start at the main file's directory, at any depth. */
START_TEST(nested_include)
{
	struct config *cfg;
	char p[4200];

	snprintf(p, sizeof(p), "%s/sub", tu_tmpdir());
	ck_assert_int_eq(mkdir(p, 0755), 0);
	tu_write("sub/a.conf", "@include \"sub/b.conf\"\n");
	tu_write("sub/b.conf", "services = ( { name = \"b\"; protocol = \"tcp\";\n"
	    "port = 0; builtin = \"echo\"; } );\n");
	cfg = load_text("@include \"sub/a.conf\"\n");
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err.text, "sub/b.conf:2: service \"b\": port: 0"),
	    "%s", err.text);
	REFUSED("@include \"sockd.conf\"\n", 1, "nested too deeply");
}
END_TEST

/* An @include in a comment is inert; in a string it is refused. */
START_TEST(include_in_comment_or_string)
{
	struct config *cfg;
	static const char commented[] = "/*\n@include \"fifo\"\n*/\n" GOOD_SVC;

	cfg = load_raw(commented, sizeof(commented) - 1);
	ck_assert_msg(cfg != NULL, "%s", err.text);
	config_unref(cfg);
	REFUSED("a = \"\n@include \"fifo\"\n\";\n" GOOD_SVC, 2, "@include inside a string");
}
END_TEST

static char *
repeat(const char *head, char c, size_t n, const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);
	char *s = malloc(h + n + t + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, head, h);
	memset(s + h, c, n);
	memcpy(s + h + n, tail, t + 1);
	return s;
}

/* Long tokens took libconfig 1.5 quadratic time; sizes are bounded. */
START_TEST(bounded_sizes)
{
	char *s;

	s = repeat("\"", 'x', CFGSCAN_FILE_MAX, "\" = 1;\n");
	expect_refused(s, strlen(s), 0, "larger than 1024 KiB");
	free(s);
	s = repeat(GOOD_SVC "\n# ", 'x', CFGSCAN_LINE_MAX, "\n");
	expect_refused(s, strlen(s), 3, "a line longer than 16 KiB");
	free(s);
	/* A string split over many short lines is one token all the same. */
	s = malloc(3 * CFGSCAN_STRING_MAX);
	ck_assert_ptr_nonnull(s);
	strcpy(s, GOOD_SVC "x = \"");
	for (int i = 0; i < CFGSCAN_STRING_MAX / 8 + 1; i++)
		strcat(s, "1234567\n");
	strcat(s, "\";\n");
	expect_refused(s, strlen(s), 2, "a string longer than 16 KiB");
	free(s);
}
END_TEST

/* Repeated includes multiply the text libconfig scans. */
START_TEST(include_fan_out)
{
	char *a = malloc(64 * 1024);

	ck_assert_ptr_nonnull(a);
	a[0] = '\0';
	for (int i = 0; i < 1000; i++)
		strcat(a, "@include \"b.conf\"\n");
	tu_write("a.conf", "%s", a);
	a[0] = '\0';
	for (int i = 0; i < 1000; i++)
		strcat(a, "@include \"c.conf\"\n");
	tu_write("b.conf", "%s", a);
	tu_write("c.conf", "# a comment to make this file a little longer\n");
	free(a);
	ck_assert_ptr_null(load_text("@include \"a.conf\"\n"));
	ck_assert_msg(strstr(err.text, "a.conf:") &&
	    strstr(err.text, "too much configuration text"), "%s", err.text);
}
END_TEST

/* include_dir: missing or unreadable is an error, never zero services. */
START_TEST(include_dir_errors)
{
	struct config *cfg;
	char p[4200], q[4200];

	REFUSED(GOOD_SVC "sockd = {\n include_dir = \"nowhere\"; };\n", 3,
	    "include_dir \"");
	snprintf(p, sizeof(p), "%s/conf.d", tu_tmpdir());
	ck_assert_int_eq(mkdir(p, 0755), 0);
	tu_write("conf.d/x.conf", GOOD_SVC);
	snprintf(p, sizeof(p), "%s/conf.d/.#y.conf", tu_tmpdir());
	ck_assert_int_eq(symlink("root@host.1234", p), 0);	/* Emacs' lock */
	tu_write("conf.d/.hidden.conf", "this is not read\n");
	cfg = load_text("sockd = { include_dir = \"conf.d\"; };\n");
	ck_assert_msg(cfg != NULL, "%s", err.text);
	ck_assert_uint_eq(cfg->nsvcs, 1);
	config_unref(cfg);
	snprintf(q, sizeof(q), "%s/conf.d/z.conf", tu_tmpdir());
	ck_assert_int_eq(symlink("gone.conf", q), 0);
	cfg = load_text("sockd = { include_dir = \"conf.d\"; };\n");
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err.text, "z.conf: No such file or directory"), "%s",
	    err.text);
}
END_TEST

/* After a bad port, no other service is said to collide on port 0. */
START_TEST(bad_port_no_collisions)
{
	static const char text[] = "services = (\n"
	    " { name = \"a\"; protocol = \"tcp\"; port = 70000; builtin = \"echo\"; },\n"
	    " { name = \"b\"; protocol = \"tcp\"; port = \"42401\"; builtin = \"echo\"; },\n"
	    " { name = \"c\"; protocol = \"tcp\"; port = 4294967303; builtin = \"echo\"; },\n"
	    " { name = \"d\"; protocol = \"tcp\"; port = 7002; builtin = \"echo\"; }\n);\n";

	ck_assert_ptr_null(load_raw(text, sizeof(text) - 1));
	ck_assert_uint_eq(err.count, 3);
	ck_assert_ptr_null(strstr(err.text, "already used"));
}
END_TEST

START_TEST(range_wording)
{
	REFUSED("services = ( { name = \"s\"; protocol = \"tcp\"; port = 7;\n"
	    "server = \"/bin/true\"; nice = 40; } );\n", 2,
	    "nice: 40 is out of range (from -20 to 19)");
}
END_TEST

/* As root: a server the handler's user cannot execute is an error. */
START_TEST(server_not_executable_by_user)
{
	char text[8400];
	snprintf(text, sizeof(text), "%s/private", tu_tmpdir());
	ck_assert_int_eq(mkdir(text, 0755), 0);
	tu_write("private/h", "#!/bin/sh\n");
	snprintf(text, sizeof(text), "%s/private/h", tu_tmpdir());
	ck_assert_int_eq(chmod(text, 0700), 0);
	snprintf(text, sizeof(text), "services = ( { name = \"s\"; protocol = \"tcp\";\n"
	    "port = 7; server = \"%s/private/h\"; user = \"nobody\"; } );\n",
	    tu_tmpdir());
	expect_refused(text, strlen(text), 2, "user nobody cannot execute");
	snprintf(text, sizeof(text), "%s/private", tu_tmpdir());
	ck_assert_int_eq(chmod(text, 0700), 0);
	snprintf(text, sizeof(text), "%s/private/h", tu_tmpdir());
	ck_assert_int_eq(chmod(text, 0755), 0);
	snprintf(text, sizeof(text), "services = ( { name = \"s\"; protocol = \"tcp\";\n"
	    "port = 7; server = \"%s/private/h\"; user = \"nobody\"; } );\n",
	    tu_tmpdir());
	expect_refused(text, strlen(text), 2, "user nobody cannot enter");
}
END_TEST

/*
 * The corpus of tests/fuzz/corpus: each file loads or is refused, in
 * this process, without a hang or an exit.
 */
START_TEST(fuzz_corpus)
{
	const char *dir = tu_path("tests/fuzz/corpus");
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), loaded = 0;

	ck_assert_int_gt(n, 2);
	for (int i = 0; i < n; i++) {
		char p[8400];
		struct config *cfg;
		if (ents[i]->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, ents[i]->d_name);
			cfgerr_free(&err);
			cfg = config_load(p, &err);
			ck_assert_msg(cfg != NULL || (err.count > 0 && err.text),
			    "%s: refused without an error", p);
			loaded += cfg != NULL;
			config_unref(cfg);
		}
		free(ents[i]);
	}
	free(ents);
	ck_assert_int_gt(loaded, 0);
}
END_TEST

Suite *
cfgscan_suite(void)
{
	Suite *s = suite_create("hostile config");
	TCase *tc;

	tc = tu_tcase(s, "hostile", setup, teardown, 20, nul_byte,
	    not_regular_files, absolute_include, nested_include,
	    include_in_comment_or_string, bounded_sizes, include_fan_out,
	    include_dir_errors, bad_port_no_collisions, range_wording,
	    fuzz_corpus, NULL);
	tu_add_test(tc, server_not_executable_by_user, tu_root_skip());
	return s;
}
