/*
 * msgframe.h - line framing for sockd stream handlers.
 *
 * A message is a line with its "\n" or "\r\n" stripped.  Data left over at
 * the end of a read() also counts as a message, because interactive clients
 * often send a line without a newline and then wait for the answer.
 * Messages longer than MSGFRAME_MAX bytes are handed over in pieces.
 */
#ifndef SOCKD_MSGFRAME_H
#define SOCKD_MSGFRAME_H

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MSGFRAME_MAX 1024

/*
 * Called once per message.  msg is not NUL-terminated, may contain NUL
 * bytes, and len <= MSGFRAME_MAX.  A non-zero return stops msgframe_run(),
 * which passes the value on; return -1 with errno set on failure so the
 * caller can treat it like a read error.
 */
typedef int msgframe_fn(const char *msg, size_t len, void *arg);

static inline int msgframe_emit(const char *msg, size_t len,
				msgframe_fn *fn, void *arg)
{
	int r;

	/* do-while, so that an empty line is still a message. */
	do {
		size_t n = len < MSGFRAME_MAX ? len : MSGFRAME_MAX;

		r = fn(msg, n, arg);
		if (r != 0)
			return r;
		msg += n;
		len -= n;
	} while (len > 0);
	return 0;
}

/*
 * Reads fd until EOF, calling fn for every message.  Returns 0 at EOF,
 * -1 with errno set if read() fails, or fn's non-zero return value.
 */
static inline int msgframe_run(int fd, msgframe_fn *fn, void *arg)
{
	/*
	 * Several times MSGFRAME_MAX, so that a long line which is already
	 * queued is cut into full-size pieces rather than at read boundaries.
	 */
	char buf[4 * MSGFRAME_MAX];
	/*
	 * Set when a read ended in "\r": that was already taken as the end of
	 * a line, so a "\n" opening the next read is the rest of its "\r\n",
	 * not an empty message.
	 */
	int skip_lf = 0;

	for (;;) {
		ssize_t got = read(fd, buf, sizeof buf);
		const char *p = buf, *end;
		int r;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0)
			return 0;
		end = buf + got;

		if (skip_lf && *p == '\n')
			p++;
		skip_lf = 0;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = (size_t)((nl ? nl : end) - p);

			if (len > 0 && p[len - 1] == '\r') {
				len--;
				skip_lf = !nl;
			}
			r = msgframe_emit(p, len, fn, arg);
			if (r != 0)
				return r;
			p = nl ? nl + 1 : end;
		}
	}
}

#endif
