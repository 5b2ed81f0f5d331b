/*
 * A jail's shared namespaces (jailns.h): a child made with the jail's
 * namespaces builds the mounts (jail_build()) and waits while its parent
 * opens them through /proc; then it ends and the namespaces live on in
 * the descriptors. Synchronous and brief (the kernel's own work): the
 * child is waited for by pid here, where no other wait can run between.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forked.h"
#include "jailns.h"

struct report {
	int step, err;
};

/* The builder: reports jail_build(), then waits for the parent (whose end
 * of go it does not hold, so the read ends when the parent closes it or
 * dies). */
static void __attribute__((noreturn))
builder(const struct jail_conf *j, int report, int go)
{
	int keep[] = { report, go };
	struct report r;
	char c;


	/* In its new pid namespace, if it has one, getppid() says 0. */
	(void)forked_tie(0);
	forked_keep(keep, 2);
	r.step = jail_build(j);
	r.err = errno;
	if (write(report, &r, sizeof(r)) == sizeof(r) && r.step == JAIL_OK)
		(void)!read(go, &c, 1);
	_exit(0);
}

static int
open_ns(pid_t pid, const char *ns)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%ld/ns/%s", (long)pid, ns);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* What the built child holds, into ns; the failed step or JAIL_OK. */
static enum jail_step
take(const struct jail_conf *j, pid_t pid, bool mnt, bool net,
    struct jailns *ns, int *err)
{
	if (mnt && (ns->mnt = open_ns(pid, "mnt")) == -1) {
		*err = errno;
		return JAIL_MOUNT;
	}
	if (net && (ns->net = open_ns(pid, "net")) == -1) {
		*err = errno;
		return JAIL_NET;
	}
	(void)j;
	return JAIL_OK;
}

enum jail_step
jailns_make(const struct jail_conf *j, struct jailns *ns, int *err)
{
	bool own = !(j->clone_flags & CLONE_NEWUSER);
	bool mnt = own && (j->clone_flags & CLONE_NEWNS);
	bool net = own && j->no_sockets && (j->clone_flags & CLONE_NEWNET);
	struct report r = { JAIL_MOUNT, EPIPE };
	int report[2], go[2];
	pid_t pid;

	*ns = JAILNS_NONE;
	*err = 0;
	if (!mnt && !net)
		return JAIL_OK;
	if (pipe2(report, O_CLOEXEC) == -1)
		return *err = errno, JAIL_MOUNT;
	if (pipe2(go, O_CLOEXEC) == -1) {
		*err = errno;
		close(report[0]);
		close(report[1]);
		return JAIL_MOUNT;
	}
	if ((pid = syscall(SYS_clone, j->clone_flags | SIGCHLD, 0, 0, 0, 0)) == 0)
		builder(j, report[1], go[0]);
	if (pid == -1)
		r = (struct report){ JAIL_CLONE, errno };
	close(report[1]);
	close(go[0]);
	if (pid != -1 && read(report[0], &r, sizeof(r)) == sizeof(r) &&
	    r.step == JAIL_OK)
		r.step = take(j, pid, mnt, net, ns, &r.err);
	close(report[0]);
	close(go[1]);
	if (pid != -1)
		(void)waitpid(pid, NULL, 0);
	if (r.step != JAIL_OK)
		jailns_close(ns);
	*err = r.err;
	return r.step;
}

void
jailns_close(struct jailns *ns)
{
	if (ns->mnt != -1)
		close(ns->mnt);
	if (ns->net != -1)
		close(ns->net);
	*ns = JAILNS_NONE;
}
