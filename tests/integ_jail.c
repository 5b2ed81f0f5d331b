/*
 * Integration: jailed handlers, in real namespaces. What the probe sees
 * from inside (its pid, the read-only root and the binds, /tmp, /dev, the
 * network, capabilities, no_new_privs, the syscall filter), that what a
 * handler starts ends with its connection, that many jailed connections
 * leave nothing behind, and the jail's load-time errors (sockd -t).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_util.h"

static char buf[65536];

static int ns_fds(pid_t, const char *kind);

/* The probe the jails run, where a jail with tmp = true can see it. */
static const char *
jprobe(void)
{
	return it_jail_prog("tests/probe");
}

/* The directory of the probe, which the jails bind. */
static const char *
probe_dir(void)
{
	static char dir[4096];

	snprintf(dir, sizeof(dir), "%s", jprobe());
	*strrchr(dir, '/') = '\0';
	return dir;
}

/* mkdir -p of path under root. */
static void
mkdirs(const char *root, const char *path)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s%s", root, path);
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		(void)mkdir(p, 0755);
		*s = '/';
	}
	ck_assert_msg(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s", p);
}

/*
 * A root for a jail: the directories the jail mounts on, /usr (bound from
 * the host's) with the merged-/usr links, where the probe's directory and
 * /data go. Its top-level entries are counted in *n.
 */
static const char *
make_root(int *n)
{
	static const char *const dirs[] = { "/proc", "/dev", "/tmp", "/usr", "/data" };
	static const char *const links[][2] = { { "usr/lib", "/lib" },
	    { "usr/lib64", "/lib64" }, { "usr/bin", "/bin" } };
	const char *root = it_mkdir("root");
	char p[4096];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdirs(root, dirs[i]);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", root, links[i][1]);
		ck_assert_int_eq(symlink(links[i][0], p), 0);
	}
	mkdirs(root, probe_dir());
	*n = 8 + (strncmp(probe_dir(), "/usr/", 5) != 0 &&
	    strncmp(probe_dir(), "/tmp/", 5) != 0);
	return root;
}

/* Writes the configuration of start_jail(); returns its path. */
static const char *
start_jail_conf(uint16_t port, const char *args, const char *jail)
{
	return tu_write("sockd.conf",
	    "services = ({ name = \"j\"; protocol = \"tcp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; server = \"%s\";\n"
	    "  args = [\"probe\", %s];\n"
	    "  jail = { %s };\n});\n", port, jprobe(), args, jail);
}

/* Starts sockd with one jailed probe service: its args and its jail body. */
static struct daemon *
start_jail(uint16_t port, const char *args, const char *jail)
{
	return it_start(start_jail_conf(port, args, jail));
}

/* One connection's report, up to its "end". */
static const char *
ask(struct daemon *d, uint16_t port)
{
	return it_report(d, port, buf, sizeof(buf), IT_WAIT);
}

static void
expect_line(const char *report, const char *line)
{
	ck_assert_msg(it_has_line(report, line), "no line \"%s\" in:\n%s", line,
	    report);
}

