/*
 * libFuzzer target for the PROXY protocol parser. The first byte of an
 * input picks the versions accepted (its low two bits; 0 means both), the
 * rest is what a connection sent. Besides a crash or a sanitizer report,
 * a finding is a broken promise of proxyproto.h: a header longer than the
 * bytes or than PROXYPROTO_MAX, a prefix of a whole header that is not
 * "wait for more", or a verdict that changes when bytes follow the header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyproto_hdr h, h2;
	enum proxyproto_error err;
	unsigned modes;
	int r;

	if (size < 1)
		return 0;
	modes = data[0] & 3 ? data[0] & 3 : PROXYPROTO_V1 | PROXYPROTO_V2;
	data++;
	size--;
	r = proxyproto_parse(data, size, modes, &h, &err);
	if (r == -1 && (err == PROXYPROTO_OK || err >= PROXYPROTO_NERRORS ||
	    proxyproto_error_text(err) == NULL))
		abort();
	if (r <= 0)
		return 0;
	if ((size_t)r > size || r > PROXYPROTO_MAX)
		abort();
	/* The caller consumes a prefix that says "more": it must be header. */
	for (int len = 0; len < r; len++)
		if (proxyproto_parse(data, len, modes, &h2, &err) != 0)
			abort();
	/* The header alone says the same as the header and what follows. */
	if (proxyproto_parse(data, r, modes, &h2, &err) != r ||
	    h2.version != h.version || h2.local != h.local ||
	    memcmp(&h2.tlv, &h.tlv, sizeof(h.tlv)) != 0)
		abort();
	return 0;
}
