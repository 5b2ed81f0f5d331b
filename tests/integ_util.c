/* Helpers of the integration suites; see integ_util.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "integ_util.h"

#define IT_DAEMONS 8

static struct daemon *daemons[IT_DAEMONS];
static int baseline_fds[IT_DAEMONS];	/* once ready; -1: unknown */
static int watchdog_fd = -1;

const char *
it_tail(const char *s)
{
	size_t len = strlen(s);

	/* Check refuses messages over a few KiB and fails the test oddly. */
	return len > 2000 ? s + len - 2000 : s;
}

/* Whether process pid is a sockd started from dir (by its -f, or its cwd). */
static bool
started_from(const char *pid, const char *dir, const char *exe)
{
	char path[300], buf[8192];
	size_t dl = strlen(dir);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	if ((n = readlink(path, buf, sizeof(buf) - 1)) <= 0)
		return false;
	buf[n] = '\0';
	/* A rebuild while it ran leaves the old binary "(deleted)". */
	if (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0)
		buf[n - 10] = '\0';
	if (strcmp(buf, exe) != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%s/cwd", pid);
	if ((n = readlink(path, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		if (strncmp(buf, dir, dl) == 0 &&
		    (buf[dl] == '\0' || buf[dl] == '/'))
			return true;
	}
	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = '\n';
	buf[n] = '\0';
	for (char *p = buf; (p = strstr(p, dir)) != NULL; p += dl)
		if (p[dl] == '/' || p[dl] == '\n' || p[dl] == '\0')
			return true;
	return false;
}

static void __attribute__((noreturn))
watchdog(int rfd, const char *dir, const char *exe)
{
	char c;

	while (read(rfd, &c, 1) == -1 && errno == EINTR)
		;
	for (int round = 0; round < 3; round++) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		int killed = 0;

		if (d == NULL)
			break;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
			    started_from(e->d_name, dir, exe) &&
			    kill(atoi(e->d_name), SIGKILL) == 0)
				killed++;
		closedir(d);
		if (killed == 0)
			break;
	}
	tu_cleanup();
	_exit(0);
}

/* The network namespace the test started in (it_setup()), where
 * addresses beyond loopback reach the machine's. */
static struct stat machine_net;

void
it_setup(void)
{
	char dir[PATH_MAX], exe[PATH_MAX];
	int p[2], null;
	pid_t pid;

	ck_assert_int_eq(stat("/proc/self/ns/net", &machine_net), 0);
	memset(daemons, 0, sizeof(daemons));
	for (int i = 0; i < IT_DAEMONS; i++)
		baseline_fds[i] = -1;
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	if (realpath(tu_path("src/sockd"), exe) == NULL)
		snprintf(exe, sizeof(exe), "%s", tu_path("src/sockd"));
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if ((null = open("/dev/null", O_RDWR)) != -1) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		if (p[0] > 3)
			close_range(3, p[0] - 1, 0);
		close_range(p[0] + 1, ~0U, 0);
		/* Out of reach of a Ctrl-C meant for the tests. */
		setpgid(0, 0);
		watchdog(p[0], dir, exe);
	}
	close(p[0]);
	watchdog_fd = p[1];
}

void
it_teardown(void)
{
	for (int i = 0; i < IT_DAEMONS; i++) {
		if (daemons[i] == NULL)
			continue;
		if (daemons[i]->pid > 0 && !daemons[i]->exited)
			tu_stop(daemons[i], SIGKILL);
		free(daemons[i]);
		daemons[i] = NULL;
	}
	tu_cleanup();
	if (watchdog_fd != -1)
		close(watchdog_fd);
	watchdog_fd = -1;
}

struct daemon *
it_daemon(void)
{
	for (int i = 0; i < IT_DAEMONS; i++)
		if (daemons[i] == NULL) {
			daemons[i] = calloc(1, sizeof(struct daemon));
			ck_assert_ptr_nonnull(daemons[i]);
			daemons[i]->errfd = -1;
			return daemons[i];
		}
	ck_abort_msg("too many daemons in one test");
	return NULL;
}

const char *
it_probe(void)
{
	static char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s", tu_path("tests/probe"));
	return path;
}

const char *
it_path(const char *rel)
{
	static char paths[4][PATH_MAX * 2];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, PATH_MAX * 2, "%s", tu_path(rel));
	return p;
}

