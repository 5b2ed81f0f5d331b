/*
 * escape - a handler for the jail-escape tests: run in a jail by sockd, it
 * tries the ways out an attacker would, one "try:NAME=held" line for each
 * that failed or "try:NAME=ESCAPED: what" for each that worked, a few
 * "info:NAME=VALUE" lines the tests read (its uid, its session, whether
 * socket(2) works), then "end"; then it reads fd 0 until EOF and exits 0.
 * libc only. Nothing is harmed when an attempt works: a writable host file
 * is opened, never written; a namespace made is left at once.
 *
 * Arguments, each optional, name the host's targets:
 *   tcp=PORT      a listener on the host's 127.0.0.1
 *   unix=PATH     a listening pathname UNIX socket on the host
 *   abstract=NAME a listening abstract UNIX socket in the host's namespace
 *   secret=PATH   a file the handler must not read
 *   pid=PID       a host process the handler must not signal
 *
 *   escape nproc N   forks N children that wait for their stdin to end,
 *                    writes "forked=K" (those that started), "info:uid=N"
 *                    and "end",
 *                    then reads fd 0 until EOF.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char out[32768];
static size_t outlen;

static void __attribute__((format(printf, 1, 2)))
put(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out + outlen, sizeof(out) - outlen, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(out) - outlen)
		outlen += n;
}

/* An attempt that worked when ok; what says how it was seen. */
static void
verdict(const char *name, int ok, const char *what)
{
	if (ok)
		put("try:%s=ESCAPED: %s\n", name, what);
	else
		put("try:%s=held (%s)\n", name, errno == 0 ? "masked or empty" :
		    strerrorname_np(errno) ? strerrorname_np(errno) : "refused");
}

/* A call that must fail: held when it returns -1. */
static void
must_fail(const char *name, long r)
{
	verdict(name, r != -1, "the call succeeded");
}

static const char *
arg(int argc, char **argv, const char *key)
{
	size_t n = strlen(key);

	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=')
			return argv[i] + n + 1;
	return NULL;
}

/* Host tunables a jailed root could turn against the host: opened for
 * writing only, never written. */
static void
try_tunables(void)
{
	static const char *const files[][2] = {
	    { "core_pattern", "/proc/sys/kernel/core_pattern" },
	    { "overcommit", "/proc/sys/vm/overcommit_memory" },
	    { "protected_symlinks", "/proc/sys/fs/protected_symlinks" },
	    { "modprobe", "/proc/sys/kernel/modprobe" } };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd = open(files[i][1], O_WRONLY | O_CLOEXEC);
		verdict(files[i][0], fd != -1, files[i][1]);
		if (fd != -1)
			close(fd);
	}
}

/* Whether fd is /dev/null (a masked file of /proc). */
static int
is_null(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	    st.st_rdev == makedev(1, 3);
}

/* Files of /proc that reach the host's kernel: held when they cannot be
 * opened, are /dev/null, or read as nothing. */
static void
try_proc_files(void)
{
	static const char *const files[] = { "/proc/sysrq-trigger",
	    "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/kallsyms",
	    "/proc/sched_debug", "/proc/kmsg" };
	char name[64], c;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd = open(files[i], (i == 0 ? O_WRONLY : O_RDONLY) |
		    O_NONBLOCK | O_CLOEXEC);
		int open_ok = fd != -1 && !is_null(fd) &&
		    (i == 0 || read(fd, &c, 1) == 1);
		snprintf(name, sizeof(name), "proc:%s", files[i] + 6);
		if (fd != -1 && !open_ok)
			errno = 0;
		verdict(name, open_ok, files[i]);
		if (fd != -1)
			close(fd);
	}
}

static void
try_files(const char *secret)
{
	DIR *d;
	struct dirent *e;
	int fd, n = 0;

	fd = open("/etc/shadow", O_RDONLY | O_CLOEXEC);
	verdict("read_shadow", fd != -1, "/etc/shadow");
	if (fd != -1)
		close(fd);
	if (secret) {
		fd = open(secret, O_RDONLY | O_CLOEXEC);
		verdict("read_secret", fd != -1, secret);
		if (fd != -1)
			close(fd);
	}
	if ((d = opendir("/root")) != NULL) {
		while ((e = readdir(d)) != NULL)
			n += e->d_name[0] != '.';
		closedir(d);
	}
	verdict("list_root_home", n > 0, "/root has entries");
	fd = open("/escape-file", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	verdict("write_root", fd != -1, "/escape-file");
	if (fd != -1)
		close(fd);
	must_fail("mknod", mknod("/tmp/escape-null", S_IFCHR | 0666,
	    makedev(1, 3)));
}

/* A namespace made by clone(): the child leaves at once. */
static void
try_clone(const char *name, unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		(void)waitpid(pid, NULL, 0);
	must_fail(name, pid);
}

static void
try_namespaces(void)
{
	struct clone_args ca = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
	long pid;
	int fd;

	try_clone("clone_newuser", CLONE_NEWUSER);
	try_clone("clone_newnet", CLONE_NEWNET);
	try_clone("clone_newns", CLONE_NEWNS);
	try_clone("clone_newpid", CLONE_NEWPID);
	try_clone("clone_newipc", CLONE_NEWIPC);
	try_clone("clone_newuts", CLONE_NEWUTS);
	try_clone("clone_newcgroup", CLONE_NEWCGROUP);
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		(void)waitpid(pid, NULL, 0);
	verdict("clone3", pid != -1, "a user namespace");
	put("info:clone3_errno=%s\n", pid == -1 ? strerrorname_np(errno) : "none");
	must_fail("unshare_user", unshare(CLONE_NEWUSER));
	must_fail("unshare_net", unshare(CLONE_NEWNET));
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	must_fail("setns", fd == -1 ? -1 : setns(fd, 0));
	if (fd != -1)
		close(fd);
}

static void
try_io_uring(void)
{
	struct io_uring_params p = { 0 };
	long fd = syscall(SYS_io_uring_setup, 4, &p);

	must_fail("io_uring_setup", fd);
	if (fd != -1)
		close(fd);
}

/* A connection to a host address: held when it cannot be made. */
static void
try_connect(const char *name, int family, const void *sa, socklen_t len)
{
	int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	verdict(name, s != -1 && connect(s, sa, len) == 0, "connected");
	if (s != -1)
		close(s);
}

static void
try_network(int argc, char **argv)
{
	const char *tcp = arg(argc, argv, "tcp");
	const char *path = arg(argc, argv, "unix");
	const char *abstract = arg(argc, argv, "abstract");
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	put("info:socket=%s\n", s == -1 ? strerrorname_np(errno) : "ok");
	if (s != -1)
		close(s);
	if (tcp) {
		sin.sin_port = htons(atoi(tcp));
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		try_connect("host_tcp", AF_INET, &sin, sizeof(sin));
	}
	if (path) {
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		try_connect("host_unix", AF_UNIX, &sun, sizeof(sun));
	}
	if (abstract) {
		snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "%s", abstract);
		try_connect("host_abstract", AF_UNIX, &sun,
		    offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract));
	}
}

