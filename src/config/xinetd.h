/*
 * xinetd.conf(5) read into plain records: each "service NAME { ... }" and
 * "defaults { ... }" block with its attributes as written, following
 * "includedir" and "include". No meaning is given to any attribute here:
 * convert.c maps them. Errors are "FILE:LINE: message" in a cfgerr.
 */
#ifndef SOCKD_XINETD_H
#define SOCKD_XINETD_H

#include <stddef.h>

#include "config.h"

struct xinetd_attr {
	char *key;
	char op;		/* '=', '+' (+=) or '-' (-=) */
	char **values;		/* NULL-terminated words */
	int line;
};

struct xinetd_svc {
	char *name;		/* NULL: a defaults block */
	char *file;
	int line;
	struct xinetd_attr *attrs;
	size_t nattrs;
};

struct xinetd_conf {
	struct xinetd_svc *svcs;
	size_t nsvcs;
};

/* A file (an xinetd.conf, or one of xinetd.d) or a directory of them. */
int xinetd_read(struct xinetd_conf *, const char *path, struct cfgerr *);
/* The attribute key of s, or NULL; the last one set wins. */
const struct xinetd_attr *xinetd_attr(const struct xinetd_svc *,
    const char *key);
void xinetd_free(struct xinetd_conf *);

#endif