/* Whether pid holds the socket of inode ino. */
static bool
holds_socket(pid_t pid, unsigned long ino)
{
	char dir[64], path[PATH_MAX], link[64], want[40];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	if ((d = opendir(dir)) == NULL)
		return false;
	while (!found && (e = readdir(d)) != NULL) {
		ssize_t n;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((n = readlink(path, link, sizeof(link) - 1)) > 0) {
			link[n] = '\0';
			found = strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return found;
}

/* Whether a local address of /proc/net/{tcp,udp}[6] is a loopback one:
 * 127/8, ::1 or ::ffff:127/104 (each 32-bit word in host order). */
static bool
hex_loopback(const char *hex)
{
	unsigned w[4];

	if (strlen(hex) == 8)
		return sscanf(hex, "%8x", &w[0]) == 1 && (w[0] & 0xff) == 0x7f;
	if (strlen(hex) != 32 ||
	    sscanf(hex, "%8x%8x%8x%8x", &w[0], &w[1], &w[2], &w[3]) != 4 ||
	    w[0] != 0 || w[1] != 0)
		return false;
	return (w[2] == 0 && w[3] == htonl(1)) ||
	    (w[2] == htonl(0xffff) && (w[3] & 0xff) == 0x7f);
}

/* Whether pid is in it. */
static bool
machine_net_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%ld/ns/net", (long)pid);
	return stat(path, &st) == 0 && st.st_ino == machine_net.st_ino &&
	    st.st_dev == machine_net.st_dev;
}

bool
it_beyond_loopback(pid_t pid, char *what, size_t len)
{
	static const char *const tables[] = { "tcp", "tcp6", "udp", "udp6" };

	if (!machine_net_of(pid))
		return false;

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		char path[64], line[512], local[40];
		unsigned port, st;
		unsigned long ino;
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%ld/net/%s", (long)pid, tables[t]);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, " %*d: %39[0-9A-Fa-f]:%x %*s %x %*s %*s %*s "
			    "%*d %*d %lu", local, &port, &st, &ino) == 4 &&
			    (tables[t][0] == 'u' || st == 0x0A) &&
			    !hex_loopback(local) && holds_socket(pid, ino)) {
				snprintf(what, len, "%s %s port %u", tables[t], local,
				    port);
				fclose(f);
				return true;
			}
		fclose(f);
	}
	return false;
}

static int
write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc;

	if (fd == -1)
		return -1;
	rc = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return rc;
}

/* The steps of it_private_net(); the one that failed, or NULL. */
static const char *
private_net(void)
{
	char map[64];
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	if (geteuid() != 0) {
		if (unshare(CLONE_NEWUSER) == -1)
			return "a user namespace";
		snprintf(map, sizeof(map), "%ld %ld 1", (long)geteuid(),
		    (long)geteuid());
		if (write_text("/proc/self/setgroups", "deny") == -1 ||
		    write_text("/proc/self/uid_map", map) == -1)
			return "its uid map";
		snprintf(map, sizeof(map), "%ld %ld 1", (long)getegid(),
		    (long)getegid());
		if (write_text("/proc/self/gid_map", map) == -1)
			return "its gid map";
	}
	if (unshare(CLONE_NEWNET) == -1)
		return "a network namespace";
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return "a socket";
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr)) == -1) {
		close(fd);
		return "lo up";
	}
	close(fd);
	return NULL;
}

void
it_private_net(void)
{
	const char *step = private_net();

	ck_assert_msg(step == NULL, "a private network: %s: %s", step,
	    strerror(errno));
}

const char *
it_private_net_skip(void)
{
	static char why[128];
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(private_net() == NULL ? 0 : 1);
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0)
		return NULL;
	snprintf(why, sizeof(why), "no network namespace of its own here, where "
	    "a wildcard address would stay private");
	return why;
}

/* Fails the test when sockd listens beyond loopback (README: the tests
 * bind loopback only). */
static void
loopback_only(struct daemon *d)
{
	char what[96];

	ck_assert_msg(!it_beyond_loopback(d->pid, what, sizeof(what)),
	    "sockd bound %s, not a loopback address: give the test's services "
	    "an address", what);
}

struct daemon *
it_start(const char *conf)
{
	return it_start_via(NULL, conf);
}

struct daemon *
it_start_via(const char *wrapper, const char *conf)
{
	struct daemon *d = it_daemon();

	ck_assert_msg(tu_start_via(d, wrapper, conf, NULL) == 0,
	    "sockd did not start:\n%s", it_tail(d->log));
	loopback_only(d);
	for (int i = 0; i < IT_DAEMONS; i++)
		if (daemons[i] == d)
			baseline_fds[i] = tu_count_fds(d->pid);
	return d;
}

