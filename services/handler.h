/*
 * handler.h - what the shipped stream handlers share: writing a whole
 * reply, and the idle limit that keeps a silent client from holding one
 * for ever. Each handler is built from its one source file and this
 * header, with no library.
 */
#ifndef SOCKD_HANDLER_H
#define SOCKD_HANDLER_H

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static inline int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Seconds a client may send nothing, or take nothing we send. */
#define IDLE_DEFAULT 300

/*
 * A client that goes away mid-session ends it, and so does one idle for
 * too long (the socket timeouts then give EAGAIN); neither is our error.
 */
static inline int peer_gone(int err)
{
	return err == EPIPE || err == ECONNRESET || err == EAGAIN ||
	       err == EWOULDBLOCK;
}

/* Returns the idle timeout in seconds, or -1 if s is not valid. */
static inline int parse_idle(const char *s)
{
	char *end;
	long v;

	/* strtol() would also take leading blanks and a sign. */
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

/*
 * No client can hold us for ever: reads and writes that make no progress
 * for idle seconds fail. Where fd 0 is not a socket (run by hand from a
 * terminal) there is no limit.
 */
static inline void idle_limit(int idle)
{
	struct timeval tv = { .tv_sec = idle };

	(void)setsockopt(STDIN_FILENO, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(STDOUT_FILENO, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

#endif