START_TEST(jail_from_inside)
{
	uint16_t port = tu_free_port();
	const char *rw = it_mkdir("rw"), *r;
	int nroot;
	const char *root = make_root(&nroot);
	char args[8192], jail[8192], line[4200];
	struct daemon *d;
	struct stat st;

	/* The handler runs as an id of its own: the directory is for anyone. */
	ck_assert_int_eq(chmod(rw, 01777), 0);
	snprintf(args, sizeof(args), "\"jail\", \"/data\", \"%s\", \"/etc\"",
	    probe_dir());
	snprintf(jail, sizeof(jail), "root = \"%s\"; bind = [\"/usr\", \"%s\"]; "
	    "bind_rw = [\"%s:/data\"];", root, probe_dir(), rw);
	d = start_jail(port, args, jail);
	r = ask(d, port);
	expect_line(r, "pid=1");
	expect_line(r, "jail:rootwrite=EROFS");
	expect_line(r, "jail:tmpwrite=ok");
	expect_line(r, "jail:tmpfiles=1");
	/* The rw bind writes through to the host; the others are read-only. */
	expect_line(r, "jail:write:/data=ok");
	snprintf(line, sizeof(line), "%s/probe-1", rw);
	ck_assert_msg(stat(line, &st) == 0, "%s is not on the host", line);
	snprintf(line, sizeof(line), "jail:write:%s=EROFS", probe_dir());
	expect_line(r, line);
	expect_line(r, "jail:path:/etc=ENOENT");
	ck_assert_int_eq(it_count_prefix(r, "jail:root:"), nroot);
	/* /, /usr, the probe's dir, /data, /dev, /proc, /tmp, and what of
	 * /proc is masked or read-only. */
	ck_assert_int_eq(it_count_prefix(r, "jail:mount:") -
	    it_count_prefix(r, "jail:mount:/proc/"), 7);
	expect_line(r, "jail:mount:/proc/sys");
	expect_line(r, "jail:mount:/proc/keys");
	expect_line(r, "jail:mount:/data");
	expect_line(r, "jail:dev:urandom");
	ck_assert_int_eq(it_count_prefix(r, "jail:dev:"), 5);
	expect_line(r, "jail:devnull=ok");
	expect_line(r, "jail:urandom=ok");
	/* Only a loopback, down: no connection leaves the jail. */
	ck_assert_int_eq(it_count_prefix(r, "jail:if:"), 1);
	expect_line(r, "jail:if:lo");
	expect_line(r, "jail:lo=down");
	expect_line(r, "jail:connect=ENETUNREACH");
	expect_line(r, "jail:status:NoNewPrivs=1");
	expect_line(r, "jail:status:Seccomp=2");
	expect_line(r, "jail:status:CapEff=0000000000000000");
	expect_line(r, "jail:status:CapPrm=0000000000000000");
	expect_line(r, "jail:status:CapInh=0000000000000000");
	expect_line(r, "jail:status:CapBnd=0000000000000000");
	expect_line(r, "jail:status:CapAmb=0000000000000000");
	/* The default filter denies unshare(); the rest goes through. */
	expect_line(r, "jail:unshare=EPERM");
	expect_line(r, "jail:sched_yield=ok");
	expect_line(r, "env:TCPREMOTEIP=127.0.0.1");
	snprintf(line, sizeof(line), "env:TCPLOCALPORT=%u", port);
	expect_line(r, line);
	/* Each connection has a /tmp of its own. */
	r = ask(d, port);
	expect_line(r, "jail:tmpfiles=1");
	it_stop(d);
}
END_TEST

START_TEST(seccomp_errno)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_jail(port, "\"jail\"", "seccomp = { deny = "
	    "[\"sched_yield\"]; action = \"ENOSYS\"; };");
	const char *r = ask(d, port);

	expect_line(r, "jail:sched_yield=ENOSYS");
	expect_line(r, "jail:unshare=ENOSYS");
	expect_line(r, "pid=1");
	it_stop(d);
}
END_TEST

START_TEST(seccomp_kill)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_jail(port, "\"jail\"", "seccomp = { deny = "
	    "[\"sched_yield\"]; action = \"kill\"; };");
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert_msg(it_wait_log_count(d, IT_LOG_KILLED "31", 1, IT_WAIT),
	    "the probe was not killed by SIGSYS:\n%s", it_tail(d->log));
	it_stop(d);
}
END_TEST