void
it_stop(struct daemon *d)
{
	int status, fds = -1;

	for (int i = 0; i < IT_DAEMONS; i++)
		if (daemons[i] == d)
			fds = baseline_fds[i];
	(void)it_wait_idle(d->pid, fds, IT_WAIT);
	loopback_only(d);
	status = tu_stop(d, SIGTERM);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "sockd: wait status %#x after SIGTERM; log:\n%s", status,
	    it_tail(d->log));
}

bool
it_wait_idle(pid_t pid, int fds, int ms)
{
	long end = tu_now_ms() + ms;

	for (;;) {
		if (tu_count_children(pid) == 0 &&
		    (fds < 0 || tu_count_fds(pid) <= fds))
			return true;
		if (tu_now_ms() > end)
			return false;
		usleep(10000);
	}
}

const char *
it_tmp(const char *name)
{
	static char paths[4][PATH_MAX * 2];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, PATH_MAX * 2, "%s/%s", tu_tmpdir(), name);
	return p;
}

const char *
it_mkdir(const char *name)
{
	const char *p = it_tmp(name);

	ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
	return p;
}

int
it_count(const char *haystack, const char *needle)
{
	int n = 0;
	size_t len = strlen(needle);

	for (const char *p = haystack; (p = strstr(p, needle)) != NULL;
	    p += len)
		n++;
	return n;
}

bool
it_wait_log_count(struct daemon *d, const char *text, int n, int ms)
{
	long end = tu_now_ms() + ms;

	for (;;) {
		tu_drain_log(d);
		if (it_count(d->log, text) >= n)
			return true;
		long left = end - tu_now_ms();
		if (left <= 0)
			return false;
		struct pollfd p = { .fd = d->errfd, .events = POLLIN };
		if (poll(&p, 1, left > 100 ? 100 : left) == 1 &&
		    (p.revents & POLLHUP) && !(p.revents & POLLIN)) {
			tu_drain_log(d);
			return it_count(d->log, text) >= n;
		}
	}
}

bool
it_hello(uint16_t port, const char *name)
{
	char buf[256], reply[256];
	int fd = tu_connect(port);
	bool ok;

	if (fd == -1)
		return false;
	ok = tu_read_until(fd, buf, sizeof(buf), "\n", IT_WAIT) > 0 &&
	    strcmp(buf, "Welcome!\n") == 0;
	if (ok && name) {
		snprintf(reply, sizeof(reply), "Hello, %s!\n", name);
		ok = dprintf(fd, "%s\n", name) > 0 &&
		    tu_read_until(fd, buf, sizeof(buf), reply, IT_WAIT) > 0 &&
		    strstr(buf, reply) != NULL;
	}
	close(fd);
	return ok;
}

bool
it_wait_eof(int fd, int ms)
{
	long end = tu_now_ms() + ms;
	char buf[4096];

	for (;;) {
		long left = end - tu_now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, left) != 1)
			return false;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return true;
		if (n == -1 && errno != EINTR)
			return false;
	}
}

bool
it_quiet(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 0;
}

