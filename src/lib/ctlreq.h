/*
 * The control socket's protocol, both ends of it (the master's control.c
 * and ctlcmd.c, and sockctl): one request a connection, one line,
 * "[json ]COMMAND[ ARGUMENT]\n", at most CTLREQ_MAX bytes with the
 * newline; the answer is "+OK\n" or "-ERR MESSAGE\n", then its body
 * (text, or one JSON document after "json"), then the master closes.
 * sockd(8) documents it, so that socat(1) can speak it too. Never logs.
 */
#ifndef SOCKD_CTLREQ_H
#define SOCKD_CTLREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CTLREQ_MAX 256

enum ctlreq_cmd {
	CTLREQ_STATUS,
	CTLREQ_CONNECTIONS,
	CTLREQ_PAUSE,
	CTLREQ_RESUME,
	CTLREQ_END,
	CTLREQ_RELOAD,
	CTLREQ_UPGRADE,
	CTLREQ_LOG_LEVEL,
	CTLREQ_NCMDS
};

struct ctlreq {
	enum ctlreq_cmd cmd;
	bool json;
	char arg[CTLREQ_MAX];	/* "": none */
};

/*
 * Parses a request line of len bytes (its newline left off): 0, or -1
 * and *why, a constant text. Printable ASCII only; the argument, where a
 * command takes one, is one word.
 */
int ctlreq_parse(const char *line, size_t len, struct ctlreq *, const char **why);
/* The command's word ("log-level"), and whether it changes anything. */
const char *ctlreq_name(enum ctlreq_cmd);
bool ctlreq_changes(enum ctlreq_cmd);
/* Writes s as a JSON string, quotes included. */
void ctlreq_json_str(FILE *, const char *s);
/*
 * A whole answer in one non-blocking send on fd (a fresh socket's buffer
 * holds it): ok, or "-ERR msg"; body may be NULL. -1 with errno.
 */
int ctlreq_answer_fd(int fd, bool ok, const char *msg, const char *body);

#endif