/* The pids of processes whose command line holds tag. */
static int
tagged(const char *tag, pid_t *pids, int max)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (dir && (e = readdir(dir)) != NULL) {
		char path[300], cmd[4096];
		ssize_t len;
		int fd;
		if (atoi(e->d_name) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		len = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		for (ssize_t i = 0; i < len; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		if (len > 0 && (cmd[len] = '\0', strstr(cmd, tag)) && n < max)
			pids[n++] = atoi(e->d_name);
	}
	if (dir)
		closedir(dir);
	return n;
}

START_TEST(grandchild_ends_with_connection)
{
	uint16_t port = tu_free_port();
	char args[128], tag[64];
	struct daemon *d;
	pid_t pids[8];
	int fd, n = 0;
	long end;

	snprintf(tag, sizeof(tag), "jail-tag-%ld", (long)getpid());
	snprintf(args, sizeof(args), "\"grandchild\", \"%s\"", tag);
	d = start_jail(port, args, "");
	fd = tu_connect(port);
	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, buf, sizeof(buf), "end\n", IT_WAIT);
	ck_assert_msg(strstr(buf, "grandchild="), "got \"%s\"", buf);
	ck_assert_int_eq(tagged(tag, pids, 8), 2);
	close(fd);
	/* The handler, pid 1 of its namespace, ends; the grandchild with it. */
	for (end = tu_now_ms() + IT_WAIT; tu_now_ms() < end; usleep(10000))
		if ((n = tagged(tag, pids, 8)) == 0)
			break;
	for (int i = 0; i < n; i++)
		(void)kill(pids[i], SIGKILL);
	ck_assert_msg(n == 0, "%d process(es) outlived the connection", n);
	it_stop(d);
}
END_TEST

/*
 * The host's mounts (this process's namespace) on the points a jail mounts
 * on, one "ID POINT" line each: others on a shared machine may mount
 * elsewhere meanwhile.
 */
static void
host_mounts(char *out, size_t len)
{
	static const char *const points[] = { "/", "/proc", "/tmp", "/dev",
	    "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
	    "/usr" };
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], id[32], point[4096];
	size_t n = 0;

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
			if (sscanf(line, "%31s %*s %*s %*s %4095s", id, point) == 2 &&
			    strcmp(point, points[i]) == 0 && n < len)
				n += snprintf(out + n, len - n, "%s %s\n", id, point);
	if (f)
		fclose(f);
}

/* The namespaces of a kind ("mnt:[") the master holds a descriptor of. */
static int
ns_fds(pid_t pid, const char *kind)
{
	char dir[64], path[400], target[128];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		ssize_t len;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((len = readlink(path, target, sizeof(target) - 1)) > 0) {
			target[len] = '\0';
			n += strstr(target, kind) != NULL;
		}
	}
	closedir(d);
	return n;
}

/*
 * SOCKD_JAIL_CONNS connections (200 unless set; 1000 by hand) through a
 * full jail, up to 8 at a time: the master's descriptors, children and
 * namespaces and the host's mounts are back to what they were.
 */
START_TEST(jails_leave_nothing)
{
	static char before[65536], after[65536];
	const char *env = getenv("SOCKD_JAIL_CONNS");
	int total = env ? atoi(env) : 200, done = 0, fds[8], fdsbase;
	uint16_t port = tu_free_port();
	struct daemon *d;
	char tag[64];
	pid_t pids[4];

	snprintf(tag, sizeof(tag), "jail-many-%ld", (long)getpid());
	host_mounts(before, sizeof(before));
	d = it_start(tu_write("sockd.conf", "services = ({ name = \"j\"; "
	    "protocol = \"tcp\"; port = %u; address = \"127.0.0.1\"; server = \"%s\"; "
	    "args = [\"probe\", \"env\", \"%s\"]; jail = { bind = [\"/usr\"]; }; });\n",
	    port, jprobe(), tag));
	fdsbase = tu_count_fds(d->pid);
	ck_assert_int_eq(ns_fds(d->pid, "mnt:["), 1);
	ck_assert_int_eq(ns_fds(d->pid, "net:["), 0);
	while (done < total) {
		int n = total - done < 8 ? total - done : 8;
		for (int i = 0; i < n; i++)
			ck_assert_int_ge(fds[i] = tu_connect(port), 0);
		for (int i = 0; i < n; i++) {
			tu_read_until(fds[i], buf, sizeof(buf), "\nend\n", IT_WAIT);
			tu_drain_log(d);
			ck_assert_msg(it_has_line(buf, "pid=1"), "connection %d: \"%s\"\n%s",
			    done + i, buf, it_tail(d->log));
			close(fds[i]);
		}
		done += n;
	}
	ck_assert_msg(it_wait_idle(d->pid, fdsbase, IT_WAIT * 2),
	    "sockd holds %d children, %d fds (had %d)", tu_count_children(d->pid),
	    tu_count_fds(d->pid), fdsbase);
	ck_assert_int_eq(ns_fds(d->pid, "mnt:["), 1);
	ck_assert_int_eq(ns_fds(d->pid, "net:["), 0);
	ck_assert_int_eq(tagged(tag, pids, 4), 0);
	host_mounts(after, sizeof(after));
	ck_assert_str_eq(before, after);
	it_stop(d);
}
END_TEST

