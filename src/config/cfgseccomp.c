/*
 * The "seccomp" group of a jail: the default deny list, allow or deny by
 * syscall name, and the action, compiled with libseccomp at load time into
 * the BPF program jail.c installs just before a handler's execve(). Never
 * installs a filter itself.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cfgload.h"
#include "jail.h"

static const struct keyspec seccomp_keys[] = {
	{ KEY("defaults", K_BOOL) },
	{ KEY("allow", K_STRINGS) },
	{ KEY("deny", K_STRINGS) },
	{ KEY("action", K_STRING) },
	{ .name = NULL }
};

/*
 * What a jailed handler never needs: loading kernel code, mounting,
 * tracing, new namespaces, the clock, keys, rebooting, io_uring (whose
 * operations, IORING_OP_SOCKET among them, never pass through this
 * filter), taking another process's descriptors. Names this architecture
 * lacks are skipped.
 */
static const char *const default_deny[] = { "init_module", "finit_module",
    "delete_module", "kexec_load", "kexec_file_load", "bpf", "ptrace",
    "process_vm_readv", "process_vm_writev", "mount", "umount2",
    "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "unshare", "setns", "reboot",
    "swapon", "swapoff", "acct", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "syslog", "keyctl", "add_key",
    "request_key", "perf_event_open", "userfaultfd", "open_by_handle_at",
    "name_to_handle_at", "quotactl", "iopl", "ioperm", "sethostname",
    "setdomainname", "vhangup", "lookup_dcookie", "uselib", "nfsservctl",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "pidfd_getfd",
    "process_madvise", "kcmp", "fanotify_init", "open_tree_attr",
    "quotactl_fd" };

/*
 * The flags with which clone() makes a namespace (CLONE_NEWTIME is
 * clone3's and unshare's only): denied as unshare() is, one rule a flag.
 */
static const uint64_t clone_ns_flags[] = { CLONE_NEWNS, CLONE_NEWCGROUP,
    CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET };

/* Terminal ioctls that act on a terminal's input or console: never. */
static const uint64_t tty_ioctls[] = { TIOCSTI, TIOCLINUX };

static const struct {
	const char *name;
	int err;
} errno_names[] = {
	{ "EPERM", EPERM }, { "EACCES", EACCES }, { "ENOSYS", ENOSYS },
	{ "EINVAL", EINVAL }, { "EOPNOTSUPP", EOPNOTSUPP },
};

/* "kill" or an errno name, as a libseccomp action; 0 after an error. */
static uint32_t
seccomp_action(struct loader *ld, const char *who, const config_setting_t *grp)
{
	config_setting_t *s = grp ? config_setting_get_member(grp, "action") : NULL;
	const char *a = s ? config_setting_get_string(s) : "EPERM";

	if (strcmp(a, "kill") == 0)
		return SCMP_ACT_KILL_PROCESS;
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (strcmp(a, errno_names[i].name) == 0)
			return SCMP_ACT_ERRNO(errno_names[i].err);
	cfgkeys_error(ld, s, who, "seccomp: action: \"%s\" is not \"kill\" or one "
	    "of EPERM, EACCES, ENOSYS, EINVAL, EOPNOTSUPP", a);
	return 0;
}

static bool
is_default_deny(const char *name)
{
	for (size_t i = 0; i < sizeof(default_deny) / sizeof(default_deny[0]); i++)
		if (strcmp(name, default_deny[i]) == 0)
			return true;
	return false;
}

static uint64_t
ns_mask(void)
{
	uint64_t m = 0;

	for (size_t i = 0; i < sizeof(clone_ns_flags) / sizeof(clone_ns_flags[0]); i++)
		m |= clone_ns_flags[i];
	return m;
}

/*
 * What the default list cannot say by name: clone() with a namespace
 * flag, which makes what unshare() would; clone3(), whose flags are in
 * memory the filter cannot read, fails with ENOSYS so that libc falls back
 * to clone(); and the terminal ioctls that push input or act on the
 * console, compared on the low 32 bits the kernel reads (a command with
 * high bits set is the same command to it). An allow list allows clone()
 * only without those flags (add_rules()) and never clone3().
 */
static int
harden(scmp_filter_ctx ctx, bool allow, uint32_t action)
{
	int errors = 0;

	errors += seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(clone3), 0) < 0;
	if (allow)
		return errors;
	for (size_t i = 0; i < sizeof(clone_ns_flags) / sizeof(clone_ns_flags[0]); i++)
		errors += seccomp_rule_add(ctx, action, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, clone_ns_flags[i],
		    clone_ns_flags[i])) < 0;
	for (size_t i = 0; i < sizeof(tty_ioctls) / sizeof(tty_ioctls[0]); i++)
		errors += seccomp_rule_add(ctx, action, SCMP_SYS(ioctl), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, tty_ioctls[i])) < 0;
	return errors;
}

