#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

static char tmpdir[PATH_MAX];

long
tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* The programs run as nobody, and the directory holding copies of them. */
static const char *const nobody_progs[] = {
	"src/sockd", "src/sockd-tls.so", "tests/probe", "tests/probe-controls.sh",
	"tests/oldkernel",
	"services/hello-tcp", "services/echo-udp", "services/timestamp",
};
#define NPROGS (sizeof(nobody_progs) / sizeof(nobody_progs[0]))
static char stage[PATH_MAX];
static pid_t stage_owner;

static bool
is_nobody_prog(const char *rel)
{
	for (size_t i = 0; i < NPROGS; i++)
		if (strcmp(rel, nobody_progs[i]) == 0)
			return true;
	return false;
}

const char *
tu_path(const char *rel)
{
	static char top[PATH_MAX], out[PATH_MAX * 2];

	if (top[0] == '\0') {
		/* The test binaries live in tests/, one level below the top.
		 * No ck_assert: this also runs outside tests, in the runner. */
		ssize_t n = readlink("/proc/self/exe", top, sizeof(top) - 1);
		if (n <= 0)
			abort();
		top[n] = '\0';
		*strrchr(top, '/') = '\0';
		*strrchr(top, '/') = '\0';
	}
	snprintf(out, sizeof(out), "%s/%s", stage[0] && is_nobody_prog(rel) ?
	    stage : top, rel);
	return out;
}

/* Skipped tests, printed after the run. */
static char *skips[64];
static size_t nskips;

void
tu_add_test(TCase *tc, const TTest *tf, const char *why)
{
	if (why == NULL) {
		tcase_add_test(tc, tf);
		return;
	}
	if (nskips < sizeof(skips) / sizeof(skips[0]) &&
	    asprintf(&skips[nskips], "SKIP %s: %s", tf->name, why) != -1)
		nskips++;
}

TCase *
tu_tcase(Suite *s, const char *name, void (*setup)(void),
    void (*teardown)(void), int timeout, ...)
{
	TCase *tc = tcase_create(name);
	const TTest *tf;
	va_list ap;

	if (setup || teardown)
		tcase_add_checked_fixture(tc, setup, teardown);
	if (timeout)
		tcase_set_timeout(tc, timeout);
	va_start(ap, timeout);
	while ((tf = va_arg(ap, const TTest *)) != NULL)
		tcase_add_test(tc, tf);
	va_end(ap);
	suite_add_tcase(s, tc);
	return tc;
}

/* Names the process pid as "pid N: its command line" on stdout. */
static void
name_process(pid_t pid)
{
	char path[64], cmd[256];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	if ((f = fopen(path, "re")) != NULL) {
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
	}
	for (size_t i = 0; i + 1 < n; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	cmd[n] = '\0';
	printf("LEFT RUNNING after the suites: pid %ld: %s\n", (long)pid, cmd);
}

/* Names and kills every child of this process that is still running. */
static int
kill_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	struct tu_stat st;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
		    tu_proc_stat(atol(e->d_name), &st) && st.ppid == getpid() &&
		    st.state != 'Z') {
			name_process(atol(e->d_name));
			kill(atol(e->d_name), SIGKILL);
			n++;
		}
	closedir(d);
	return n;
}

/*
 * After the suites, the processes that outlived their tests have come to
 * this runner, their subreaper: those that end by themselves within 10 s
 * (a test's watchdog finishing its clean-up) are reaped; the others, and
 * what comes to us when they die, are named, killed and counted.
 */
static int
leftovers(void)
{
	long end = tu_now_ms() + 10000;
	int left = 0, rounds = 0;

	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (tu_count_children(getpid()) <= 0)
			break;
		if (tu_now_ms() > end) {
			if (rounds++ == 5)
				break;
			left += kill_children();
			end = tu_now_ms() + 1000;
		}
		usleep(20000);
	}
	fflush(stdout);
	return left;
}