/*
 * no_sockets: socket(2) fails, and the connections share one empty network
 * namespace, which the master holds beside the mount template.
 */
START_TEST(no_sockets_jail)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_jail(port, "\"jail\"", "no_sockets = true;");
	const char *r = ask(d, port);

	expect_line(r, "pid=1");
	expect_line(r, "jail:connect=EPERM");
	ck_assert_int_eq(it_count_prefix(r, "jail:if:"), 1);
	expect_line(r, "jail:if:lo");
	ck_assert_int_eq(ns_fds(d->pid, "net:["), 1);
	ck_assert_int_eq(ns_fds(d->pid, "mnt:["), 1);
	it_stop(d);
}
END_TEST

/* The target of the master's one descriptor of kind ("mnt:["), or "". */
static const char *
ns_target(pid_t pid, const char *kind)
{
	static char target[128];
	char dir[64], path[400];
	DIR *d;
	struct dirent *e;

	target[0] = '\0';
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(dir)) == NULL)
		return target;
	while ((e = readdir(d)) != NULL) {
		ssize_t len;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((len = readlink(path, target, sizeof(target) - 1)) > 0) {
			target[len] = '\0';
			if (strstr(target, kind))
				break;
		}
		target[0] = '\0';
	}
	closedir(d);
	return target;
}

/*
 * The running service holds its jail's template, one, made anew at each
 * reload (which shows the jail's paths as they are now).
 */
START_TEST(template_follows_the_jail)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_jail(port, "\"jail\"", "");
	char first[128], second[128];

	snprintf(first, sizeof(first), "%s", ns_target(d->pid, "mnt:["));
	ck_assert_msg(first[0], "no template held");
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert(tu_wait_log(d, "reloaded", IT_WAIT));
	snprintf(second, sizeof(second), "%s", ns_target(d->pid, "mnt:["));
	ck_assert_msg(second[0] && strcmp(first, second) != 0, "%s then %s",
	    first, second);
	ck_assert_int_eq(ns_fds(d->pid, "mnt:["), 1);
	expect_line(ask(d, port), "pid=1");
	it_stop(d);
}
END_TEST

/* A sockd that is not root jails in a user namespace. */
START_TEST(user_namespace_jail)
{
	uint16_t port = tu_free_port();
	char conf[4096], w[4096];
	struct daemon *d;
	const char *r;

	snprintf(w, sizeof(w), "%s", tu_write("as-nobody", "#!/bin/sh\nexec "
	    "setpriv --reuid=65534 --regid=65534 --clear-groups \"$@\"\n"));
	ck_assert_int_eq(chmod(w, 0755), 0);
	ck_assert_int_eq(chmod(tu_tmpdir(), 0755), 0);
	snprintf(conf, sizeof(conf), "%s", tu_write("sockd.conf",
	    "services = ({ name = \"j\"; protocol = \"tcp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; server = \"%s\"; args = [\"probe\", "
	    "\"jail\"];\n  jail = { namespaces = [\"user\", \"pid\", \"mount\", "
	    "\"ipc\", \"uts\", \"net\"]; };\n});\n", port, jprobe()));
	ck_assert_int_eq(chmod(conf, 0644), 0);
	d = it_start_via(w, conf);
	r = ask(d, port);

	expect_line(r, "pid=1");
	expect_line(r, "jail:rootwrite=EROFS");
	expect_line(r, "jail:tmpwrite=ok");
	expect_line(r, "jail:status:NoNewPrivs=1");
	expect_line(r, "jail:status:CapEff=0000000000000000");
	expect_line(r, "jail:status:CapBnd=0000000000000000");
	expect_line(r, "jail:lo=down");
	expect_line(r, "jail:devnull=ok");
	expect_line(r, "jail:urandom=ok");
	it_stop(d);
}
END_TEST

