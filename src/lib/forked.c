/*
 * A forked child's first steps (forked.h).
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "forked.h"

/* lo to hi, both included; hi -1: to the last one possible. */
static void
close_between(int lo, int hi)
{
	struct rlimit rl;

	if (hi != -1 && lo > hi)
		return;
	if (close_range(lo, hi == -1 ? ~0U : (unsigned)hi, 0) == 0)
		return;
	if (hi == -1) {
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur > 1 << 20)
			rl.rlim_cur = 1 << 20;
		hi = (int)rl.rlim_cur - 1;
	}
	for (int fd = lo; fd <= hi; fd++)
		(void)close(fd);
}

static int
fd_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void
forked_keep(int *keep, size_t n)
{
	int from = 3;

	if (n > 0)
		qsort(keep, n, sizeof(*keep), fd_cmp);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < from)
			continue;
		close_between(from, keep[i] - 1);
		from = keep[i] + 1;
	}
	close_between(from, -1);
}

int
forked_tie(pid_t parent)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The parent may have ended before the prctl(). */
	return parent != 0 && getppid() != parent ? -1 : 0;
}
