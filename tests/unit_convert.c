/*
 * The seeds of the inetd.conf and xinetd fuzz targets (tests/fuzz/
 * corpus-inetd, corpus-xinetd), replayed: every inetd.conf line parses or
 * is refused with a message, and sockd --convert's output on every
 * xinetd seed (Debian's xinetd.d files among them) is well-formed
 * libconfig.
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "inetdconf.h"
#include "testutil.h"

/* Lines by kind over the whole inetd.conf corpus. */
struct lines {
	int services, errors;
};

static void
inetd_seed(const char *name, const uint8_t *in, size_t len, void *arg)
{
	struct lines *n = arg;
	char *text = strndup((const char *)in, len), *save = NULL, *host = NULL;
	char err[INETDCONF_ERRLEN];
	struct inetdconf_entry e;

	ck_assert_ptr_nonnull(text);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		switch (inetdconf_parse(l, host, &e, err)) {
		case INETDCONF_ERROR:
			ck_assert_msg(err[0] != '\0', "%s: \"%s\": no message", name, l);
			n->errors++;
			inetdconf_free(&e);
			break;
		case INETDCONF_HOST:
			free(host);
			host = e.host ? strdup(e.host) : NULL;
			inetdconf_free(&e);
			break;
		case INETDCONF_SERVICE:
			n->services++;
			/* FALLTHROUGH */
		default:
			inetdconf_free(&e);
		}
	free(host);
	free(text);
}

START_TEST(inetd_corpus)
{
	struct lines n = { 0, 0 };

	(void)tu_corpus("tests/fuzz/corpus-inetd", inetd_seed, &n);
	ck_assert_int_gt(n.services, 5);
	ck_assert_int_gt(n.errors, 5);
}
END_TEST

static void
xinetd_seed(const char *name, const uint8_t *in, size_t len, void *arg)
{
	char path[4200], *out = NULL, *err = NULL;
	size_t olen = 0, elen = 0;
	FILE *o = open_memstream(&out, &olen), *e = open_memstream(&err, &elen);
	config_t cf;

	(void)in;
	(void)len;
	ck_assert(o && e);
	snprintf(path, sizeof(path), "%s/%s", tu_path("tests/fuzz/corpus-xinetd"),
	    name);
	(void)convert_run(path, o, e);
	fclose(o);
	fclose(e);
	config_init(&cf);
	ck_assert_msg(config_read_string(&cf, out) == CONFIG_TRUE,
	    "%s converted, line %d: %s:\n%s", name, config_error_line(&cf),
	    config_error_text(&cf), out);
	config_destroy(&cf);
	free(out);
	free(err);
	(*(int *)arg)++;
}

START_TEST(xinetd_corpus)
{
	int n = 0;

	(void)tu_corpus("tests/fuzz/corpus-xinetd", xinetd_seed, &n);
	ck_assert_int_gt(n, 12);
}
END_TEST

Suite *
convert_suite(void)
{
	Suite *s = suite_create("convert");
	TCase *tc = tcase_create("corpus");

	tcase_add_test(tc, inetd_corpus);
	tcase_add_test(tc, xinetd_corpus);
	suite_add_tcase(s, tc);
	return s;
}
