/*
 * The configuration error list: "FILE:LINE: message" lines gathered while
 * a configuration loads, counted so the loader can tell success from
 * failure. Owns the text only; never logs and never reads settings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void
cfgerr_vadd(struct cfgerr *e, const char *file, int line, const char *fmt,
    va_list ap)
{
	char msg[1024], *p;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = line > 0 ? snprintf(NULL, 0, "%s:%d: %s\n", file, line, msg)
	    : snprintf(NULL, 0, "%s: %s\n", file, msg);
	if ((p = realloc(e->text, e->len + n + 1)) == NULL)
		return;
	e->text = p;
	if (line > 0)
		snprintf(p + e->len, n + 1, "%s:%d: %s\n", file, line, msg);
	else
		snprintf(p + e->len, n + 1, "%s: %s\n", file, msg);
	e->len += n;
	e->count++;
}

void
cfgerr_add(struct cfgerr *e, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfgerr_vadd(e, file, line, fmt, ap);
	va_end(ap);
}

void
cfgerr_free(struct cfgerr *e)
{
	free(e->text);
	memset(e, 0, sizeof(*e));
}