/* The rules of list s (allow or deny) into ctx; returns the errors. */
static unsigned
add_rules(struct loader *ld, const char *who, scmp_filter_ctx ctx,
    const config_setting_t *s, bool allow, bool defaults, uint32_t action)
{
	unsigned errors = 0;

	for (int i = 0; s && i < config_setting_length(s); i++) {
		const char *name = config_setting_get_string_elem(s, i);
		const config_setting_t *e = config_setting_get_elem(s, i);
		int nr = seccomp_syscall_resolve_name(name), r;
		if (nr == __NR_SCMP_ERROR) {
			cfgkeys_error(ld, e, who, "seccomp: %s: \"%s\" is not a "
			    "system call of this architecture", allow ? "allow" : "deny",
			    name);
			errors++;
		} else if (allow && defaults && is_default_deny(name)) {
			cfgkeys_error(ld, e, who, "seccomp: allow: \"%s\" is on the "
			    "default deny list (set defaults = false to allow it)", name);
			errors++;
		} else if (!allow && strcmp(name, "execve") == 0) {
			cfgkeys_error(ld, e, who, "seccomp: deny: execve: the "
			    "handler could not start");
			errors++;
		} else if (allow && defaults && strcmp(name, "clone3") == 0) {
			continue;	/* ENOSYS, always (harden()) */
		} else if ((r = allow && defaults && strcmp(name, "clone") == 0 ?
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, ns_mask(), 0)) :
		    seccomp_rule_add(ctx, allow ? SCMP_ACT_ALLOW : action,
		    nr, 0)) < 0 && r != -EEXIST) {
			cfgkeys_error(ld, e, who, "seccomp: \"%s\": %s", name,
			    strerror(-r));
			errors++;
		}
	}
	return errors;
}

/* The compiled filter, read back from libseccomp's BPF export. */
static int
export_filter(scmp_filter_ctx ctx, struct jail_conf *j)
{
	int fd = memfd_create("sockd-seccomp", MFD_CLOEXEC), rc = -1;
	off_t len;

	if (fd == -1)
		return -1;
	if (seccomp_export_bpf(ctx, fd) == 0 && (len = lseek(fd, 0, SEEK_END)) > 0 &&
	    len % sizeof(struct sock_filter) == 0 &&
	    len / sizeof(struct sock_filter) <= 0xffff &&
	    (j->filter = malloc(len)) != NULL &&
	    pread(fd, j->filter, len, 0) == len) {
		j->filter_len = len / sizeof(struct sock_filter);
		rc = 0;
	}
	close(fd);
	return rc;
}

/*
 * A deny list (the defaults, plus deny) with everything else allowed, or an
 * allow list (plus execve, which the filter must let through) with
 * everything else denied. No filter at all only with defaults = false and
 * no list.
 */
unsigned
cfgseccomp_parse(struct loader *ld, const char *who, const config_setting_t *grp,
    struct jail_conf *j)
{
	config_setting_t *allow = grp ? config_setting_get_member(grp, "allow") : NULL;
	config_setting_t *deny = grp ? config_setting_get_member(grp, "deny") : NULL;
	bool defaults = true;
	uint32_t action;
	scmp_filter_ctx ctx;
	unsigned errors = 0;

	if (grp && (errors = cfgkeys_check(ld, grp, seccomp_keys, NULL, who)) != 0)
		return errors;
	cfgkeys_bool(grp, "defaults", &defaults);
	if ((action = seccomp_action(ld, who, grp)) == 0)
		return 1;
	if (allow && deny) {
		cfgkeys_error(ld, deny, who, "seccomp: set allow or deny, not both");
		return 1;
	}
	if (!defaults && !allow && !deny && !j->no_sockets)
		return 0;
	if ((ctx = seccomp_init(allow ? action : SCMP_ACT_ALLOW)) == NULL)
		return 1;
	if (allow)
		errors += seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    seccomp_syscall_resolve_name("execve"), 0) < 0;
	for (size_t i = 0; !allow && defaults &&
	    i < sizeof(default_deny) / sizeof(default_deny[0]); i++) {
		int nr = seccomp_syscall_resolve_name(default_deny[i]);
		if (nr != __NR_SCMP_ERROR)
			errors += seccomp_rule_add(ctx, action, nr, 0) < 0;
	}
	if (defaults)
		errors += harden(ctx, allow != NULL, action);
	errors += add_rules(ld, who, ctx, allow ? allow : deny, allow != NULL,
	    defaults,
	    action);
	if (j->no_sockets && !allow)
		errors += seccomp_rule_add(ctx, action,
		    seccomp_syscall_resolve_name("socket"), 0) < 0;
	for (int i = 0; j->no_sockets && allow &&
	    i < config_setting_length(allow); i++)
		if (strcmp(config_setting_get_string_elem(allow, i), "socket") == 0) {
			cfgkeys_error(ld, config_setting_get_elem(allow, i), who,
			    "seccomp: allow: \"socket\" with no_sockets = true");
			errors++;
		}
	if (errors == 0 && export_filter(ctx, j) == -1) {
		cfgkeys_error(ld, grp, who, "seccomp: cannot compile the filter");
		errors++;
	}
	seccomp_release(ctx);
	return errors;
}
