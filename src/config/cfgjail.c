/*
 * The "jail" group of a service (or the default of the "sockd" section):
 * namespaces, the root and its binds, /tmp, capabilities, no_new_privs
 * and the syscall filter (cfgseccomp.c), resolved at load time into
 * struct jail_conf.
 * Paths are checked on disk, syscall names with libseccomp, and the whole
 * jail is tried once in a child, so whatever this kernel or this user
 * cannot do is an error naming the key, never a weaker jail. The filter
 * is compiled here, in the loader, once per service. Never runs a jail's
 * steps for a connection (jail.c does, in the handler's child).
 */
#include <errno.h>
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfgload.h"
#include "forked.h"
#include "jail.h"
#include "jailenv.h"
#include "jailns.h"

/*
 * The drop-in that lets sockd.service make jails, as installed; named
 * where the unit's limits are the likely reason a jail cannot be made.
 */
#ifndef SOCKD_DROPINS
#define SOCKD_DROPINS "/usr/local/share/sockd/sockd.service.d"
#endif
#define JAILS_DROPIN "the drop-in " SOCKD_DROPINS "/jails.conf allows " \
    "jails (sockd(8), systemd)"

static const struct keyspec jail_keys[] = {
	{ KEY("namespaces", K_STRINGS) },
	{ KEY("root", K_STRING) },
	{ KEY("bind", K_STRINGS) },
	{ KEY("bind_rw", K_STRINGS) },
	{ KEY("tmp", K_BOOL) },
	{ KEY("tmp_size", K_INT) },
	{ KEY("hide", K_STRINGS) },
	{ KEY("no_new_privs", K_BOOL) },
	{ KEY("caps", K_STRINGS) },
	{ KEY("seccomp", K_GROUP) },
	{ KEY("no_sockets", K_BOOL) },
	{ .name = NULL }
};

static const struct {
	const char *name;
	int flag;
} ns_names[] = {
	{ "pid", CLONE_NEWPID }, { "mount", CLONE_NEWNS }, { "ipc", CLONE_NEWIPC },
	{ "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET }, { "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP },
};
#define NNS (sizeof(ns_names) / sizeof(ns_names[0]))
#define NS_DEFAULT (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | \
    CLONE_NEWNET)

/* Capability n is cap_names[n]. */
static const char *const cap_names[] = { "chown", "dac_override",
    "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
    "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
    "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module",
    "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin",
    "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config",
    "mknod", "lease", "audit_write", "audit_control", "setfcap",
    "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend",
    "audit_read", "perfmon", "bpf", "checkpoint_restore" };
#define NCAPS (int)(sizeof(cap_names) / sizeof(cap_names[0]))

void
cfgjail_free(struct jail_conf *j)
{
	if (j == NULL)
		return;
	free(j->root);
	free(j->root_cd);
	for (size_t i = 0; i < j->nbinds; i++) {
		free(j->binds[i].src);
		free(j->binds[i].dst);
	}
	free(j->binds);
	for (size_t i = 0; i < j->nhide; i++)
		free(j->hide[i]);
	free(j->hide);
	free(j->filter);
	free(j);
}

static unsigned
parse_namespaces(struct loader *ld, const char *who, const config_setting_t *s,
    struct jail_conf *j)
{
	unsigned errors = 0;

	j->clone_flags = NS_DEFAULT;
	if (s == NULL)
		return 0;
	j->clone_flags = 0;
	for (int i = 0; i < config_setting_length(s); i++) {
		const char *name = config_setting_get_string_elem(s, i);
		size_t k;
		for (k = 0; k < NNS && strcmp(name, ns_names[k].name) != 0; k++)
			;
		if (k == NNS) {
			cfgkeys_error(ld, config_setting_get_elem(s, i), who,
			    "namespaces: unknown namespace \"%s\" (known: pid, mount, "
			    "ipc, uts, net, user, cgroup)", name);
			errors++;
		} else
			j->clone_flags |= ns_names[k].flag;
	}
	return errors;
}

/* The mount flags a user namespace may not clear on a remount. */
static unsigned long
locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(path, &sv) == -1)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* root + path as the host sees it, in buf. */
static const char *
under_root(const struct jail_conf *j, const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", strcmp(j->root, "/") == 0 ? "" : j->root, path);
	return buf;
}

