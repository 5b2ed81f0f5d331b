/* ref-fork PORT HANDLER - accept, fork, exec HANDLER with the connection on 0/1. */
#include "ref-common.h"

int
main(int argc, char **argv)
{
	int lfd, fd;

	if (argc != 3)
		return 2;
	lfd = ref_listen(argv[1], SOCK_STREAM);
	for (;;) {
		fd = ref_accept(lfd);
		if (fork() == 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			signal(SIGCHLD, SIG_DFL);
			execv(argv[2], argv + 2);
			_exit(127);
		}
		close(fd);
	}
}
