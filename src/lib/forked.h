/*
 * The first steps of a child that runs sockd's own code after a fork(),
 * or a clone() without CLONE_VM, where no execve() follows to close what
 * is close-on-exec: the descriptors it keeps, and whether it dies with its
 * parent. Every such child takes them from here (checkchild.c, errlog.c,
 * jailns.c, cfgjail.c, spawn.c's built-ins, tlsrelay.c); what each takes
 * is said where it forks. A server's child (spawn.c) shares the master's
 * memory until its execve(), so it takes its own steps, in system calls
 * alone. Never logs.
 */
#ifndef SOCKD_FORKED_H
#define SOCKD_FORKED_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Closes every descriptor from 3 up but the n in keep (sorted here; -1
 * and those below 3 are passed over). Linux before 5.9 has no
 * close_range(): each possible descriptor is closed then.
 */
void forked_keep(int *keep, size_t n);
/*
 * Dies with its parent (SIGKILL at the parent's end). With parent, the
 * pid the parent had before the fork: -1 if it is already gone, which
 * the child must take as its end. 0 where the child is in a new pid
 * namespace, in which getppid() says 0.
 */
int forked_tie(pid_t parent);

#endif