/* A directory the jail needs in its root, which is read-only there. */
static unsigned
need_dir(struct loader *ld, const char *who, const config_setting_t *s,
    const struct jail_conf *j, const char *dir, const char *why)
{
	char path[PATH_MAX];
	struct stat st;

	if (stat(under_root(j, dir, path, sizeof(path)), &st) == 0 &&
	    S_ISDIR(st.st_mode))
		return 0;
	cfgkeys_error(ld, s, who, "root: \"%s\" has no directory %s, which %s",
	    j->root, dir, why);
	return 1;
}

static unsigned
parse_root(struct loader *ld, const char *who, const config_setting_t *grp,
    struct jail_conf *j)
{
	config_setting_t *s = config_setting_get_member(grp, "root");
	const char *root = s ? config_setting_get_string(s) : "/";
	struct stat st;
	unsigned errors = 0;

	if (root[0] != '/') {
		cfgkeys_error(ld, s, who, "root: \"%s\" is not an absolute path", root);
		return 1;
	}
	if (stat(root, &st) == -1 || !S_ISDIR(st.st_mode)) {
		int e = errno;
		cfgkeys_error(ld, s ? s : grp, who, "root: \"%s\": %s", root,
		    strerror(stat(root, &st) == 0 ? ENOTDIR : e));
		return 1;
	}
	j->root = strdup(root);
	/* The bind of "/" onto itself is entered through "..": a lookup of
	 * "/" alone stays on the mount below. */
	j->root_cd = strdup(strcmp(root, "/") == 0 ? "/.." : root);
	j->root_flags = locked_flags(root);
	if (s == NULL)
		s = (config_setting_t *)grp;
	for (int i = 0; i < JAIL_DEV_NODES; i++) {
		if (stat(jail_dev_names[i], &st) == -1 || !S_ISCHR(st.st_mode)) {
			cfgkeys_error(ld, s, who, "the host has no device %s",
			    jail_dev_names[i]);
			return 1;
		}
		j->dev_rdev[i] = st.st_rdev;
	}
	errors += need_dir(ld, who, s, j, JAIL_OLD_ROOT, "the jail mounts on");
	errors += need_dir(ld, who, s, j, "/dev", "the jail mounts on");
	if (j->tmp)
		errors += need_dir(ld, who, s, j, "/tmp", "tmp = true mounts on");
	return errors;
}

/* Whether path is dir or under it. */
static bool
under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/*
 * What the host's own root shows of itself by default: none of the
 * directories where users, services and the administrator keep their
 * files and sockets (a pathname socket answers connect() through a
 * read-only mount). The system itself (/usr, /etc, /bin, /lib) stays.
 */
static const char *const default_hide[] = { "/home", "/root", "/run", "/srv",
    "/mnt", "/media", "/var", "/opt", "/boot", "/sys", "/tmp", NULL };

/* Whether path is hidden, that is under a hidden directory or one. */
static bool
hidden(const struct jail_conf *j, const char *path)
{
	for (size_t i = 0; i < j->nhide; i++)
		if (under(path, j->hide[i]))
			return true;
	return false;
}

/* One directory to hide; a default the root lacks is skipped (quiet). */
static unsigned
add_hide(struct loader *ld, const char *who, const config_setting_t *e,
    struct jail_conf *j, const char *path, bool quiet)
{
	char host[PATH_MAX];
	struct stat st;
	const char *why = NULL;

	if (path[0] != '/' || strcmp(path, "/") == 0 || under(path, JAIL_OLD_ROOT) ||
	    under(path, "/dev"))
		why = "the jail makes /, /proc and /dev itself";
	else if (j->tmp && under(path, "/tmp"))
		why = "tmp = true mounts a new /tmp";
	else if (hidden(j, path))
		why = "it is under a directory hidden already";
	else if (lstat(under_root(j, path, host, sizeof(host)), &st) == -1)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory of the root";
	if (why && quiet)
		return 0;
	if (why) {
		cfgkeys_error(ld, e, who, "hide: \"%s\": %s", path, why);
		return 1;
	}
	if ((j->hide[j->nhide] = strdup(path)) == NULL)
		return 1;
	j->nhide++;
	return 0;
}

/* hide, or by default with the host's root, default_hide. */
static unsigned
parse_hides(struct loader *ld, const char *who, const config_setting_t *grp,
    struct jail_conf *j)
{
	const config_setting_t *s = config_setting_get_member(grp, "hide");
	size_t n = s ? (size_t)config_setting_length(s) :
	    sizeof(default_hide) / sizeof(default_hide[0]);
	unsigned errors = 0;

