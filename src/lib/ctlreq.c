/*
 * The control protocol's request line and answer framing (ctlreq.h):
 * pure but for the one send of ctlreq_answer_fd(), so that the fuzzer
 * can run the parser alone.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ctlreq.h"

/* What each command takes: no argument, an optional one, or one. */
enum arg { ARG_NONE, ARG_OPTIONAL, ARG_NEEDED };

static const struct {
	const char *name;
	enum arg arg;
	bool changes;
} cmds[CTLREQ_NCMDS] = {
	[CTLREQ_STATUS] = { "status", ARG_NONE, false },
	[CTLREQ_CONNECTIONS] = { "connections", ARG_OPTIONAL, false },
	[CTLREQ_PAUSE] = { "pause", ARG_NEEDED, true },
	[CTLREQ_RESUME] = { "resume", ARG_NEEDED, true },
	[CTLREQ_END] = { "end", ARG_NEEDED, true },
	[CTLREQ_RELOAD] = { "reload", ARG_NONE, true },
	[CTLREQ_UPGRADE] = { "upgrade", ARG_NONE, true },
	[CTLREQ_LOG_LEVEL] = { "log-level", ARG_NEEDED, true },
};

const char *
ctlreq_name(enum ctlreq_cmd c)
{
	return c < CTLREQ_NCMDS ? cmds[c].name : "?";
}

bool
ctlreq_changes(enum ctlreq_cmd c)
{
	return c < CTLREQ_NCMDS && cmds[c].changes;
}

/* The next word of line[*at..len) into w (room CTLREQ_MAX); its length. */
static size_t
word(const char *line, size_t len, size_t *at, char *w)
{
	size_t n = 0;

	while (*at < len && line[*at] == ' ')
		(*at)++;
	while (*at < len && line[*at] != ' ' && n < CTLREQ_MAX - 1)
		w[n++] = line[(*at)++];
	w[n] = '\0';
	return n;
}

int
ctlreq_parse(const char *line, size_t len, struct ctlreq *r, const char **why)
{
	char w[CTLREQ_MAX];
	size_t at = 0;
	int c;

	memset(r, 0, sizeof(*r));
	if (len > 0 && line[len - 1] == '\r')	/* telnet, socat crlf */
		len--;
	if (len >= CTLREQ_MAX)
		return *why = "request too long", -1;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			return *why = "a request is printable ASCII", -1;
	if (word(line, len, &at, w) > 0 && strcmp(w, "json") == 0) {
		r->json = true;
		(void)word(line, len, &at, w);
	}
	for (c = 0; c < CTLREQ_NCMDS && strcmp(w, cmds[c].name) != 0; c++)
		;
	if (c == CTLREQ_NCMDS)
		return *why = w[0] ? "unknown command" : "no command", -1;
	r->cmd = c;
	(void)word(line, len, &at, r->arg);
	if (cmds[c].arg == ARG_NONE && r->arg[0])
		return *why = "this command takes no argument", -1;
	if (cmds[c].arg == ARG_NEEDED && !r->arg[0])
		return *why = "this command needs an argument", -1;
	if (word(line, len, &at, w) > 0)
		return *why = "one argument at most", -1;
	return 0;
}

void
ctlreq_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = *s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int
ctlreq_answer_fd(int fd, bool ok, const char *msg, const char *body)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "%s%s%s\n%s", ok ? "+OK" : "-ERR",
	    msg ? " " : "", msg ? msg : "", body ? body : "");

	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	return send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) == n ? 0 : -1;
}
