/*
 * ref-inline PORT MODE - the built-in references, no exec:
 *   hello    accept + fork; the child speaks the hello-tcp protocol
 *   echo     accept + fork; the child echoes until EOF
 *   daytime  accept, write the time, close; no fork
 *   udp      recvfrom + sendto per datagram
 */
#include <string.h>
#include <time.h>

#include "ref-common.h"

static void
hello(int fd)
{
	char buf[1024], out[1100];
	ssize_t n;

	if (write(fd, "Welcome!\n", 9) != 9)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			n--;
		int m = snprintf(out, sizeof(out), "Hello, %.*s!\n", (int)n, buf);
		if (write(fd, out, m) != m)
			return;
	}
}

static void
echo(int fd)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			return;
}

int
main(int argc, char **argv)
{
	char buf[65536];
	int lfd, fd;

	if (argc != 3)
		return 2;
	if (strcmp(argv[2], "udp") == 0) {
		lfd = ref_listen(argv[1], SOCK_DGRAM);
		for (;;) {
			struct sockaddr_storage ss;
			socklen_t len = sizeof(ss);
			ssize_t n = recvfrom(lfd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&ss, &len);
			if (n >= 0)
				sendto(lfd, buf, n, 0, (struct sockaddr *)&ss, len);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = ref_listen(argv[1], SOCK_STREAM);
	for (;;) {
		fd = ref_accept(lfd);
		if (strcmp(argv[2], "daytime") == 0) {
			time_t now = time(NULL);
			struct tm tm;
			localtime_r(&now, &tm);
			size_t n = strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y\r\n", &tm);
			(void)send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		} else if (fork() == 0) {
			if (strcmp(argv[2], "hello") == 0)
				hello(fd);
			else
				echo(fd);
			_exit(0);
		}
		close(fd);
	}
}
