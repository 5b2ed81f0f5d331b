/*
 * The hand-over formats 2 and 3 (upstate.h), which the release before
 * this one writes: each record's fields by position, separated by single
 * spaces, no escaping. Read so that a running sockd of that release can
 * upgrade to this one in place. A leaf: never logs.
 */
#ifndef SOCKD_UPLEGACY_H
#define SOCKD_UPLEGACY_H

#include "upfield.h"

/*
 * Splits a line of format 2 or 3 in place into the kind and the named
 * fields of format 4, as upfield_split() does: NULL, or why not.
 */
const char *uplegacy_split(char *line, struct upfields *);

#endif