/*
 * A jail in the sockd section is every server's default; a service's own
 * replaces it whole, and built-ins are left alone.
 */
START_TEST(global_jail_is_default)
{
	uint16_t p1 = tu_free_port(), p2, p3;
	struct daemon *d;
	const char *r;
	int fd;
	char got[64];

	do
		p2 = tu_free_port();
	while (p2 == p1);
	do
		p3 = tu_free_port();
	while (p3 == p1 || p3 == p2);
	d = it_start(tu_write("sockd.conf",
	    "sockd = { jail = { namespaces = [\"pid\", \"mount\"]; }; };\n"
	    "services = (\n"
	    " { name = \"a\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "   server = \"%s\"; args = [\"probe\", \"jail\"]; },\n"
	    " { name = \"b\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "   server = \"%s\"; args = [\"probe\", \"jail\"];\n"
	    "   jail = { namespaces = [\"pid\", \"mount\", \"net\"]; }; },\n"
	    " { name = \"e\"; protocol = \"tcp\"; port = %u; address = \"127.0.0.1\";\n"
	    "   builtin = \"echo\"; }\n);\n", p1, jprobe(), p2, jprobe(), p3));
	r = ask(d, p1);
	expect_line(r, "pid=1");
	expect_line(r, "jail:rootwrite=EROFS");
	ck_assert_int_gt(it_count_prefix(r, "jail:if:"), 1);
	r = ask(d, p2);
	expect_line(r, "pid=1");
	ck_assert_int_eq(it_count_prefix(r, "jail:if:"), 1);
	ck_assert_int_ge(fd = tu_connect(p3), 0);
	it_send(fd, "ping\n");
	tu_read_until(fd, got, sizeof(got), "ping\n", IT_WAIT);
	close(fd);
	ck_assert_str_eq(got, "ping\n");
	it_stop(d);
}
END_TEST

/*
 * A jailed child starts on its own while the master goes on, so when it
 * cannot start the server it says so in the service's log and exits 126.
 */
START_TEST(jailed_exec_failure_is_logged)
{
	uint16_t port = tu_free_port();
	const char *bin = it_mkdir("bin"), *copy = it_tmp("bin/probe");
	char cmd[8192];
	struct daemon *d;
	int fd;

	snprintf(cmd, sizeof(cmd), "cp %s %s", jprobe(), copy);
	ck_assert_int_eq(system(cmd), 0);
	d = it_start(tu_write("sockd.conf", "services = ({ name = \"j\"; "
	    "protocol = \"tcp\"; port = %u; address = \"127.0.0.1\"; server = \"%s\"; "
	    "jail = { tmp = false; bind = [\"%s\"]; }; });\n", port, copy, bin));
	ck_assert_int_eq(unlink(copy), 0);
	ck_assert_int_ge(fd = tu_connect(port), 0);
	ck_assert(it_wait_eof(fd, IT_WAIT));
	close(fd);
	ck_assert_msg(it_wait_log_count(d, "cannot start the server in its jail: "
	    "execve: No such file or directory", 1, IT_WAIT), "%s", it_tail(d->log));
	ck_assert(it_wait_log_count(d, IT_LOG_EXIT "126", 1, IT_WAIT));
	it_stop(d);
}
END_TEST

/* caps: a handler running as root keeps what is listed, and only that. */
START_TEST(kept_capabilities)
{
	uint16_t port = tu_free_port();
	struct daemon *d = start_jail(port, "\"jail\"",
	    "caps = [\"net_bind_service\", \"CAP_KILL\"];");
	const char *r = ask(d, port);

	/* Bits 5 (kill) and 10 (net_bind_service). */
	expect_line(r, "jail:status:CapEff=0000000000000420");
	expect_line(r, "jail:status:CapPrm=0000000000000420");
	expect_line(r, "jail:status:CapBnd=0000000000000420");
	expect_line(r, "jail:status:NoNewPrivs=1");
	it_stop(d);
}
END_TEST

