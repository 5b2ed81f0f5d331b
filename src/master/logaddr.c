/*
 * The log_addresses setting, kept here like log.c keeps log_level: every
 * line that names a client formats its address through logaddr_format().
 * Logs nothing itself.
 */

#include <stdio.h>
#include <string.h>

#include "logaddr.h"

#define LOGADDR_PREFIX4 24
#define LOGADDR_PREFIX6 48

static enum log_addresses mode = LOG_ADDRESSES_FULL;

void
logaddr_set(enum log_addresses m)
{
	mode = m;
}

void
logaddr_format(const struct addr *a, char buf[LOGADDR_STRLEN])
{
	struct addr net = *a;
	unsigned bits = a->family == AF_INET ? LOGADDR_PREFIX4 : LOGADDR_PREFIX6;
	char ip[ADDR_STRLEN];

	/* A local peer's uid is no network address: always shown. */
	if (mode == LOG_ADDRESSES_FULL || a->family == AF_UNSPEC ||
	    a->family == AF_UNIX) {
		if (a->family == AF_UNSPEC)
			snprintf(buf, LOGADDR_STRLEN, "-");
		else
			addr_format(a, buf);
		return;
	}
	if (mode == LOG_ADDRESSES_NONE) {
		snprintf(buf, LOGADDR_STRLEN, "-");
		return;
	}
	addr_mask(&net, bits);
	addr_format(&net, ip);
	snprintf(buf, LOGADDR_STRLEN, "%s/%u", ip, bits);
}