int
tu_run_suites(Suite *first, ...)
{
	SRunner *sr = srunner_create(first);
	Suite *s;
	va_list ap;
	int failed;

	/* What a test leaves running comes here, not to init (leftovers()). */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	va_start(ap, first);
	while ((s = va_arg(ap, Suite *)) != NULL)
		srunner_add_suite(sr, s);
	va_end(ap);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr) + leftovers();
	tu_report_skips();
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int
tu_report_skips(void)
{
	for (size_t i = 0; i < nskips; i++)
		printf("%s\n", skips[i]);
	if (nskips)
		printf("%zu test%s skipped\n", nskips, nskips == 1 ? "" : "s");
	fflush(stdout);
	return (int)nskips;
}

const char *
tu_root_skip(void)
{
	return geteuid() == 0 ? NULL : "needs root (run make check as root)";
}

/* Whether nobody can execute every program (as the tests will run them). */
static bool
nobody_can_run(void)
{
	int status;
	pid_t pid = fork();

	if (pid == -1)
		return false;
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 ||
		    setuid(65534) == -1)
			_exit(1);
		for (size_t i = 0; i < NPROGS; i++)
			if (access(tu_path(nobody_progs[i]), R_OK | X_OK) == -1)
				_exit(1);
		_exit(0);
	}
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0;
}

static void
unstage(void)
{
	/* Check's forked test processes exit through here too. */
	if (stage[0] && getpid() == stage_owner) {
		for (size_t i = 0; i < NPROGS; i++)
			unlink(tu_path(nobody_progs[i]));
		for (const char *d = "src\0tests\0services\0"; *d; d += strlen(d) + 1) {
			char p[PATH_MAX * 2];
			snprintf(p, sizeof(p), "%s/%s", stage, d);
			rmdir(p);
		}
		rmdir(stage);
		stage[0] = '\0';
	}
}

