/*
 * The steps that put a handler's child into its jail, between clone() and
 * execve(): the user namespace's maps, the mounts and the pivot into the
 * root, the capabilities, no_new_privs and the syscall filter. Everything
 * here is a system call on values cfgjail.c resolved at load time: no
 * allocation, no lookup, no logging, so it is safe in any child. Never
 * decides what a jail holds.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail.h"

#define OLD JAIL_OLD_ROOT

const char *const jail_dev_names[JAIL_DEV_NODES] = { "/dev/null",
    "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" };

static int
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The new user namespace maps sockd's own ids to themselves, and only them. */
static int
user_maps(const struct jail_conf *j)
{
	if (write_file("/proc/self/setgroups", "deny") == -1 ||
	    write_file("/proc/self/uid_map", j->uid_map) == -1 ||
	    write_file("/proc/self/gid_map", j->gid_map) == -1)
		return -1;
	return 0;
}

/*
 * A bind mount, then read-only unless rw. Without a user namespace it is
 * the source's own mount alone, remounted keeping the flags the source
 * had. In one, the kernel refuses to show a mount without what is mounted
 * under it, so the whole tree is bound and made read-only as a tree.
 */
static int
readonly(const char *path, unsigned long flags, bool tree)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };

	if (tree)
		return syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE,
		    &ro, sizeof(ro));
	return mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, NULL);
}

static int
bind_mount(const char *src, const char *dst, bool rw, unsigned long flags,
    bool tree)
{
	if (mount(src, dst, NULL, MS_BIND | (tree ? MS_REC : 0), NULL) == -1)
		return -1;
	return rw ? 0 : readonly(dst, flags, tree);
}

/*
 * A tmpfs /dev holding the harmless nodes only: made there, or, in a user
 * namespace, where nodes on its tmpfs would not open, bound from the
 * host's, which are under OLD while the old root is there.
 */
static int
mount_dev(const struct jail_conf *j, bool tree)
{
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755") == -1)
		return -1;
	for (int i = 0; i < JAIL_DEV_NODES; i++) {
		const char *node = jail_dev_names[i];
		char from[32] = OLD;
		int fd;
		if (!tree) {
			if (mknod(node, S_IFCHR | 0666, j->dev_rdev[i]) == -1 ||
			    chmod(node, 0666) == -1)
				return -1;
			continue;
		}
		if ((fd = open(node, O_WRONLY | O_CREAT | O_CLOEXEC, 0666)) == -1)
			return -1;
		close(fd);
		strcat(from, node);
		if (mount(from, node, NULL, MS_BIND, NULL) == -1)
			return -1;
	}
	return mount(NULL, "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
	    MS_NOSUID | MS_NOEXEC, NULL);
}

/*
 * The parts of a fresh /proc that reach past the jail's pid namespace to
 * the host: kernel tunables and trigger files that uid 0 would pass the
 * owner check of, and files that expose kernel memory, keys or timers.
 * As Docker's masked and read-only paths: files are covered by /dev/null,
 * directories by an empty read-only tmpfs, and the tunables are
 * read-only. A path this kernel lacks is skipped.
 */
static const char *const proc_masked[] = { "proc/kcore", "proc/keys",
    "proc/key-users", "proc/timer_list", "proc/kallsyms", "proc/sched_debug",
    "proc/latency_stats", "proc/kpagecount", "proc/kpageflags",
    "proc/kpagecgroup", "proc/kmsg", "proc/config.gz", "proc/sysrq-trigger",
    "proc/acpi", "proc/asound", "proc/scsi", "proc/driver" };
static const char *const proc_readonly[] = { "proc/sys", "proc/irq",
    "proc/bus", "proc/fs" };

#define RO_FLAGS (MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | \
    MS_NOEXEC)

static int
mask(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return mount("/dev/null", path, NULL, MS_BIND, NULL);
	if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "size=0,nr_inodes=1,mode=555") == -1)
		return -1;
	return mount(NULL, path, NULL, RO_FLAGS, NULL);
}

