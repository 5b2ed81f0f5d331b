/*
 * hello-tcp - sockd stream handler: greets the client, then answers every
 * message M with "Hello, M!" until the client sends "exit" or hangs up.
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
#include <unistd.h>

#include "handler.h"
#include "msgframe.h"

static int greet(const char *msg, size_t len, void *arg)
{
	static const char pre[] = "Hello, ", post[] = "!\n";
	char reply[sizeof pre - 1 + MSGFRAME_MAX + sizeof post - 1];
	size_t n = 0;

	(void)arg;
	if (len == 4 && memcmp(msg, "exit", 4) == 0)
		return 1;

	/* One write per reply, so the client never sees half an answer. */
	memcpy(reply + n, pre, sizeof pre - 1);
	n += sizeof pre - 1;
	memcpy(reply + n, msg, len);
	n += len;
	memcpy(reply + n, post, sizeof post - 1);
	n += sizeof post - 1;
	return write_all(STDOUT_FILENO, reply, n);
}

int main(int argc, char **argv)
{
	int idle = IDLE_DEFAULT;
	static const char welcome[] = "Welcome!\n";
	int r;

	if (argc > 2 || (argc == 2 && (idle = parse_idle(argv[1])) < 0)) {
		fprintf(stderr, "usage: hello-tcp [idle-seconds]\n");
		return 2;
	}
	idle_limit(idle);
	/* Let a write to a closed connection fail with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);

	r = write_all(STDOUT_FILENO, welcome, sizeof welcome - 1);
	if (r == 0)
		r = msgframe_run(STDIN_FILENO, greet, NULL);
	if (r < 0 && !peer_gone(errno)) {
		fprintf(stderr, "hello-tcp: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