int
tu_copy_prog(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n = 0;
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1;

	if (in == -1)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	while (out != -1 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			n = -1;
	close(in);
	if (out == -1 || close(out) == -1 || n < 0 || chmod(dst, 0755) == -1)
		return -1;
	return 0;
}

/* Copies the programs under a fresh mode-755 directory in /tmp. */
static const char *
stage_progs(void)
{
	char top[PATH_MAX * 2], dir[sizeof(stage)] = "/tmp/sockd-progs.XXXXXX";

	if (mkdtemp(dir) == NULL)
		return "cannot make a directory under /tmp";
	stage_owner = getpid();
	atexit(unstage);
	if (chmod(dir, 0755) == -1)
		goto fail;
	for (const char *d = "src\0tests\0services\0"; *d; d += strlen(d) + 1) {
		char p[PATH_MAX * 2];
		snprintf(p, sizeof(p), "%s/%s", dir, d);
		if (mkdir(p, 0755) == -1)
			goto fail;
	}
	for (size_t i = 0; i < NPROGS; i++) {
		char dst[PATH_MAX * 2];
		snprintf(top, sizeof(top), "%s", tu_path(nobody_progs[i]));
		snprintf(dst, sizeof(dst), "%s/%s", dir, nobody_progs[i]);
		if (tu_copy_prog(top, dst) == -1)
			goto fail;
	}
	snprintf(stage, sizeof(stage), "%s", dir);
	return NULL;
fail:
	/* unstage() removes what tu_path() names in the stage: point it there. */
	snprintf(stage, sizeof(stage), "%s", dir);
	unstage();
	return "cannot copy the programs into a directory under /tmp";
}

const char *
tu_nobody_skip(void)
{
	static bool decided;
	static const char *why;

	if (decided)
		return why;
	decided = true;
	if ((why = tu_root_skip()) != NULL)
		return why = "needs root to run processes as nobody";
	if (getpwuid(65534) == NULL)
		return why = "no user with uid 65534 (nobody)";
	if (nobody_can_run())
		return NULL;
	/* The tree is out of nobody's reach (a clone under /root): copy. */
	if ((why = stage_progs()) != NULL)
		return why;
	if (!nobody_can_run()) {
		unstage();
		why = "nobody cannot execute the programs even from a copy under /tmp";
	}
	return why;
}

const char *
tu_tmpdir(void)
{
	if (tmpdir[0] == '\0') {
		strcpy(tmpdir, "/tmp/sockd-test.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	}
	return tmpdir;
}

static void
rm_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char p[PATH_MAX * 2];

	/* Never follow a symlink out of the temp dir. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		unlink(path);
		return;
	}
	if ((d = opendir(path)) == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		rm_tree(p);
	}
	closedir(d);
	rmdir(path);
}

void
tu_cleanup(void)
{
	if (tmpdir[0])
		rm_tree(tmpdir);
	tmpdir[0] = '\0';
}

const char *
tu_write(const char *name, const char *fmt, ...)
{
	static char path[PATH_MAX * 2];
	va_list ap;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tu_tmpdir(), name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fclose(fp);
	return path;
}

static int
bind_port(int type, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type, 0), got;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return -1;
	}
	got = ntohs(sin.sin_port);
	close(fd);
	return got;
}

/*
 * Reserves port among every test process on the machine: a UNIX socket
 * bound to the abstract name "sockd-test-port-PORT", which the kernel
 * gives one socket at a time and frees when the process that holds it
 * ends. Kept open (close-on-exec, so no daemon holds it) for the test
 * process's life. False if another holds it.
 */
static bool
reserve_port(uint16_t port)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len;

	ck_assert_int_ge(fd, 0);
	len = offsetof(struct sockaddr_un, sun_path) + 1 +
	    snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "sockd-test-port-%u", port);
	if (bind(fd, (struct sockaddr *)&sun, len) == 0)
		return true;
	ck_assert_msg(errno == EADDRINUSE, "reserving port %u: %s", port,
	    strerror(errno));
	close(fd);
	return false;
}

uint16_t
tu_free_port(void)
{
	static unsigned seed;

	/*
	 * Below the kernel's ephemeral range (32768 and up on Linux): a port
	 * the kernel gave us would be free now, but any connect() on the
	 * machine may take it as its local port before the daemon this test
	 * starts binds it. A random one of 10000-32767, reserved first among
	 * all test processes (reserve_port(): the test runs of other
	 * checkouts on a busy machine, which pick from the same range, and
	 * this process, which never gets a port twice), then checked free for
	 * TCP and UDP, is this test's until it ends: no other process binds
	 * a port of that range unless configured to.
	 */
	if (seed == 0)
		seed = (unsigned)getpid() * 2654435761u ^ (unsigned)tu_now_ms();
	for (int tries = 0; tries < 1000; tries++) {
		uint16_t port = 10000 + rand_r(&seed) % 22768;
		if (reserve_port(port) && bind_port(SOCK_STREAM, port) == port &&
		    bind_port(SOCK_DGRAM, port) == port)
			return port;
	}
	ck_abort_msg("no free port");
	return 0;
}

/* Keeps the first TU_LOG_MAX bytes; the rest is read and dropped, so a
 * chatty daemon never blocks on a full pipe. */
void
tu_drain_log(struct daemon *d)
{
	char scratch[65536];
	ssize_t n;

	for (;;) {
		if (d->loglen < sizeof(d->log) - 1)
			n = read(d->errfd, d->log + d->loglen, sizeof(d->log) - 1 - d->loglen);
		else
			n = read(d->errfd, scratch, sizeof(scratch));
		if (n <= 0)
			break;
		if (d->loglen < sizeof(d->log) - 1)
			d->loglen += n;
	}
	d->log[d->loglen] = '\0';
}

bool
tu_wait_log(struct daemon *d, const char *text, int ms)
{
	long end = tu_now_ms() + ms;

	for (;;) {
		tu_drain_log(d);
		if (strstr(d->log, text))
			return true;
		long left = end - tu_now_ms();
		if (left <= 0)
			return false;
		struct pollfd p = { .fd = d->errfd, .events = POLLIN };
		if (poll(&p, 1, left > 100 ? 100 : left) == 1 && (p.revents & POLLHUP) &&
		    !(p.revents & POLLIN))
			return strstr(d->log, text) != NULL;
	}
}

/* Runs sockd with argv, through wrapper (argv[0] becomes its path) if set. */
static pid_t
start_sockd(int outfd, char **argv, const char *wrapper)
{
	char sockd[PATH_MAX];
	pid_t pid;

	snprintf(sockd, sizeof(sockd), "%s", tu_path("src/sockd"));
	if (wrapper)
		argv[0] = sockd;
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		dup2(outfd, 2);
		if (outfd != 1)
			dup2(outfd, 1);
		if (wrapper)
			execv(wrapper, argv - 1);
		else
			execv(sockd, argv);
		_exit(127);
	}
	return pid;
}