void
it_send(int fd, const char *s)
{
	size_t len = strlen(s);

	ck_assert_int_eq(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

size_t
it_read_n(int fd, void *buf, size_t len, int ms)
{
	long end = tu_now_ms() + ms;
	size_t got = 0;

	while (got < len) {
		long left = end - tu_now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, left) != 1)
			break;
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

uint16_t
it_local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

/* The start of the line after p's, or NULL after the last line. */
static const char *
next_line(const char *p)
{
	p = strchr(p, '\n');
	return p ? p + 1 : NULL;
}

long
it_line_num(const char *buf, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = buf; p && *p; p = next_line(p))
		if (strncmp(p, key, kl) == 0 && p[kl] == '=')
			return strtol(p + kl + 1, NULL, 10);
	return -1;
}

bool
it_has_line(const char *buf, const char *line)
{
	size_t ll = strlen(line);

	for (const char *p = buf; p && *p; p = next_line(p))
		if (strncmp(p, line, ll) == 0 &&
		    (p[ll] == '\n' || p[ll] == '\0'))
			return true;
	return false;
}

int
it_count_prefix(const char *buf, const char *prefix)
{
	size_t pl = strlen(prefix);
	int n = 0;

	for (const char *p = buf; p && *p; p = next_line(p))
		if (strncmp(p, prefix, pl) == 0)
			n++;
	return n;
}

pid_t
it_conn_pid(struct daemon *d, const char *svc, uint16_t clientport)
{
	char text[256];
	const char *p;

	snprintf(text, sizeof(text), IT_LOG_CONN_FMT, svc, clientport);
	ck_assert_msg(tu_wait_log(d, text, IT_WAIT), "no log line \"%s\" in:\n%s",
	    text, it_tail(d->log));
	p = strstr(d->log, text) + strlen(text);
	return (pid_t)strtol(p, NULL, 10);
}

int
it_log_pids(struct daemon *d, const char *text, long *pids, int max)
{
	int n = 0;

	tu_drain_log(d);
	for (const char *p = d->log; p && *p && n < max; p = next_line(p)) {
		const char *eol = strchr(p, '\n'), *t = strstr(p, text), *q;
		if (t == NULL || (eol && t > eol))
			continue;
		if ((q = strstr(p, "pid ")) == NULL || (eol && q > eol))
			continue;
		pids[n++] = strtol(q + 4, NULL, 10);
	}
	return n;
}

const char *
it_wait_reaped(struct daemon *d, const char *svc, long pid, int ms)
{
	static char rest[256];
	char text[128];
	long end = tu_now_ms() + ms;

	snprintf(text, sizeof(text), "service \"%s\": pid %ld ", svc, pid);
	for (;;) {
		tu_drain_log(d);
		for (const char *p = d->log; (p = strstr(p, text)) != NULL; p++) {
			const char *r = p + strlen(text);
			if (strncmp(r, IT_LOG_EXIT, strlen(IT_LOG_EXIT)) == 0 ||
			    strncmp(r, IT_LOG_KILLED, strlen(IT_LOG_KILLED)) == 0) {
				snprintf(rest, sizeof(rest), "%.*s",
				    (int)strcspn(r, "\n"), r);
				return rest;
			}
		}
		long left = end - tu_now_ms();
		if (left <= 0)
			return NULL;
		struct pollfd pf = { .fd = d->errfd, .events = POLLIN };
		if (poll(&pf, 1, left > 100 ? 100 : left) == 1 &&
		    (pf.revents & POLLHUP) && !(pf.revents & POLLIN))
			end = 0;	/* sockd is gone: one last look */
	}
}

void
it_subreaper(void)
{
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
}

int
it_wait_child(pid_t pid, int ms)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), status;

	if (fd != -1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		(void)poll(&p, 1, ms);
		close(fd);
	}
	if (waitpid(pid, &status, WNOHANG) == pid)
		return status;
	return -1;
}

bool
it_alive(pid_t pid, pid_t *ppid)
{
	struct tu_stat st;

	if (!tu_proc_stat(pid, &st))
		return false;
	if (ppid)
		*ppid = (pid_t)st.ppid;
	return st.state != 'Z' && st.state != 'X';
}

double
it_cpu_seconds(pid_t pid)
{
	struct tu_stat st;

	if (!tu_proc_stat(pid, &st))
		return -1;
	return (double)(st.utime + st.stime) / sysconf(_SC_CLK_TCK);
}

int
it_lowest_free_fd(pid_t pid)
{
	char path[64];
	struct stat st;
	int fd = 0;

	for (;; fd++) {
		snprintf(path, sizeof(path), "/proc/%ld/fd/%d", (long)pid, fd);
		if (lstat(path, &st) == -1)
			return fd;
	}
}

bool
it_no_zombies(pid_t daemon, int ms)
{
	long end = tu_now_ms() + ms;

	while (tu_count_zombies(daemon) != 0) {
		if (tu_now_ms() > end)
			return false;
		usleep(10000);
	}
	return true;
}

time_t
it_parse_ctime(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a %b %e %H:%M:%S %Y", &tm);
	if (end == NULL)
		return -1;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

int
it_notify_socket(char *path, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(path, len, "%s/notify", tu_tmpdir());
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

void
it_expect_notify(int fd, const char *state)
{
	char buf[128];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	ck_assert_msg(poll(&p, 1, 5000) == 1, "no %s", state);
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, state);
}

socklen_t
it_unix_addr(const char *path, struct sockaddr_un *sun)
{
	size_t n = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	if (path[0] == '@')
		sun->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '@' ? 0 : 1));
}

