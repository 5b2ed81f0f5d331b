/*
 * One line of a classic inetd.conf, as openbsd-inetd(8) reads it:
 *   [address:]service socket-type protocol wait|nowait[.max] user[:group]
 *   program [argv0 args...]
 * Pure string work (and getservbyname for service names): fills a plain
 * struct, never logs, never touches the loader. The loader (cfginetd.c)
 * and `sockd --convert` (convert.c) both read lines through it.
 */
#ifndef SOCKD_INETDCONF_H
#define SOCKD_INETDCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INETDCONF_MAXARGS 20	/* openbsd-inetd's MAXARGV */
#define INETDCONF_ERRLEN 256

enum inetdconf_kind {
	INETDCONF_BLANK,	/* empty or a comment */
	INETDCONF_SERVICE,	/* a service line */
	INETDCONF_OFF,		/* a service switched off by update-inetd */
	INETDCONF_HOST,		/* "address:" alone: the default for what follows */
	INETDCONF_ERROR
};

/* Which addresses a line listens on when it names none. */
enum inetdconf_family {
	INETDCONF_BOTH,		/* tcp, udp, tcp46, udp46 (Debian's openbsd-inetd) */
	INETDCONF_V4,		/* tcp4, udp4 */
	INETDCONF_V6		/* tcp6, udp6 */
};

struct inetdconf_entry {
	char *buf;		/* the line's words, which the pointers below share */
	const char *host;	/* NULL: the protocol's wildcard */
	const char *service;	/* as written: a name or a number */
	uint16_t port;
	const char *protocol;	/* as written: "tcp6" */
	bool udp;
	enum inetdconf_family family;
	bool wait;
	unsigned max;		/* nowait.max: per minute; 0: not given */
	const char *user;
	const char *group;	/* NULL: the user's primary group */
	const char *program;	/* an absolute path, or NULL for "internal" */
	const char *argv[INETDCONF_MAXARGS + 1];	/* NULL-terminated */
};

/*
 * Parses line (without its newline) into e. host is the default address
 * of an earlier "address:" line (or NULL). Returns the kind; on
 * INETDCONF_ERROR err holds the message. For INETDCONF_OFF, e holds the
 * line's fields when they parse (e->service NULL otherwise). e is freed
 * with inetdconf_free() whatever the kind.
 */
enum inetdconf_kind inetdconf_parse(const char *line, const char *host,
    struct inetdconf_entry *e, char err[INETDCONF_ERRLEN]);
void inetdconf_free(struct inetdconf_entry *);

/*
 * The sockd service name of an entry: "[address-]service-protocol", with
 * any character a name may not hold as '_'. Returns false when it would
 * be longer than size - 1.
 */
bool inetdconf_name(const struct inetdconf_entry *, char *buf, size_t size);

/* nowait.max (a per-minute count) as sockd's rate and rate_burst. */
void inetdconf_rate(unsigned max, unsigned *rate, unsigned *burst);

#endif