static char **
collect_args(const char *first, va_list ap, char **argv, size_t max)
{
	size_t n = 0;

	argv[n++] = "sockd";
	for (const char *a = first; a && n < max - 1; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	argv[n] = NULL;
	return argv;
}

static int
start_daemon(struct daemon *d, const char *wrapper, const char *conf, va_list ap)
{
	/* Slot 0 is for the wrapper, if any; sockd's argv starts at 1. */
	char *args[33] = { (char *)wrapper, "sockd", "-F", "-d", "-f", (char *)conf };
	char **argv = args + 1;
	int p[2], n = 5;

	memset(d, 0, sizeof(*d));
	for (const char *a; n < 31 && (a = va_arg(ap, const char *)) != NULL;)
		argv[n++] = (char *)a;
	argv[n] = NULL;
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	d->pid = start_sockd(p[1], argv, wrapper);
	close(p[1]);
	d->errfd = p[0];
	fcntl(d->errfd, F_SETFL, O_NONBLOCK);
	if (tu_wait_log(d, "ready:", 10000))
		return 0;
	tu_stop(d, SIGKILL);
	return -1;
}

int
tu_start(struct daemon *d, const char *conf, ...)
{
	va_list ap;
	int rc;

	va_start(ap, conf);
	rc = start_daemon(d, NULL, conf, ap);
	va_end(ap);
	return rc;
}

int
tu_start_via(struct daemon *d, const char *wrapper, const char *conf, ...)
{
	va_list ap;
	int rc;

	va_start(ap, conf);
	rc = start_daemon(d, wrapper, conf, ap);
	va_end(ap);
	return rc;
}

int
tu_kill_wait(struct daemon *d, int sig, int ms)
{
	long end = tu_now_ms() + ms;

	if (d->pid <= 0 || d->exited)
		return d->status;
	kill(d->pid, sig);
	while (waitpid(d->pid, &d->status, WNOHANG) == 0) {
		/* A daemon blocked on a full log pipe could never get to exit. */
		tu_drain_log(d);
		if (tu_now_ms() > end) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &d->status, 0);
			break;
		}
		usleep(10000);
	}
	d->exited = true;
	tu_drain_log(d);
	return d->status;
}

int
tu_stop(struct daemon *d, int sig)
{
	bool running = d->pid > 0 && !d->exited;
	int status = tu_kill_wait(d, sig, 10000);

	if (running)
		close(d->errfd);
	return status;
}

int
tu_run(char *out, size_t outlen, const char *arg, ...)
{
	char *argv[32];
	int p[2], status;
	size_t len = 0;
	ssize_t n;
	va_list ap;
	pid_t pid;

	va_start(ap, arg);
	collect_args(arg, ap, argv, 32);
	va_end(ap);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = start_sockd(p[1], argv, NULL);
	close(p[1]);
	while (len < outlen - 1 && (n = read(p[0], out + len, outlen - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	return status;
}

int
tu_connect_from(const char *src, const char *dst, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	bool v6 = strchr(dst, ':') != NULL;
	socklen_t len = v6 ? sizeof(*sin6) : sizeof(*sin);
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (src) {
		ss.ss_family = v6 ? AF_INET6 : AF_INET;
		inet_pton(ss.ss_family, src, v6 ? (void *)&sin6->sin6_addr : (void *)&sin->sin_addr);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss, len), 0);
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = v6 ? AF_INET6 : AF_INET;
	if (v6) {
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, dst, &sin6->sin6_addr);
	} else {
		sin->sin_port = htons(port);
		inet_pton(AF_INET, dst, &sin->sin_addr);
	}
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
tu_connect(uint16_t port)
{
	return tu_connect_from(NULL, "127.0.0.1", port);
}

ssize_t
tu_read_until(int fd, char *buf, size_t len, const char *text, int ms)
{
	long end = tu_now_ms() + ms;
	size_t got = 0;

	buf[0] = '\0';
	while (got < len - 1) {
		long left = end - tu_now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, left) != 1)
			break;
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			break;
		got += n;
		buf[got] = '\0';
		if (text && strstr(buf, text))
			break;
	}
	return got;
}

