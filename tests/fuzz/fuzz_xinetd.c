/*
 * libFuzzer target for the xinetd.conf reader (xinetd.h) and sockd
 * --convert (convert.h) on its records: the input is one file, put in a
 * memfd and read by its /proc/self/fd path. An input naming "include"
 * is left alone: include and includedir read the real file system, which
 * a fuzzer must not walk (tests/integ_inetd.c covers them). Besides a
 * crash or a sanitizer report, a finding is a broken promise: a record
 * without its file or line, an attribute with an empty key, a key with a
 * blank, an operator other than =, += and -=, or without its values; or
 * a converted sockd.conf that is not a well-formed libconfig file (a
 * value not escaped, a group not closed), whatever the input held.
 */
#include <libconfig.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "convert.h"
#include "xinetd.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_records(const struct xinetd_conf *xc)
{
	for (size_t i = 0; i < xc->nsvcs; i++) {
		const struct xinetd_svc *s = &xc->svcs[i];
		if (s->file == NULL || s->line <= 0 || (s->name && *s->name == '\0'))
			abort();
		for (size_t j = 0; j < s->nattrs; j++) {
			const struct xinetd_attr *a = &s->attrs[j];
			if (a->key == NULL || *a->key == '\0' ||
			    strpbrk(a->key, " \t") || a->values == NULL ||
			    !strchr("=+-", a->op) || a->op == '\0' || a->line <= 0)
				abort();
		}
	}
}

/* sockd --convert's output on path must parse as libconfig. */
static void
check_converted(const char *path)
{
	char *out = NULL, *err = NULL;
	size_t olen = 0, elen = 0;
	FILE *o = open_memstream(&out, &olen), *e = open_memstream(&err, &elen);
	config_t cf;

	if (o == NULL || e == NULL)
		abort();
	(void)convert_run(path, o, e);
	fclose(o);
	fclose(e);
	config_init(&cf);
	if (config_read_string(&cf, out) != CONFIG_TRUE) {
		fprintf(stderr, "converted, line %d: %s\n%s\n", config_error_line(&cf),
		    config_error_text(&cf), out);
		abort();
	}
	config_destroy(&cf);
	free(out);
	free(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xinetd_conf xc = { 0 };
	struct cfgerr e = { 0 };
	char path[64];
	int fd;

	if (memmem(data, size, "include", 7) ||
	    (fd = memfd_create("xinetd", MFD_CLOEXEC)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	(void)xinetd_read(&xc, path, &e);
	check_records(&xc);
	xinetd_free(&xc);
	cfgerr_free(&e);
	check_converted(path);
	close(fd);
	return 0;
}