	if (s == NULL && strcmp(j->root, "/") != 0)
		return 0;
	if (n == 0 || (j->hide = calloc(n, sizeof(*j->hide))) == NULL)
		return 0;
	for (size_t i = 0; s == NULL && default_hide[i]; i++)
		errors += add_hide(ld, who, grp, j, default_hide[i], true);
	for (int i = 0; s && i < config_setting_length(s); i++)
		errors += add_hide(ld, who, config_setting_get_elem(s, i), j,
		    config_setting_get_string_elem(s, i), false);
	return errors;
}

/* One "SRC" or "SRC:DST" of bind or bind_rw. */
static unsigned
parse_bind(struct loader *ld, const char *who, const config_setting_t *e,
    const char *key, bool rw, struct jail_conf *j)
{
	char *src = strdup(config_setting_get_string(e)), *dst, host[PATH_MAX];
	struct stat sst, dstt;
	unsigned errors = 1;

	if (src == NULL)
		return 1;
	dst = strchr(src, ':');
	if (dst)
		*dst++ = '\0';
	else
		dst = src;
	if (src[0] != '/' || dst[0] != '/')
		cfgkeys_error(ld, e, who, "%s: \"%s\": paths must be absolute",
		    key, config_setting_get_string(e));
	else if (strcmp(dst, "/") == 0 || under(dst, JAIL_OLD_ROOT) ||
	    under(dst, "/dev"))
		cfgkeys_error(ld, e, who, "%s: \"%s\": the jail makes /, /proc "
		    "and /dev itself", key, dst);
	else if (j->tmp && under(dst, "/tmp"))
		cfgkeys_error(ld, e, who, "%s: \"%s\": tmp = true mounts a new /tmp "
		    "over it", key, dst);
	else if (stat(src, &sst) == -1)
		cfgkeys_error(ld, e, who, "%s: \"%s\": %s", key, src, strerror(errno));
	else if (!hidden(j, dst) &&
	    stat(under_root(j, dst, host, sizeof(host)), &dstt) == -1)
		cfgkeys_error(ld, e, who, "%s: \"%s\" has nothing to mount on: "
		    "%s: %s (the root is read-only: make it there)", key, dst, host,
		    strerror(errno));
	else if (!hidden(j, dst) && S_ISDIR(sst.st_mode) != S_ISDIR(dstt.st_mode))
		cfgkeys_error(ld, e, who, "%s: \"%s\" is a %s but %s is not",
		    key, src, S_ISDIR(sst.st_mode) ? "directory" : "file", host);
	else {
		struct jail_bind *b = &j->binds[j->nbinds++];
		b->rw = rw;
		b->flags = locked_flags(src);
		/* Under a hidden directory the jail makes its mount point. */
		b->make = hidden(j, dst);
		b->dir = S_ISDIR(sst.st_mode);
		b->dst = strdup(dst);
		if (asprintf(&b->src, "%s%s", JAIL_OLD_ROOT, src) == -1)
			b->src = NULL;
		errors = 0;
	}
	free(src);
	return errors;
}

static unsigned
parse_binds(struct loader *ld, const char *who, const config_setting_t *grp,
    struct jail_conf *j)
{
	config_setting_t *ro = config_setting_get_member(grp, "bind");
	config_setting_t *rw = config_setting_get_member(grp, "bind_rw");
	int n = (ro ? config_setting_length(ro) : 0) +
	    (rw ? config_setting_length(rw) : 0);
	unsigned errors = 0;

	/* One more for the server, should it be hidden (check_server()). */
	if ((j->binds = calloc(n + 1, sizeof(*j->binds))) == NULL)
		return 1;
	for (int i = 0; ro && i < config_setting_length(ro); i++)
		errors += parse_bind(ld, who, config_setting_get_elem(ro, i), "bind",
		    false, j);
	for (int i = 0; rw && i < config_setting_length(rw); i++)
		errors += parse_bind(ld, who, config_setting_get_elem(rw, i), "bind_rw",
		    true, j);
	return errors;
}

/*
 * A bounded /tmp: tmpfs would take half the RAM by default, for each
 * connection. Its inodes are bounded too, at one per 4 KiB.
 */
#define TMP_SIZE_DEFAULT (16LL << 20)

static unsigned
parse_tmp_size(struct loader *ld, const char *who, const config_setting_t *grp,
    struct jail_conf *j)
{
	long long size = TMP_SIZE_DEFAULT;

