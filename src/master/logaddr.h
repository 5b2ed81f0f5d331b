/*
 * Client addresses as the log shows them: in full, truncated to their
 * network (IPv4 /24, IPv6 /48) or not at all (log_addresses). Only for
 * the log: handlers get the real address, counters none.
 */
#ifndef SOCKD_LOGADDR_H
#define SOCKD_LOGADDR_H

#include "addr.h"
#include "config.h"

/* Room for an address and "/48". */
#define LOGADDR_STRLEN (ADDR_STRLEN + 4)

void logaddr_set(enum log_addresses);
/* a as the log may show it: "192.0.2.7", "192.0.2.0/24" or "-". */
void logaddr_format(const struct addr *, char buf[LOGADDR_STRLEN]);

#endif