static int
mount_proc(void)
{
	if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(proc_masked) / sizeof(proc_masked[0]); i++)
		if (mask(proc_masked[i]) == -1)
			return -1;
	for (size_t i = 0; i < sizeof(proc_readonly) / sizeof(proc_readonly[0]); i++)
		if (access(proc_readonly[i], F_OK) == 0 &&
		    (mount(proc_readonly[i], proc_readonly[i], NULL, MS_BIND | MS_REC,
		    NULL) == -1 ||
		    mount(NULL, proc_readonly[i], NULL, RO_FLAGS, NULL) == -1))
			return -1;
	return 0;
}

/*
 * /proc of the pid namespace and a bounded /tmp, by paths relative to the
 * jail's root, which is the working directory: before pivot_root() in a
 * user namespace (whose kernel mounts a procfs only while a full one is
 * still visible, that is while the old root is there), after it without.
 * /dev/null, which covers files of /proc, is the host's or the jail's.
 */
static int
own_mounts(const struct jail_conf *j)
{
	if (j->proc && mount_proc() == -1)
		return -1;
	if (j->tmp && mount("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV,
	    j->tmp_opts) == -1)
		return -1;
	return 0;
}

/*
 * The mount point of a bind under a hidden directory, in the hide's tmpfs, which
 * is writable until hides_seal(): each missing component, then the mount
 * point itself, a directory or an empty file as the source is.
 */
static int
make_mountpoint(const struct jail_bind *b)
{
	char path[PATH_MAX];
	size_t n = strlen(b->dst);
	int fd;

	if (n >= sizeof(path))
		return errno = ENAMETOOLONG, -1;
	memcpy(path, b->dst, n + 1);
	for (char *p = path + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (b->dir)
		return mkdir(path, 0755) == -1 && errno != EEXIST ? -1 : 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
		return -1;
	return close(fd);
}

/* An empty tmpfs on each hidden directory, writable for make_mountpoint(). */
static int
hides(const struct jail_conf *j)
{
	for (size_t i = 0; i < j->nhide; i++)
		if (mount("tmpfs", j->hide[i], "tmpfs", MS_NOSUID | MS_NODEV |
		    MS_NOEXEC, "size=64k,nr_inodes=256,mode=755") == -1)
			return -1;
	return 0;
}

static int
hides_seal(const struct jail_conf *j)
{
	for (size_t i = 0; i < j->nhide; i++)
		if (mount(NULL, j->hide[i], NULL, RO_FLAGS, NULL) == -1)
			return -1;
	return 0;
}

static int
binds(const struct jail_conf *j, bool tree)
{
	for (size_t i = 0; i < j->nbinds; i++) {
		const struct jail_bind *b = &j->binds[i];
		if ((b->make && make_mountpoint(b) == -1) ||
		    bind_mount(b->src, b->dst, b->rw, b->flags, tree) == -1)
			return -1;
	}
	return 0;
}

/*
 * The root becomes "/" as a mount of its own (not its submounts), with the
 * old root under OLD while the binds and /dev take what they need from it;
 * then the old root goes and the root is made read-only. The whole tree is
 * made private first, so nothing propagates back to the host. In a user
 * namespace the jail's /proc and /tmp are mounted before the pivot (the
 * old root then lies over the new /proc until it goes).
 */
static enum jail_step
mounts(const struct jail_conf *j)
{
	bool tree = (j->clone_flags & CLONE_NEWUSER) != 0;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount(j->root, j->root, NULL, MS_BIND | (tree ? MS_REC : 0), NULL) == -1)
		return JAIL_MOUNT;
	if (chdir(j->root_cd) == -1)
		return JAIL_PIVOT;
	/* A tree is made read-only before the jail's own mounts join it. */
	if (tree && (readonly(".", 0, true) == -1 || own_mounts(j) == -1))
		return JAIL_MOUNT;
	/* The old root goes to OLD in the new one (the path from the root). */
	if (syscall(SYS_pivot_root, ".", &OLD[1]) == -1 || chdir("/") == -1)
		return JAIL_PIVOT;
	if (hides(j) == -1 || binds(j, tree) == -1 || hides_seal(j) == -1 ||
	    mount_dev(j, tree) == -1)
		return JAIL_MOUNT;
	if (umount2(OLD, MNT_DETACH) == -1)
		return JAIL_PIVOT;
	if (!tree && readonly("/", j->root_flags, false) == -1)
		return JAIL_MOUNT;
	return JAIL_OK;
}

