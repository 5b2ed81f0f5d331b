/*
 * libFuzzer target for the inetd.conf line parser (inetdconf.h): the
 * input is a whole file, read line by line as the loader (cfginetd.c) and
 * sockd --convert read it, an "address:" line setting the default of
 * those after it. Besides a crash or a sanitizer report, a finding is a
 * broken promise: an error without its message, a service without its
 * service, protocol or user, a program that is not an absolute path,
 * more arguments than INETDCONF_MAXARGS, a name with a character a
 * sockd service name may not hold or longer than its buffer, or a rate
 * of nothing for a nowait.max.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inetdconf.h"

#define NAME_SIZE 64

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_name(const struct inetdconf_entry *e)
{
	char name[NAME_SIZE];
	bool whole = inetdconf_name(e, name, sizeof(name));
	size_t len = strnlen(name, sizeof(name));

	if (len == sizeof(name) || (whole && len == 0))
		abort();
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			abort();
}

static void
check_entry(const struct inetdconf_entry *e)
{
	size_t n = 0;
	unsigned rate, burst;

	if (e->service == NULL)
		return;
	if (*e->service == '\0' || e->protocol == NULL || e->user == NULL ||
	    *e->user == '\0' || (e->program && e->program[0] != '/'))
		abort();
	while (n <= INETDCONF_MAXARGS && e->argv[n])
		n++;
	if (n > INETDCONF_MAXARGS)
		abort();
	check_name(e);
	if (e->max) {
		inetdconf_rate(e->max, &rate, &burst);
		if (rate == 0 || burst != e->max)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *save = NULL, *host = NULL;
	char err[INETDCONF_ERRLEN];
	struct inetdconf_entry e;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		err[0] = '\0';
		switch (inetdconf_parse(line, host, &e, err)) {
		case INETDCONF_ERROR:
			if (err[0] == '\0' || strnlen(err, sizeof(err)) == sizeof(err))
				abort();
			break;
		case INETDCONF_HOST:
			free(host);
			host = e.host ? strdup(e.host) : NULL;
			break;
		case INETDCONF_SERVICE:
			if (e.service == NULL)
				abort();
			/* FALLTHROUGH */
		case INETDCONF_OFF:
			check_entry(&e);
			break;
		case INETDCONF_BLANK:
			break;
		default:
			abort();
		}
		inetdconf_free(&e);
	}
	free(host);
	free(text);
	return 0;
}
