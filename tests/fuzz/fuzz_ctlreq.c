/*
 * libFuzzer target for the control socket's request parser (ctlreq.h):
 * the input is what a client sent before its newline. Besides a crash or
 * a sanitizer report, a finding is a broken promise: a request accepted
 * that is too long or not printable, an argument a command does not
 * take or lacks, a refusal without its reason, or a JSON string of the
 * argument that is not one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	struct ctlreq r;
	char *json = NULL;
	size_t jlen = 0;
	FILE *f;

	if (ctlreq_parse((const char *)data, size, &r, &why) == -1) {
		if (why == NULL || *why == '\0')
			abort();
		return 0;
	}
	if (size > CTLREQ_MAX || r.cmd >= CTLREQ_NCMDS ||
	    strlen(r.arg) >= CTLREQ_MAX || strchr(r.arg, ' '))
		abort();
	for (size_t i = 0; i < size; i++)
		if ((data[i] < 0x20 || data[i] > 0x7e) &&
		    !(i == size - 1 && data[i] == '\r'))
			abort();
	if ((r.cmd == CTLREQ_STATUS || r.cmd == CTLREQ_RELOAD ||
	    r.cmd == CTLREQ_UPGRADE) && r.arg[0])
		abort();
	if ((f = open_memstream(&json, &jlen)) == NULL)
		return 0;
	ctlreq_json_str(f, r.arg);
	fclose(f);
	if (jlen < 2 || json[0] != '"' || json[jlen - 1] != '"')
		abort();
	free(json);
	return 0;
}