/* sockd -t on a service whose jail is body; the output in buf. */
static int
check_jail(const char *body)
{
	const char *conf = tu_write("sockd.conf",
	    "services = ({ name = \"j\"; protocol = \"tcp\"; port = 7;\n"
	    "  server = \"%s\";\n"
	    "  jail = {\n%s\n  };\n});\n", jprobe(), body);

	return tu_run(buf, sizeof(buf), "-t", "-f", conf, NULL);
}

static void
expect_error(const char *body, const char *line, const char *text)
{
	int status = check_jail(body);

	ck_assert_msg(status != 0, "sockd -t accepted:\n%s\n%s", body, buf);
	ck_assert_msg(strstr(buf, line) && strstr(buf, text),
	    "wanted \"%s\" and \"%s\" in:\n%s", line, text, buf);
}

START_TEST(bad_jails_are_load_errors)
{
	expect_error("root = \"/nonexistent-sockd-root\";", "sockd.conf:4: ",
	    "jail: root: \"/nonexistent-sockd-root\": No such file or directory");
	expect_error("\n bind = [\"/nonexistent-sockd-bind\"];", "sockd.conf:5: ",
	    "jail: bind: \"/nonexistent-sockd-bind\": No such file or directory");
	expect_error("bind_rw = [\"/usr:/nonexistent-in-root\"];", "sockd.conf:4: ",
	    "has nothing to mount on");
	expect_error("seccomp = { deny = [\"mount\", \"no_such_call\"]; };",
	    "sockd.conf:4: ", "\"no_such_call\" is not a system call");
	expect_error("seccomp = { action = \"EWHAT\"; };", "sockd.conf:4: ",
	    "action: \"EWHAT\"");
	expect_error("namespaces = [\"pid\", \"time\"];", "sockd.conf:4: ",
	    "unknown namespace \"time\"");
	expect_error("caps = [\"net_bind_service\", \"fly\"];", "sockd.conf:4: ",
	    "caps: \"fly\" is not a capability");
}
END_TEST

/* Rules across keys, checked once each key is right (as root: without,
 * a jail needs a user namespace, which is the error then). */
START_TEST(inconsistent_jails_are_load_errors)
{
	expect_error("no_new_privs = false;", "sockd.conf:4: ",
	    "a seccomp filter needs it");
	expect_error("namespaces = [\"pid\"]; tmp = true;", "sockd.conf:4: ",
	    "need \"mount\"");
	ck_assert_msg(check_jail("seccomp = { deny = [\"mount\"]; };") == 0, "%s",
	    buf);
	/* Root's handler is never root on the host, nor in a user namespace
	 * that maps root's own ids. */
	expect_error("namespaces = [\"user\", \"pid\", \"mount\"];",
	    "sockd.conf:4: ", "would be root on the host");
	expect_error("namespaces = [\"mount\"];", "sockd.conf:4: ",
	    "without \"pid\"");
	expect_error("hide = [\"/usr\", \"/usr/lib\"];", "sockd.conf:4: ",
	    "under a directory hidden already");
	expect_error("hide = [\"/proc\"];", "sockd.conf:4: ",
	    "the jail makes /, /proc and /dev itself");
	expect_error("tmp_size = 12;", "sockd.conf:4: ", "tmp_size: 12 is out of "
	    "range");
}
END_TEST

/*
 * -t takes a connection's steps as the handler's user: a server only root
 * may execute fails there, not at every connection.
 */