	if (cfgkeys_int(ld, config_setting_get_member(grp, "tmp_size"),
	    "tmp_size", 4096, 1LL << 40, who, &size) == -1)
		return 1;
	snprintf(j->tmp_opts, sizeof(j->tmp_opts),
	    "mode=1777,size=%lld,nr_inodes=%lld", size, size / 4096 + 16);
	return 0;
}

/* The handler must be in the jail: under the bind holding it, or the root. */
static unsigned
check_server(struct loader *ld, const config_setting_t *grp, const char *who,
    struct jail_conf *j, const char *server)
{
	const struct jail_bind *best = NULL;
	struct jail_bind *own;
	char host[PATH_MAX];
	struct stat st;

	if (j->tmp && under(server, "/tmp")) {
		cfgkeys_error(ld, grp, who, "jail: server \"%s\" is under /tmp, which "
		    "tmp = true replaces in the jail", server);
		return 1;
	}
	for (size_t i = 0; i < j->nbinds; i++) {
		size_t n = strlen(j->binds[i].dst);
		if (strncmp(server, j->binds[i].dst, n) == 0 && server[n] == '/' &&
		    (best == NULL || n > strlen(best->dst)))
			best = &j->binds[i];
	}
	/* A hidden server is bound alone, read-only, where it is. */
	if (best == NULL && hidden(j, server) && stat(server, &st) == 0 &&
	    S_ISREG(st.st_mode)) {
		own = &j->binds[j->nbinds++];
		*own = (struct jail_bind){ .dst = strdup(server),
		    .flags = locked_flags(server), .make = true };
		if (asprintf(&own->src, "%s%s", JAIL_OLD_ROOT, server) == -1)
			own->src = NULL;
		return own->src == NULL || own->dst == NULL;
	}
	if (best)
		snprintf(host, sizeof(host), "%s%s", best->src + strlen(JAIL_OLD_ROOT),
		    server + strlen(best->dst));
	else
		under_root(j, server, host, sizeof(host));
	if (stat(host, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	cfgkeys_error(ld, grp, who, "jail: server \"%s\" is not in the jail (it "
	    "would be %s on the host)", server, host);
	return 1;
}

static unsigned
parse_caps(struct loader *ld, const char *who, const config_setting_t *s,
    struct jail_conf *j)
{
	unsigned errors = 0;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");

	j->cap_last = NCAPS - 1;
	if (f) {
		if (fscanf(f, "%d", &j->cap_last) != 1 || j->cap_last > 63)
			j->cap_last = NCAPS - 1;
		fclose(f);
	}
	for (int i = 0; s && i < config_setting_length(s); i++) {
		const char *name = config_setting_get_string_elem(s, i);
		int k;
		if (strncasecmp(name, "cap_", 4) == 0)
			name += 4;
		for (k = 0; k < NCAPS && strcasecmp(name, cap_names[k]) != 0; k++)
			;
		if (k == NCAPS || k > j->cap_last) {
			cfgkeys_error(ld, config_setting_get_elem(s, i), who,
			    "caps: \"%s\" is not a capability %s",
			    config_setting_get_string_elem(s, i),
			    k == NCAPS ? "(see capabilities(7))" : "of this kernel");
			errors++;
		} else
			j->caps |= 1ULL << k;
	}
	return errors;
}

/* The first namespace of flags this kernel refuses to make for us, or NULL. */
static const char *
refused_namespace(int flags, int *err)
{
	for (size_t k = 0; k < NNS; k++) {
		int f = ns_names[k].flag | (flags & CLONE_NEWUSER);
		pid_t pid;
		if (!(flags & ns_names[k].flag))
			continue;
		if ((pid = syscall(SYS_clone, f | SIGCHLD, 0, 0, 0, 0)) == 0)
			_exit(0);
		if (pid == -1) {
			*err = errno;
			return ns_names[k].name;
		}
		(void)waitpid(pid, NULL, 0);
	}
	return NULL;
}

/*
 * What sockd run as root needs for a jail: it makes the namespaces, mounts,
 * makes /dev's nodes and drops the bounding set itself, and each
 * connection joins the service's mount namespace (setns(2) asks
 * CAP_SYS_CHROOT for that); and whatever the handler keeps. A jail with a
 * user namespace needs nothing of the host.
 */
static uint64_t
needed_caps(const struct jail_conf *j)
{
	uint64_t caps = j->caps | 1ULL << CAP_SYS_ADMIN | 1ULL << CAP_SETPCAP;

	if (geteuid() != 0 || (j->clone_flags & CLONE_NEWUSER))
		return 0;
	if (j->clone_flags & CLONE_NEWNS)
		caps |= 1ULL << CAP_MKNOD | 1ULL << CAP_SYS_CHROOT;
	return caps;
}

/* "CAP_MKNOD, CAP_SYS_ADMIN" for the bits of caps, into buf. */
static void
cap_list(uint64_t caps, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int k = 0; k < NCAPS && n + 24 < len; k++) {
		if (!(caps & (1ULL << k)))
			continue;
		n += snprintf(buf + n, len - n, "%sCAP_", n ? ", " : "");
		for (const char *c = cap_names[k]; *c && n + 1 < len; c++)
			buf[n++] = toupper((unsigned char)*c);
		buf[n] = '\0';
	}
}

/*
 * The capabilities the jail needs that sockd lacks, an error naming them
 * and, when its bounding set lacks them (as sockd.service's does), the
 * drop-in that adds them.
 */
static unsigned
check_caps(struct loader *ld, const char *who, const config_setting_t *s,
    const struct jail_conf *j)
{
	uint64_t lacking = jailenv_lacking(needed_caps(j), false);
	char names[1024];

	if (lacking == 0)
		return 0;
	cap_list(lacking, names, sizeof(names));
	if (jailenv_lacking(lacking, true) == 0)
		cfgkeys_error(ld, s, who, "sockd lacks %s, which the jail needs",
		    names);
	else
		cfgkeys_error(ld, s, who, "sockd lacks %s, which the jail needs: "
		    "its capability bounding set leaves them out (sockd.service's "
		    "CapabilityBoundingSet=, likely); " JAILS_DROPIN, names);
	return 1;
}

/* What a refusal (err) under a seccomp filter likely means, or "". */
static const char *
filter_hint(int err)
{
	if (err != EPERM || !jailenv_filtered())
		return "";
	return "; sockd runs under a seccomp filter, which refuses it "
	    "(sockd.service's RestrictNamespaces=, likely): " JAILS_DROPIN;
}

/* The trial's own steps, after those of enum jail_step. */
#define TRIAL_IDS 100
#define TRIAL_SERVER 101

struct trial_report {
	int step, err;
};

/* What a failed step of the trial is about, for the error message. */
static const char *
step_key(int step)
{
	switch (step) {
	case JAIL_OK:		return "";
	case JAIL_USERNS:	return "namespaces: user: the id maps fail";
	case JAIL_MOUNT:	return "root, bind, hide, tmp: the mounts fail";
	case JAIL_PIVOT:	return "root: pivot_root fails";
	case JAIL_CAPS:		return "caps fail";
	case JAIL_NNP:		return "no_new_privs fails";
	case JAIL_SECCOMP:	return "seccomp: the filter fails";
	case JAIL_NET:		return "no_sockets: the shared network namespace "
				    "fails";
	case JAIL_CLONE:	return "namespaces: clone fails";
	case TRIAL_IDS:		return "the handler's user and group fail";
	case TRIAL_SERVER:	return "server: the handler's user cannot execute "
				    "it in the jail";
	}
	return "?";
}

/* The handler's ids, as spawn.c's child_setup() takes them. */
static int
trial_ids(const struct jail_conf *j, const struct svc_conf *sc, uid_t own)
{
	if (j->own_ids)
		return setgroups(0, NULL) == -1 || setgid(own) == -1 ||
		    setuid(own) == -1 ? -1 : 0;
	return setgroups(sc->ngroups, sc->groups) == -1 ||
	    setgid(sc->gid) == -1 || setuid(sc->uid) == -1 ? -1 : 0;
}

/*
 * A connection's child, step for step as spawn.c's jailed_child() takes
 * them but the execve(): whatever a connection would fail, the load fails.
 * The server is checked as the handler's user sees it in the jail.
 */
static void __attribute__((noreturn))
connection_child(const struct jail_conf *j, const struct jailns *ns,
    const struct svc_conf *sc, uid_t own, int report)
{
	bool switching = geteuid() == 0 && (j->own_ids || sc->set_ids);
	uid_t uid = j->own_ids ? own : sc->set_ids ? sc->uid : geteuid();
	struct trial_report r = { JAIL_OK, 0 };
	int keep[] = { report, ns->mnt, ns->net };

	(void)forked_tie(0);	/* getppid() is 0 in a new pid namespace */
	forked_keep(keep, 3);
	if ((r.step = jail_join(j, ns)) == JAIL_OK &&
	    (r.step = jail_enter(j, ns, switching)) == JAIL_OK) {
		if (switching && trial_ids(j, sc, own) == -1)
			r.step = TRIAL_IDS;
		else if (sc->server && access(sc->server, X_OK) == -1)
			r.step = TRIAL_SERVER;
		else
			r.step = jail_lock(j, uid);
	}
	r.err = errno;
	(void)!write(report, &r, sizeof(r));
	_exit(0);
}

/*
 * A child made as a connection's, with the namespaces the service would
 * share (ns); its report in *r. -1 if it could not be made (errno).
 */
static int
trial_run(const struct jail_conf *j, const struct jailns *ns,
    const struct svc_conf *sc, uid_t own, struct trial_report *r)
{
	int report[2], e;
	pid_t pid;

	if (pipe2(report, O_CLOEXEC) == -1)
		return -1;
	if ((pid = syscall(SYS_clone, jail_clone_flags(j) | SIGCHLD, 0, 0, 0,
	    0)) == 0)
		connection_child(j, ns, sc, own, report[1]);
	e = errno;
	close(report[1]);
	*r = (struct trial_report){ JAIL_MOUNT, EPIPE };
	if (pid != -1)
		(void)!read(report[0], r, sizeof(*r));
	close(report[0]);
	if (pid == -1)
		return errno = e, -1;
	(void)waitpid(pid, NULL, 0);
	return 0;
}

/*
 * The whole jail, tried once as it will be used: the namespaces a running
 * service would share (jailns.h), made for the trial alone, then a child
 * made as a connection's goes through every step of one.
 */
static unsigned
try_jail(struct loader *ld, const char *who, const config_setting_t *s,
    const struct jail_conf *j, const struct svc_conf *sc)
{
	struct trial_report r = { JAIL_OK, 0 };
	struct jailns ns;
	const char *name;
	int err = 0, made;

	r.step = jailns_make(j, &ns, &r.err);
	made = r.step == JAIL_CLONE ? -1 : 0;
	if (r.step == JAIL_OK)
		made = trial_run(j, &ns, sc, ld->cfg->global.jail_ids_first, &r);
	jailns_close(&ns);
	if (made == -1) {
		err = r.step == JAIL_CLONE ? r.err : errno;
		if ((name = refused_namespace(j->clone_flags, &err)) == NULL)
			name = "(all together)";
		cfgkeys_error(ld, s, who, "namespaces: the kernel refuses a new %s "
		    "namespace: %s%s", name, strerror(err), filter_hint(err));
		return 1;
	}
	if (r.step == JAIL_OK)
		return 0;
	cfgkeys_error(ld, s, who, "%s on this system: %s%s", step_key(r.step),
	    strerror(r.err), filter_hint(r.err));
	return 1;
}

/* The rules across keys, and what only root may ask for. */
static unsigned
check_consistent(struct loader *ld, const char *who,
    const config_setting_t *grp, const struct jail_conf *j,
    const struct svc_conf *sc)
{
	const config_setting_t *ns = config_setting_get_member(grp, "namespaces");
	const config_setting_t *at = ns ? ns : grp;
	bool fs = config_setting_get_member(grp, "root") ||
	    config_setting_get_member(grp, "bind") ||
	    config_setting_get_member(grp, "bind_rw") ||
	    config_setting_get_member(grp, "tmp");

	if (geteuid() != 0 && !(j->clone_flags & CLONE_NEWUSER)) {
		cfgkeys_error(ld, at, who, "namespaces: sockd runs as uid "
		    "%ld: without root a jail needs \"user\"", (long)geteuid());
		return 1;
	}
	if (geteuid() == 0 && (j->clone_flags & CLONE_NEWUSER)) {
		cfgkeys_error(ld, at, who, "namespaces: \"user\" maps sockd's own "
		    "ids, so the handler of a sockd run as root would be root on the "
		    "host: remove \"user\" (as root, sockd makes the other "
		    "namespaces without it)");
		return 1;
	}
	if (geteuid() == 0 && sc->set_ids && sc->uid == 0) {
		cfgkeys_error(ld, at, who, "a jailed handler never runs as root: "
		    "name another user, or none for an id of its own per "
		    "connection (jail_ids), and keep what it needs with caps");
		return 1;
	}
	if (geteuid() == 0 && !sc->set_ids && !(j->clone_flags & CLONE_NEWPID)) {
		cfgkeys_error(ld, at, who, "namespaces: without \"pid\" what a "
		    "handler leaves running outlives its connection, and with it the "
		    "id of its own that the connection's next owner would share: add "
		    "\"pid\", or name a user");
		return 1;
	}
	if ((j->clone_flags & CLONE_NEWUSER) && sc->set_ids &&
	    (sc->uid != geteuid() || sc->gid != getegid())) {
		cfgkeys_error(ld, at, who, "namespaces: \"user\" maps sockd's own ids "
		    "only, so the handler cannot run as user %s",
		    sc->user ? sc->user : "(group only)");
		return 1;
	}
	if (fs && !(j->clone_flags & CLONE_NEWNS)) {
		cfgkeys_error(ld, at, who, "namespaces: root, bind, bind_rw and tmp "
		    "need \"mount\"");
		return 1;
	}
	if (j->filter && !j->no_new_privs) {
		cfgkeys_error(ld, config_setting_get_member(grp, "no_new_privs"),
		    who,
		    "no_new_privs = false: a seccomp filter needs it (set seccomp = "
		    "{ defaults = false; } for none)");
		return 1;
	}
	return 0;
}

/*
 * The jail group s (the service's own when own, else the global default)
 * into sc->jail. A built-in runs sockd's own code and takes no jail; the
 * global default leaves built-ins alone.
 */
unsigned
cfgjail_parse(struct loader *ld, const config_setting_t *s, bool own,
    const char *svcwho, struct svc_conf *sc)
{
	char who[CONFIG_NAME_MAX + 48];
	struct jail_conf *j;
	unsigned errors;

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_GROUP)
		return 0;
	if (sc->builtin) {
		if (!own)
			return 0;
		cfgkeys_error(ld, s, svcwho, "jail: a built-in runs inside sockd and "
		    "cannot be jailed");
		return 1;
	}
	snprintf(who, sizeof(who), "%s: jail", svcwho);
	if ((errors = cfgkeys_check(ld, s, jail_keys, NULL, who)) != 0)
		return errors;
	if ((j = sc->jail = calloc(1, sizeof(*j))) == NULL)
		return 1;
	j->tmp = j->no_new_privs = true;
	cfgkeys_bool(s, "tmp", &j->tmp);
	cfgkeys_bool(s, "no_new_privs", &j->no_new_privs);
	cfgkeys_bool(s, "no_sockets", &j->no_sockets);
	snprintf(j->uid_map, sizeof(j->uid_map), "%lu %lu 1\n",
	    (unsigned long)geteuid(), (unsigned long)geteuid());
	snprintf(j->gid_map, sizeof(j->gid_map), "%lu %lu 1\n",
	    (unsigned long)getegid(), (unsigned long)getegid());
	errors += parse_namespaces(ld, who,
	    config_setting_get_member(s, "namespaces"), j);
	j->proc = (j->clone_flags & CLONE_NEWPID) && (j->clone_flags & CLONE_NEWNS);
	j->tmp = j->tmp && (j->clone_flags & CLONE_NEWNS);
	errors += parse_tmp_size(ld, who, s, j);
	if (j->clone_flags & CLONE_NEWNS) {
		errors += parse_root(ld, who, s, j);
		if (errors == 0)
			errors += parse_hides(ld, who, s, j);
		if (errors == 0)
			errors += parse_binds(ld, who, s, j);
	}
	errors += parse_caps(ld, who, config_setting_get_member(s, "caps"), j);
	errors += cfgseccomp_parse(ld, who, config_setting_get_member(s, "seccomp"),
	    j);
	if (errors == 0)
		errors += check_consistent(ld, who, s, j, sc);
	/* Root runs a handler that names no user as an id of its own. */
	j->own_ids = geteuid() == 0 && !sc->set_ids;
	if (errors == 0 && sc->server && (j->clone_flags & CLONE_NEWNS))
		errors += check_server(ld, s, svcwho, j, sc->server);
	if (errors == 0 && !ld->checked)
		errors += check_caps(ld, who, s, j);
	if (errors == 0 && !ld->checked)
		errors += try_jail(ld, who, s, j, sc);
	return errors;
}