enum jail_step
jail_build(const struct jail_conf *j)
{
	if ((j->clone_flags & CLONE_NEWUSER) && user_maps(j) == -1)
		return JAIL_USERNS;
	if (j->clone_flags & CLONE_NEWNS)
		return mounts(j);
	return JAIL_OK;
}

/*
 * Only the pid namespace, which the handler must be process 1 of, and the
 * user namespace that owns it are made by the clone(): whatever clone()
 * makes, it makes in the caller, the master. The child unshares the rest.
 */
int
jail_clone_flags(const struct jail_conf *j)
{
	return j->clone_flags & (CLONE_NEWPID | CLONE_NEWUSER);
}

enum jail_step
jail_join(const struct jail_conf *j, const struct jailns *ns)
{
	int rest = j->clone_flags & ~(CLONE_NEWPID | CLONE_NEWUSER) &
	    ~(ns->mnt >= 0 ? CLONE_NEWNS : 0) & ~(ns->net >= 0 ? CLONE_NEWNET : 0);

	if (rest && unshare(rest) == -1)
		return (rest & CLONE_NEWNET) ? JAIL_NET : JAIL_MOUNT;
	if (ns->mnt >= 0 && setns(ns->mnt, CLONE_NEWNS) == -1)
		return JAIL_MOUNT;
	if (ns->net >= 0 && setns(ns->net, CLONE_NEWNET) == -1)
		return JAIL_NET;
	return JAIL_OK;
}

/*
 * What is the connection's own: a copy of a joined template (so the mounts
 * below stay out of it), /proc of its pid namespace and a fresh /tmp; then
 * the capability bounding set, while the child still has CAP_SETPCAP.
 */
enum jail_step
jail_settle(const struct jail_conf *j, bool copy, bool switch_ids)
{
	if (copy && unshare(CLONE_NEWNS) == -1)
		return JAIL_MOUNT;
	if ((j->clone_flags & CLONE_NEWNS) && !(j->clone_flags & CLONE_NEWUSER) &&
	    (chdir("/") == -1 || own_mounts(j) == -1))
		return JAIL_MOUNT;
	for (int cap = 0; cap <= j->cap_last; cap++)
		if (!(j->caps & (1ULL << cap)) &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			return JAIL_CAPS;
	if (switch_ids && j->caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		return JAIL_CAPS;
	return JAIL_OK;
}

enum jail_step
jail_enter(const struct jail_conf *j, const struct jailns *ns, bool switch_ids)
{
	enum jail_step step;

	if (ns->mnt < 0 && (step = jail_build(j)) != JAIL_OK)
		return step;
	return jail_settle(j, ns->mnt >= 0, switch_ids);
}

/*
 * The kept capabilities, and nothing else, in every set; a handler that is
 * not root keeps them across execve() as ambient capabilities.
 */
static int
set_caps(const struct jail_conf *j, uid_t uid)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	for (int i = 0; i < 2; i++)
		data[i].effective = data[i].permitted = data[i].inheritable =
		    (uint32_t)(j->caps >> (32 * i));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 ||
	    syscall(SYS_capset, &hdr, data) == -1)
		return -1;
	if (uid == 0)
		return 0;
	for (int cap = 0; cap <= j->cap_last; cap++)
		if ((j->caps & (1ULL << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) == -1)
			return -1;
	return 0;
}

enum jail_step
jail_lock(const struct jail_conf *j, uid_t uid)
{
	if (set_caps(j, uid) == -1)
		return JAIL_CAPS;
	if (j->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return JAIL_NNP;
	if (j->filter) {
		struct sock_fprog prog = { j->filter_len, j->filter };
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1)
			return JAIL_SECCOMP;
	}
	return JAIL_OK;
}