ssize_t
tu_udp_ask(uint16_t port, int srcport, const void *msg, size_t len, char *buf,
    size_t buflen, int ms)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n = -1;

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (srcport > 0) {
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		sin.sin_port = htons(srcport);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	}
	sin.sin_port = htons(port);
	if (sendto(fd, msg, len, 0, (struct sockaddr *)&sin, sizeof(sin)) >= 0 &&
	    poll(&p, 1, ms) == 1)
		n = recv(fd, buf, buflen, 0);
	close(fd);
	return n;
}

int
tu_count_fds(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

bool
tu_proc_stat(pid_t pid, struct tu_stat *st)
{
	char path[64], buf[1024], *p;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return false;
	p = fgets(buf, sizeof(buf), fp);
	fclose(fp);
	/* The command, in parentheses, may hold blanks and ')' itself. */
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return false;
	return sscanf(p + 1, " %c %ld %*d %ld %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &st->state, &st->ppid, &st->session, &st->utime, &st->stime) == 5;
}

const char *
tu_proc_status(pid_t pid, const char *field)
{
	static char value[64];
	char path[64], line[4096];
	size_t len = strlen(field);
	FILE *fp;

	value[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return value;
	while (fgets(line, sizeof(line), fp))
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			sscanf(line + len + 1, "%63s", value);
			break;
		}
	fclose(fp);
	return value;
}

/* Counts the children of parent in a given state (0: any). */
static int
count_children_where(pid_t parent, char state)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	struct tu_stat st;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
		    tu_proc_stat(atol(e->d_name), &st) && st.ppid == parent &&
		    (state == 0 || st.state == state))
			n++;
	closedir(d);
	return n;
}

int
tu_count_zombies(pid_t parent)
{
	return count_children_where(parent, 'Z');
}

int
tu_count_children(pid_t parent)
{
	return count_children_where(parent, 0);
}

int
tu_capture_stderr(void)
{
	int sv[2], size = 1 << 20;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	ck_assert_int_eq(dup2(sv[1], STDERR_FILENO), STDERR_FILENO);
	close(sv[1]);
	return sv[0];
}

size_t
tu_captured(int fd, char *buf, size_t len, size_t have)
{
	ssize_t n;

	ck_assert_uint_lt(have, len);
	while (have + 1 < len &&
	    (n = recv(fd, buf + have, len - 1 - have, MSG_DONTWAIT)) > 0)
		have += n;
	buf[have] = '\0';
	return have;
}

struct config *
tu_load_services(const char *name, const char *services)
{
	struct cfgerr err = { 0 };
	struct config *cfg = config_load(tu_write(name, "services = (%s);\n",
	    services), &err);

	ck_assert_msg(cfg != NULL, "%s", err.text);
	cfgerr_free(&err);
	return cfg;
}

int
tu_corpus(const char *rel, void (*fn)(const char *name, const uint8_t *in,
    size_t len, void *arg), void *arg)
{
	const char *dir = tu_path(rel);
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), seen = 0;

	ck_assert_msg(n > 2, "no corpus in %s", dir);
	for (int i = 0; i < n; i++) {
		char p[PATH_MAX * 2];
		uint8_t in[4096];
		const char *name = ents[i]->d_name;
		size_t len;
		FILE *fp;

		snprintf(p, sizeof(p), "%s/%s", dir, name);
		if (name[0] != '.' && (fp = fopen(p, "rb")) != NULL) {
			len = fread(in, 1, sizeof(in), fp);
			fclose(fp);
			fn(name, in, len, arg);
			seen++;
		}
		free(ents[i]);
	}
	free(ents);
	return seen;
}
