/*
 * ref-common.h - the few lines every reference server shares: a blocking
 * loopback listener and a SIGCHLD handler that reaps. The references are
 * the floor a super-server is measured against, so they do nothing else.
 */
#ifndef REF_COMMON_H
#define REF_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void
ref_reap(int sig)
{
	int e = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = e;
}

/* Binds 127.0.0.1:port (stream or datagram), installs the reaper, says ready. */
static int
ref_listen(const char *port, int type)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sigaction sa = { .sa_handler = ref_reap, .sa_flags = SA_RESTART };
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(atoi(port));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 4096) == -1)) {
		perror("ref: bind");
		exit(1);
	}
	sigaction(SIGCHLD, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	return fd;
}

static int
ref_accept(int lfd)
{
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		if (errno != EINTR && errno != ECONNABORTED)
			perror("ref: accept");
	return fd;
}

#endif