int
it_unix_connect(const char *path)
{
	struct sockaddr_un sun;
	socklen_t len = it_unix_addr(path, &sun);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&sun, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

const char *
it_jail_skip(void)
{
	static char why[128];
	int status;
	pid_t pid;

	if (tu_root_skip())
		return tu_root_skip();
	pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |
		    CLONE_NEWNET | CLONE_NEWUSER) == -1 ? errno : 0);
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0)
		return NULL;
	snprintf(why, sizeof(why), "the kernel refuses new namespaces here (%s)",
	    pid > 0 && WIFEXITED(status) ? strerror(WEXITSTATUS(status)) : "?");
	return why;
}

/* Where it_jail_prog() copies to, and the process that removes it. */
static char jail_dir[64];
static pid_t jail_dir_owner;

static void
jail_dir_remove(void)
{
	DIR *d;
	struct dirent *e;
	char p[PATH_MAX];

	if (getpid() != jail_dir_owner || (d = opendir(jail_dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", jail_dir, e->d_name);
			(void)unlink(p);
		}
	closedir(d);
	(void)rmdir(jail_dir);
}

const char *
it_jail_prog(const char *rel)
{
	static char paths[4][PATH_MAX];
	static int next;
	const char *prog = it_path(rel);
	char *path = paths[next++ % 4];

	if (strncmp(prog, "/tmp/", 5) != 0)
		return prog;
	if (jail_dir[0] == '\0') {
		snprintf(jail_dir, sizeof(jail_dir), "/var/tmp/sockd-jail.XXXXXX");
		if (mkdtemp(jail_dir) == NULL || chmod(jail_dir, 0755) == -1)
			return prog;
		jail_dir_owner = getpid();
		atexit(jail_dir_remove);
	}
	snprintf(path, PATH_MAX, "%s/%s", jail_dir, strrchr(rel, '/') + 1);
	if (access(path, X_OK) != 0 && tu_copy_prog(prog, path) == -1)
		return prog;
	return path;
}

int
it_mkdirs(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *c = p + 1; (c = strchr(c, '/')) != NULL; c++) {
		*c = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST)
			return -1;
		*c = '/';
	}
	return mkdir(p, 0755) == -1 && errno != EEXIST ? -1 : 0;
}

bool
it_pid_gone(pid_t pid, int ms)
{
	long until = tu_now_ms() + ms;
	char path[64], stat[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	/* A zombie has ended too: its parent (a subreaper) has yet to wait. */
	while ((f = fopen(path, "re")) != NULL) {
		char *end = fgets(stat, sizeof(stat), f) ? strrchr(stat, ')') : NULL;
		fclose(f);
		if (end && end[1] == ' ' && end[2] == 'Z')
			return true;
		if (tu_now_ms() >= until)
			return false;
		(void)poll(NULL, 0, 5);
	}
	return true;
}

bool
it_port_free(uint16_t port, int ms)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	long until = tu_now_ms() + ms;

	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
		bool ok;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		ok = fd != -1 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
		if (fd != -1)
			close(fd);
		if (ok)
			return true;
		if (tu_now_ms() >= until)
			return false;
		(void)poll(NULL, 0, 5);
	}
}

const char *
it_report(struct daemon *d, uint16_t port, char *buf, size_t len, int ms)
{
	int fd = tu_connect(port);

	ck_assert_int_ge(fd, 0);
	tu_read_until(fd, buf, len, "\nend\n", ms);
	close(fd);
	ck_assert_msg(strstr(buf, "\nend\n"), "no report: \"%s\"\n%s", buf,
	    it_tail(d->log));
	return buf;
}

/* Runs a shell command; its stdout (and stderr) in out; the exit status. */
int
it_sh(char *out, size_t len, const char *fmt, ...)
{
	char cmd[4096], full[4200];
	size_t n = 0;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "{ %s\n} 2>&1", cmd);
	ck_assert_ptr_nonnull(p = popen(full, "r"));
	while (n < len - 1 && !feof(p)) {
		size_t r = fread(out + n, 1, len - 1 - n, p);
		if (r == 0)
			break;
		n += r;
	}
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A self-signed certificate NAME.pem and key NAME.key (mode 600) in the
 * temp dir for CN=cn, valid for days. */
void
it_selfsigned(const char *name, const char *cn, int days)
{
	char out[4096];

	ck_assert_msg(it_sh(out, sizeof(out), "cd %s && openssl req -x509 -newkey "
	    "rsa:2048 -nodes -keyout %s.key -out %s.pem -days %d -subj /CN=%s && "
	    "chmod 600 %s.key", tu_tmpdir(), name, name, days, cn, name) == 0,
	    "openssl: %s", out);
}