/* The calls of the default deny list, with harmless arguments. */
static void
try_calls(void)
{
	char c = 'x';
	unsigned long high = 1UL << 32;

	must_fail("mount", mount("tmpfs", "/tmp", "tmpfs", 0, NULL));
	must_fail("umount_proc", umount2("/proc", MNT_DETACH));
	must_fail("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
	must_fail("chroot", chroot("/tmp"));
	must_fail("ptrace", ptrace(PTRACE_TRACEME, 0, 0, 0));
	must_fail("keyctl", syscall(SYS_keyctl, 1 /* JOIN_SESSION */, "escape"));
	must_fail("bpf", syscall(SYS_bpf, 5 /* PROG_LOAD */, NULL, 0));
	must_fail("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1,
	    -1, 0));
	must_fail("userfaultfd", syscall(SYS_userfaultfd, 0));
	must_fail("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL,
	    0));
	must_fail("init_module", syscall(SYS_init_module, NULL, 0, ""));
	must_fail("setuid_root", setuid(0));
	must_fail("tiocsti", ioctl(0, TIOCSTI, &c));
	must_fail("tiocsti_high_bits", syscall(SYS_ioctl, 0, TIOCSTI | high, &c));
	must_fail("tioclinux", ioctl(0, TIOCLINUX, &c));
	put("info:tiocsti_errno=%s\n", ioctl(0, TIOCSTI, &c) == -1 ?
	    strerrorname_np(errno) : "none");
}

static void
try_processes(int argc, char **argv)
{
	const char *pid = arg(argc, argv, "pid");
	char exe[256] = "", self[256] = "";

	if (pid)
		must_fail("kill_host", kill(atoi(pid), 0));
	(void)!readlink("/proc/1/exe", exe, sizeof(exe) - 1);
	(void)!readlink("/proc/self/exe", self, sizeof(self) - 1);
	verdict("proc_1_exe", strcmp(exe, self) != 0, exe);
	errno = 0;
	verdict("setuid_root", geteuid() == 0 || getegid() == 0,
	    "runs with root's effective ids");
	put("info:uid=%ld\ninfo:gid=%ld\n", (long)getuid(), (long)getgid());
	put("info:session=%s\n", getsid(0) == getpid() ? "own" : "shared");
}

/* /tmp bounded: at most 64 MiB written, then removed. */
static void
try_tmp_fill(void)
{
	static char block[1 << 20];
	int fd = open("/tmp/escape-fill", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	long total = 0;
	ssize_t n;

	while (fd != -1 && total < 64L << 20 &&
	    (n = write(fd, block, sizeof(block))) > 0)
		total += n;
	put("info:tmp_filled=%ld\n", total >> 20);
	verdict("tmp_fill", total >= 64L << 20, "64 MiB written to /tmp");
	if (fd != -1)
		close(fd);
	(void)unlink("/tmp/escape-fill");
}

static void
flush_and_wait(void)
{
	char buf[4096];

	put("end\n");
	for (size_t off = 0; off < outlen;) {
		ssize_t n = write(1, out + off, outlen - off);
		if (n <= 0)
			break;
		off += n;
	}
	while (read(0, buf, sizeof(buf)) > 0)
		;
}

/* Forks n children that hold until stdin ends; reports how many started. */
static int
mode_nproc(int n)
{
	int forked = 0;

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			char c;
			while (read(0, &c, 1) > 0)
				;
			_exit(0);
		}
		if (pid > 0)
			forked++;
	}
	put("forked=%d\ninfo:uid=%ld\n", forked, (long)getuid());
	flush_and_wait();
	while (wait(NULL) > 0)
		;
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "nproc") == 0)
		return mode_nproc(atoi(argv[2]));
	try_tunables();
	try_proc_files();
	try_files(arg(argc, argv, "secret"));
	try_namespaces();
	try_io_uring();
	try_network(argc, argv);
	try_calls();
	try_processes(argc, argv);
	try_tmp_fill();
	flush_and_wait();
	return 0;
}
