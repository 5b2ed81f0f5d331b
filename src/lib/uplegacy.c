/*
 * Formats 2 and 3 of the hand-over (uplegacy.h), frozen: what dba492c and
 * the releases before it write. Each kind's positions get format 4's
 * names, so one reader (upstate.c) reads all three.
 */
#include <stdlib.h>
#include <string.h>

#include "uplegacy.h"

/* The counters of a service record, in the order format 3 wrote them
 * (struct service_stats as it was), by format 4's names. */
static const char *const counters[] = {
	"connections_total", "refused_total.access", "refused_total.per_source",
	"refused_total.source_rate", "refused_total.paused",
	"refused_total.proxy_from", "refused_total.proxy_header",
	"handlers_ended_total.ok", "handlers_ended_total.failed",
	"handlers_ended_total.signal", "backoff_pauses_total",
	"handler_duration.le5ms", "handler_duration.le10ms",
	"handler_duration.le25ms", "handler_duration.le50ms",
	"handler_duration.le100ms", "handler_duration.le250ms",
	"handler_duration.le500ms", "handler_duration.le1000ms",
	"handler_duration.le2500ms", "handler_duration.le5000ms",
	"handler_duration.le10000ms", "handler_duration.le30000ms",
	"handler_duration.le60000ms", "handler_duration.le300000ms",
	"handler_duration.inf", "handler_duration.sum_ms",
};
#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

/* How a position reads: "-" there means none, and the field is left out;
 * a per-source key, which for a UNIX peer was written as two words, "uid N". */
#define OPT 1
#define KEY 2
#define MAXPOS 9

struct pos {
	const char *name;
	int how;
};

/* Each kind's fields by position; the path of a ulistener runs to the end
 * of its line, and the counters of a service follow its fields. */
static const struct {
	const char *kind;
	struct pos at[MAXPOS];
} kinds[] = {
	{ "daemon", { { "started", 0 }, { "last_reload", 0 }, { "reloads_ok", 0 },
	    { "reloads_failed", 0 } } },
	{ "listener", { { "proto", 0 }, { "addr", 0 }, { "port", 0 }, { "fd", 0 } } },
	{ "ulistener", { { "fd", 0 }, { "made", 0 }, { "dev", 0 }, { "ino", 0 } } },
	{ "service", { { "name", 0 }, { "paused_until", 0 }, { "backoff_ms", 0 },
	    { "busy", 0 }, { "nstats", 0 } } },
	{ "fail", { { "service", 0 }, { "when", 0 } } },
	{ "rate", { { "service", 0 }, { "key", OPT | KEY }, { "milli", 0 },
	    { "last", 0 } } },
	{ "child", { { "pid", 0 }, { "service", 0 }, { "started_ms", 0 },
	    { "source", OPT | KEY }, { "lifetime_when", 0 }, { "term_sent", 0 } } },
	{ "errlog", { { "service", 0 }, { "fd", 0 } } },
	{ "peer", { { "service", 0 }, { "addr", 0 }, { "port", 0 }, { "scope", 0 },
	    { "listener", 0 }, { "local", OPT }, { "ifindex", 0 }, { "last_ms", 0 },
	    { "fd", 0 } } },
};

/* The next word; a "uid N" key is joined into "uid:N", as format 4 has it. */
static char *
word(char **save, bool key)
{
	char *w = strtok_r(NULL, " ", save), *next;

	if (w == NULL || !key || strcmp(w, "uid") != 0)
		return w;
	if ((next = strtok_r(NULL, " ", save)) == NULL || next != w + 4)
		return NULL;
	w[3] = ':';
	return w;
}

/* Format 2 and 3 wrote the protocol as its enum svc_proto. */
static const char *
proto_name(const char *v)
{
	return strcmp(v, "0") == 0 ? "tcp" : strcmp(v, "1") == 0 ? "udp" :
	    strcmp(v, "2") == 0 ? "unix" : v;
}

static const char *
split_fields(const struct pos *at, char **save, struct upfields *r)
{
	for (size_t i = 0; i < MAXPOS && at[i].name; i++) {
		char *v = word(save, at[i].how & KEY);
		if (v == NULL)
			return "fewer fields than its kind has";
		if ((at[i].how & OPT) && strcmp(v, "-") == 0)
			continue;
		if (strcmp(at[i].name, "proto") == 0)
			v = (char *)proto_name(v);
		if (!upfield_add(r, at[i].name, v))
			return "too many fields";
	}
	return NULL;
}

/* A service's counters, as many as format 3 had. */
static const char *
split_counters(char **save, struct upfields *r)
{
	const char *n = upfield_get(r, "nstats");
	char *v;

	if (n == NULL || strtoul(n, NULL, 10) != NCOUNTERS)
		return "counters of another layout than format 3's";
	for (size_t i = 0; i < NCOUNTERS; i++)
		if ((v = strtok_r(NULL, " ", save)) == NULL ||
		    !upfield_add(r, counters[i], v))
			return "fewer counters than it says";
	return NULL;
}

/* The path runs to the end of the line: it may hold spaces. */
static const char *
split_path(char **save, struct upfields *r)
{
	char *path = *save;

	if (path == NULL || *path == '\0')
		return "no path";
	*save = path + strlen(path);
	if (!upfield_add(r, "path", path) || !upfield_add(r, "proto", "unix"))
		return "too many fields";
	r->kind = "listener";
	return NULL;
}

const char *
uplegacy_split(char *line, struct upfields *r)
{
	char *save = NULL;
	const char *why;
	size_t k = 0;

	memset(r, 0, sizeof(*r));
	line[strcspn(line, "\n")] = '\0';
	if ((r->kind = strtok_r(line, " ", &save)) == NULL)
		return "an empty line";
	while (k < sizeof(kinds) / sizeof(kinds[0]) && strcmp(kinds[k].kind, r->kind))
		k++;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return "not a kind of record this release knows";
	if ((why = split_fields(kinds[k].at, &save, r)) != NULL)
		return why;
	if (strcmp(r->kind, "service") == 0)
		why = split_counters(&save, r);
	else if (strcmp(r->kind, "ulistener") == 0)
		why = split_path(&save, r);
	if (why == NULL && strtok_r(NULL, " ", &save) != NULL)
		why = "more fields than its kind has";
	return why;
}
