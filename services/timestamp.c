/*
 * timestamp - sockd stream handler: answers every message M with
 * "[<local time in ctime() format>] M" until the client hangs up.
 * The connection is on fd 0 (read) and fd 1 (write).  A client that sends
 * nothing, or takes nothing of the replies, for argv[1] seconds (default
 * 300) is dropped.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "msgframe.h"

static int write_all(int fd, const void *buf, size_t len)
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
static int peer_gone(int err)
{
	return err == EPIPE || err == ECONNRESET || err == EAGAIN ||
	       err == EWOULDBLOCK;
}

/* Returns the idle timeout in seconds, or -1 if s is not valid. */
static int parse_idle(const char *s)
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
static void idle_limit(int idle)
{
	struct timeval tv = { .tv_sec = idle };

	(void)setsockopt(STDIN_FILENO, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(STDOUT_FILENO, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int stamp(const char *msg, size_t len, void *arg)
{
	/* Room for "[", any year strftime() can print, "] " and "\n". */
	char reply[64 + MSGFRAME_MAX];
	time_t now = time(NULL);
	struct tm tm;
	size_t n;

	(void)arg;
	if (localtime_r(&now, &tm) == NULL)
		return -1;

	/* ctime()'s layout, minus the newline it would put mid-reply. */
	reply[0] = '[';
	n = strftime(reply + 1, sizeof reply - 1 - 3 - MSGFRAME_MAX,
		     "%a %b %e %H:%M:%S %Y", &tm);
	if (n == 0) {
		errno = EOVERFLOW;
		return -1;
	}
	n++;
	memcpy(reply + n, "] ", 2);
	n += 2;
	memcpy(reply + n, msg, len);
	n += len;
	reply[n++] = '\n';
	return write_all(STDOUT_FILENO, reply, n);
}

int main(int argc, char **argv)
{
	int idle = IDLE_DEFAULT;
	int r;

	if (argc > 2 || (argc == 2 && (idle = parse_idle(argv[1])) < 0)) {
		fprintf(stderr, "usage: timestamp [idle-seconds]\n");
		return 2;
	}
	idle_limit(idle);
	/* Let a write to a closed connection fail with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	/* POSIX leaves it open whether localtime_r() reads TZ by itself. */
	tzset();

	r = msgframe_run(STDIN_FILENO, stamp, NULL);
	if (r < 0 && !peer_gone(errno)) {
		fprintf(stderr, "timestamp: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
