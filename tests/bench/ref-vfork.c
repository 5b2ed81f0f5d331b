/* ref-vfork PORT HANDLER [ARG...] - accept, vfork, exec HANDLER (with its
 * arguments, a wrapper such as bwrap with the handler) with the connection
 * on 0/1. */
#include "ref-common.h"

int
main(int argc, char **argv)
{
	char *env[] = { "PATH=/usr/bin:/bin", NULL };
	int lfd, fd;

	if (argc < 3)
		return 2;
	lfd = ref_listen(argv[1], SOCK_STREAM);
	for (;;) {
		fd = ref_accept(lfd);
		if (vfork() == 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			/* The handler is ours; SIGCHLD's handler resets on exec. */
			execve(argv[2], argv + 2, env);
			_exit(127);
		}
		close(fd);
	}
}
