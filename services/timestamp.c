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

#include "handler.h"
#include "msgframe.h"

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