START_TEST(trial_runs_as_the_handler)
{
	char prog[4096];
	const char *conf;

	snprintf(prog, sizeof(prog), "%s", it_tmp("root-only"));
	ck_assert_int_eq(tu_copy_prog(it_probe(), prog), 0);
	ck_assert_int_eq(chmod(prog, 0700), 0);
	ck_assert_int_eq(chmod(tu_tmpdir(), 0755), 0);
	conf = tu_write("sockd.conf",
	    "services = ({ name = \"j\"; protocol = \"tcp\"; port = 7;\n"
	    "  server = \"%s\";\n  jail = { tmp = false; hide = []; };\n});\n",
	    prog);
	ck_assert_int_ne(tu_run(buf, sizeof(buf), "-t", "-f", conf, NULL), 0);
	ck_assert_msg(strstr(buf, "sockd.conf:3: ") && strstr(buf, "server: the "
	    "handler's user cannot execute it in the jail on this system: "
	    "Permission denied"), "%s", buf);
}
END_TEST

START_TEST(builtin_cannot_be_jailed)
{
	const char *conf = tu_write("sockd.conf",
	    "services = ({ name = \"e\"; protocol = \"tcp\"; port = 7;\n"
	    "  builtin = \"echo\"; jail = { }; });\n");

	ck_assert_int_ne(tu_run(buf, sizeof(buf), "-t", "-f", conf, NULL), 0);
	ck_assert_msg(strstr(buf, "sockd.conf:2: ") && strstr(buf, "cannot be jailed"),
	    "%s", buf);
}
END_TEST

/*
 * In a user namespace of its own that allows no new network namespace,
 * sockd -t names the namespace the kernel refuses.
 */
START_TEST(refused_namespace_is_load_error)
{
	const char *conf = tu_write("sockd.conf",
	    "services = ({ name = \"j\"; protocol = \"tcp\"; port = 7;\n"
	    "  server = \"%s\";\n  jail = { };\n});\n", jprobe());
	const char *out = it_tmp("out");
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		char map[64];
		FILE *f;
		snprintf(map, sizeof(map), "0 %ld 1", (long)geteuid());
		if (fd == -1 || unshare(CLONE_NEWUSER) == -1)
			_exit(100);
		if ((f = fopen("/proc/self/uid_map", "w")) == NULL ||
		    fputs(map, f) == EOF || fclose(f) == EOF)
			_exit(101);
		if ((f = fopen("/proc/sys/user/max_net_namespaces", "w")) == NULL ||
		    fputs("0", f) == EOF || fclose(f) == EOF)
			_exit(102);
		if (dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			_exit(103);
		execl(it_path("src/sockd"), "sockd", "-t", "-f", conf, (char *)NULL);
		_exit(104);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
	    WEXITSTATUS(status) < 100, "status %#x", status);
	{
		int fd = open(out, O_RDONLY | O_CLOEXEC);
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	ck_assert_msg(strstr(buf, "sockd.conf:3: ") && strstr(buf, "jail: namespaces: "
	    "the kernel refuses a new net namespace"), "%s", buf);
}
END_TEST

Suite *
jail_suite(void)
{
	Suite *s = suite_create("jail");
	TCase *tc;
	const char *why = it_jail_skip();

	(void)tu_nobody_skip();	/* the copy nobody runs, if one is needed */
	(void)jprobe();		/* copied now, before the tests fork */

	tc = tcase_create("inside");
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tu_add_test(tc, jail_from_inside, why);
	tu_add_test(tc, seccomp_errno, why);
	tu_add_test(tc, seccomp_kill, why);
	tu_add_test(tc, user_namespace_jail, why ? why : tu_nobody_skip());
	tu_add_test(tc, no_sockets_jail, why);
	tu_add_test(tc, template_follows_the_jail, why);
	tu_add_test(tc, global_jail_is_default, why);
	tu_add_test(tc, jailed_exec_failure_is_logged, why);
	tu_add_test(tc, kept_capabilities, why);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tu_add_test(tc, grandchild_ends_with_connection, why);
	tu_add_test(tc, jails_leave_nothing, why);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tcase_add_test(tc, bad_jails_are_load_errors);
	tcase_add_test(tc, builtin_cannot_be_jailed);
	tu_add_test(tc, inconsistent_jails_are_load_errors, why);
	tu_add_test(tc, trial_runs_as_the_handler, why);
	tu_add_test(tc, refused_namespace_is_load_error, why);
	suite_add_tcase(s, tc);
	return s;
}
