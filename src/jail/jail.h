/*
 * A jailed handler: the namespaces, filesystem, capabilities and syscall
 * filter a service asks for, resolved at load time (cfgjail.c) into plain
 * values, and the steps that put a child into them (jail.c). The steps
 * make system calls only, on what is here.
 */
#ifndef SOCKD_JAIL_H
#define SOCKD_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>
#include <sys/types.h>

#define JAIL_DEV_NODES 5

/*
 * Where the old root is while the jail's mounts are made: the jail's /proc,
 * which every root must have. A bind's source is the host's path under it.
 */
#define JAIL_OLD_ROOT "/proc"

struct jail_bind {
	char *src;		/* JAIL_OLD_ROOT + the host's path */
	char *dst;		/* the path in the jail */
	bool rw;
	unsigned long flags;	/* MS_NOSUID etc. the source has, kept on remount */
	/* Under a hidden directory: its mount point is made there first. */
	bool make, dir;
};

/* The size and options of a jail's /tmp and of its hidden directories. */
#define JAIL_TMPFS_OPTS 96

struct jail_conf {
	int clone_flags;	/* CLONE_NEWPID, CLONE_NEWNS, ... */
	/* The filesystem (only with a mount namespace). */
	bool proc;		/* a /proc of the new pid namespace */
	bool tmp;		/* a private tmpfs /tmp */
	char tmp_opts[JAIL_TMPFS_OPTS];	/* "mode=1777,size=...,nr_inodes=..." */
	char *root;		/* the directory mounted read-only as "/" */
	char *root_cd;		/* how to enter it once mounted on itself */
	unsigned long root_flags;
	struct jail_bind *binds;
	size_t nbinds;
	/* Directories of the root covered by an empty read-only tmpfs. */
	char **hide;
	size_t nhide;
	dev_t dev_rdev[JAIL_DEV_NODES];	/* the host's, for mknod() */
	/* User namespace: "deny" and the maps of sockd's own ids. */
	char uid_map[48], gid_map[48];
	/* What the handler keeps. */
	bool no_new_privs;
	uint64_t caps;		/* capabilities kept (bit n: capability n) */
	int cap_last;		/* the kernel's highest capability */
	struct sock_filter *filter;	/* NULL: no syscall filter */
	unsigned short filter_len;
	/*
	 * With no_sockets (socket(2) denied by the filter) a network namespace
	 * is of no use to a handler but as an empty one, so every connection
	 * joins one the service made (jailns.h) instead of a new one each.
	 */
	bool no_sockets;
	/*
	 * Each connection's handler runs as an id of its own from the
	 * daemon's jail_ids (idpool.h), never as root: sockd runs as root
	 * and the service names no user.
	 */
	bool own_ids;
};

/* The nodes of the jail's /dev (made with mknod, or bound from the host's
 * in a user namespace); dev_rdev[] follows this order. */
extern const char *const jail_dev_names[JAIL_DEV_NODES];

/* The steps of jail_enter() and jail_lock(); 0 is success. */
enum jail_step { JAIL_OK, JAIL_USERNS, JAIL_MOUNT, JAIL_PIVOT, JAIL_CAPS,
    JAIL_NNP, JAIL_SECCOMP, JAIL_NET, JAIL_CLONE };

/* The namespaces a service's connections share, made by jailns.c. */
struct jailns {
	int mnt;		/* the template mount namespace; -1: none */
	int net;		/* the shared network namespace; -1: none */
};

#define JAILNS_NONE ((struct jailns){ -1, -1 })

/*
 * In a child made with j->clone_flags: the user namespace's maps and the
 * jail's mounts up to the read-only root, without what is each
 * connection's own. A load-time child builds the template this way.
 */
enum jail_step jail_build(const struct jail_conf *j);
/* The namespaces the clone() of a connection's child makes. */
int jail_clone_flags(const struct jail_conf *j);
/*
 * Makes the namespaces clone() did not and joins the service's shared
 * ones (ns): first, while their descriptors are still open in the child.
 */
enum jail_step jail_join(const struct jail_conf *j, const struct jailns *ns);
/*
 * Then, before the child drops its ids: a copy of the joined mounts when
 * copy, /proc and /tmp, and the capability bounding set.
 */
enum jail_step jail_settle(const struct jail_conf *j, bool copy,
    bool switch_ids);
/* jail_build() unless ns holds the template, then jail_settle(). */
enum jail_step jail_enter(const struct jail_conf *j, const struct jailns *ns,
    bool switch_ids);
/*
 * After the ids are dropped, just before execve(): the capabilities kept,
 * no_new_privs and the syscall filter.
 */
enum jail_step jail_lock(const struct jail_conf *j, uid_t uid);

#endif
