/*
 * probe - a handler for the integration tests, exec'd by sockd. libc only.
 * The mode is argv[1]:
 *
 *   env      writes "pid=<pid>", "ppid=<ppid>", "arg:<argv[i]>" for each
 *            argument, "env:NAME=value" for each environment variable,
 *            "fd:<n>" for each open descriptor, "sigmask=<SigBlk>",
 *            "sigign=<SigIgn>" and "end", one per line, to fd 1; then reads
 *            fd 0 until EOF and exits 0.
 *   crash    kills itself with SIGSEGV at once (no core file).
 *   exit N   exits with status N at once, without reading.
 *   hold     writes "pid=<pid>", then reads fd 0 until EOF and exits 0.
 *   stderr   writes "probe-stderr-line" to fd 2 and "ok" to fd 1, exits 0.
 *   halves   writes "<pid>:first-" to fd 2 and "ready" to fd 1; after a
 *            line on fd 0, "second" and a newline to fd 2, then "tail"
 *            with no newline, and exits 0.
 *   passfd   sends its fds 0-2 over fd 2 (SCM_RIGHTS) with the text
 *            "passed", writes "ok" to fd 1 and exits 0.
 *   accept   TCP wait service: fd 0 must be the listening socket; writes
 *            "listening=1" and the env report to one accepted connection,
 *            reads it until EOF and exits 0.
 *   udp      UDP wait service: answers one datagram on fd 0 with the env
 *            report (plus "dgram=1"), then exits 0.
 *   peer     UDP service with a process per peer: answers each datagram D
 *            read on fd 0 with one write of "<pid> <n> D" to fd 1 (n counts
 *            its datagrams from 1); "env" is answered with the env report
 *            instead, "sock" with "<pid> <n> sock type=T peer=P local=L"
 *            (fd 0's SO_TYPE, getpeername() and getsockname() as
 *            "ip:port", or "-" when not an IP socket), and "quit" as any
 *            datagram but then it exits 0. "steal PORT" is answered as any
 *            datagram, then fd 0 is connected to 127.0.0.1:PORT, another
 *            peer's address: an attack on that peer, whose datagrams it
 *            would then read and answer with its own pid (a pair cannot
 *            be connected so). Exits 0 at the end of its stdin; a peer's
 *            closed port (ECONNREFUSED) is not an end.
 *   sockopts writes fd 0's socket options, "name=value" a line (keepalive,
 *            keepidle, keepintvl, keepcnt, nodelay, defer_accept,
 *            fastopen, rcvbuf, sndbuf, reuseport, freebind, interface)
 *            and "end": to fd 1, or, when fd 0 is a listening socket (a
 *            wait service), to one connection it accepts; then reads
 *            until EOF and exits 0.
 *   activate SPEC PROGRAM ARGS...
 *            plays systemd's socket activation: binds 127.0.0.1 sockets
 *            as SPEC says ("tcp:PORT:NAME,udp:PORT:NAME", listening for
 *            tcp; NAME may be empty), puts them on fds 3 and up, sets
 *            LISTEN_FDS, LISTEN_PID (its pid, which PROGRAM keeps) and,
 *            if a name is given, LISTEN_FDNAMES, and execs PROGRAM.
 *   sdlisten a handler written to sd_listen_fds(3): checks LISTEN_PID
 *            against its pid and LISTEN_FDS, and writes "pid_ok=0|1",
 *            "fds=<LISTEN_FDS>", "names=<LISTEN_FDNAMES>", "listening=0|1"
 *            (fd 3 is a listening socket) and "end" to fd 3, or, when fd
 *            3 is listening, to one connection it accepts; then reads
 *            until EOF and exits 0.
 *   jail [PATH...]  what a jail looks like from inside, one "jail:" line each:
 *            "rootwrite=", "tmpwrite=" (ok or the errno name), "tmpfiles=N",
 *            "root:NAME" and "dev:NAME" per entry of / and /dev,
 *            "devnull=" (a write), "urandom=" (a read),
 *            "mount:POINT" per mount, "if:NAME" per network interface,
 *            "lo=up|down", "status:NAME=VALUE" for NoNewPrivs, Seccomp and
 *            the Cap* sets, "sched_yield=", "unshare=" (of nothing),
 *            "connect=" (to TCPLOCALIP:TCPLOCALPORT), and for each PATH
 *            "path:PATH=" (its stat) and "write:PATH=" (a new file in it);
 *            then the env report, and it reads fd 0 until EOF.
 *   grandchild  forks a child that closes 0-2, ignores SIGTERM and sleeps
 *            for ever; writes "grandchild=<its pid>" and "end", reads fd 0
 *            until EOF and exits 0.
 *   attack   reads a pid (a line) on fd 0, tries to SIGKILL it and to
 *            ptrace-attach it, writes "kill=" and "ptrace=" (ok or the
 *            errno name), "uid=<its uid>" and "end", and exits 0.
 */
#include <dirent.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

struct out {
	char buf[60000];
	size_t len;
};

static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= sizeof(o->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < sizeof(o->buf) - o->len ? (size_t)n :
		    sizeof(o->buf) - o->len - 1;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
drain(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0)
		if (n == -1 && errno != EINTR)
			break;
}

/* The hex value of a "Name:\t..." line of /proc/self/status. */
static void
status_field(const char *name, char *val, size_t len)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	size_t nl = strlen(name);

	snprintf(val, len, "?");
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp))
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			char *p = line + nl + 1;
			p += strspn(p, " \t");
			p[strcspn(p, "\n")] = '\0';
			snprintf(val, len, "%s", p);
			break;
		}
	fclose(fp);
}

static void
report(struct out *o, int argc, char **argv)
{
	char mask[64], ign[64];
	DIR *d;
	struct dirent *e;

	/* Read first, so the FILE of /proc/self/status is not in the fd list. */
	status_field("SigBlk", mask, sizeof(mask));
	status_field("SigIgn", ign, sizeof(ign));
	put(o, "pid=%ld\nppid=%ld\n", (long)getpid(), (long)getppid());
	for (int i = 0; i < argc; i++)
		put(o, "arg:%s\n", argv[i]);
	for (char **ep = environ; ep && *ep; ep++)
		put(o, "env:%s\n", *ep);
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
				continue;
			put(o, "fd:%s\n", e->d_name);
		}
		closedir(d);
	}
	put(o, "sigmask=%s\nsigign=%s\nend\n", mask, ign);
}

static int
mode_accept(int argc, char **argv)
{
	static struct out o;
	int on = 0, fd;
	socklen_t len = sizeof(on);

	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == -1)
		on = 0;
	while ((fd = accept(0, NULL, NULL)) == -1 && errno == EINTR)
		;
	if (fd == -1)
		return 1;
	if (dup2(fd, 0) == -1 || dup2(fd, 1) == -1)
		return 1;
	close(fd);
	put(&o, "listening=%d\n", on);
	report(&o, argc, argv);
	if (write_all(1, o.buf, o.len) == -1)
		return 1;
	drain(0);
	return 0;
}

static int
mode_passfd(void)
{
	int fds[3] = { 0, 1, 2 };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(fds))];
	} ctl = { 0 };
	struct iovec iov = { "passed\n", 7 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	if (sendmsg(2, &msg, 0) == -1 || write_all(1, "ok\n", 3) == -1)
		return 1;
	return 0;
}

static int
mode_udp(int argc, char **argv)
{
	static struct out o;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct pollfd p = { .fd = 0, .events = POLLIN };
	char buf[2048];
	int type = 0;
	socklen_t tlen = sizeof(type);

	if (poll(&p, 1, 10000) != 1)
		return 1;
	if (recvfrom(0, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen) < 0)
		return 1;
	if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1)
		type = 0;
	put(&o, "dgram=%d\n", type == SOCK_DGRAM);
	report(&o, argc, argv);
	if (sendto(0, o.buf, o.len, 0, (struct sockaddr *)&peer, plen) < 0)
		return 1;
	return 0;
}

/* An IP socket address as "ip:port"; "-" for any other. */
static void
put_ipaddr(struct out *o, const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN];
	const void *a = NULL;
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		a = &((const struct sockaddr_in *)ss)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	}
	if (a && inet_ntop(ss->ss_family, a, ip, sizeof(ip)))
		put(o, "%s:%u", ip, port);
	else
		put(o, "-");
}

/* What fd 0 is: its type, its peer and its own address. */
static void
report_sock(struct out *o)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int);
	int type = 0;

	(void)getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len);
	put(o, " type=%d peer=", type);
	len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	(void)getpeername(0, (struct sockaddr *)&ss, &len);
	put_ipaddr(o, &ss);
	put(o, " local=");
	len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	(void)getsockname(0, (struct sockaddr *)&ss, &len);
	put_ipaddr(o, &ss);
}

/* Connects fd 0 to 127.0.0.1 at the port in the len bytes at s. */
static void
steal(const char *s, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char num[8];

	memcpy(num, s, len);
	num[len] = '\0';
	sin.sin_port = htons((uint16_t)atoi(num));
	(void)connect(0, (struct sockaddr *)&sin, sizeof(sin));
}

static int
mode_peer(int argc, char **argv)
{
	static struct out o;
	char buf[2048];
	ssize_t n;
	unsigned count = 1;

	while ((n = read(0, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			return 1;
		}
		o.len = 0;
		if (n == 3 && memcmp(buf, "env", 3) == 0)
			report(&o, argc, argv);
		else
			put(&o, "%ld %u %.*s", (long)getpid(), count, (int)n, buf);
		if (n == 4 && memcmp(buf, "sock", 4) == 0)
			report_sock(&o);
		if (write(1, o.buf, o.len) < 0 && errno != ECONNREFUSED)
			return 1;
		if (n == 4 && memcmp(buf, "quit", 4) == 0)
			return 0;
		if (n > 6 && n < 12 && memcmp(buf, "steal ", 6) == 0)
			steal(buf + 6, (size_t)n - 6);
		count++;
	}
	return 0;
}

static void
report_sockopts(struct out *o, int fd)
{
	static const struct { const char *name; int level, opt; } opts[] = {
		{ "keepalive", SOL_SOCKET, SO_KEEPALIVE },
		{ "keepidle", IPPROTO_TCP, TCP_KEEPIDLE },
		{ "keepintvl", IPPROTO_TCP, TCP_KEEPINTVL },
		{ "keepcnt", IPPROTO_TCP, TCP_KEEPCNT },
		{ "nodelay", IPPROTO_TCP, TCP_NODELAY },
		{ "defer_accept", IPPROTO_TCP, TCP_DEFER_ACCEPT },
		{ "fastopen", IPPROTO_TCP, TCP_FASTOPEN },
		{ "rcvbuf", SOL_SOCKET, SO_RCVBUF },
		{ "sndbuf", SOL_SOCKET, SO_SNDBUF },
		{ "reuseport", SOL_SOCKET, SO_REUSEPORT },
		{ "freebind", IPPROTO_IP, IP_FREEBIND },
	};
	char dev[64] = "";
	socklen_t len = sizeof(dev);

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		int v = -1;
		socklen_t l = sizeof(v);
		if (getsockopt(fd, opts[i].level, opts[i].opt, &v, &l) == -1)
			v = -1;
		put(o, "%s=%d\n", opts[i].name, v);
	}
	if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &len) == -1)
		dev[0] = '\0';
	put(o, "interface=%s\nend\n", dev);
}

static int
mode_sockopts(void)
{
	static struct out o;
	int on = 0, fd = 1;
	socklen_t len = sizeof(on);

	report_sockopts(&o, 0);
	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on) {
		while ((fd = accept(0, NULL, NULL)) == -1 && errno == EINTR)
			;
		if (fd == -1)
			return 1;
	}
	if (write_all(fd, o.buf, o.len) == -1)
		return 1;
	drain(fd == 1 ? 0 : fd);
	return 0;
}

static int
mode_sdlisten(void)
{
	static struct out o;
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	int on = 0, fd = 3;
	socklen_t len = sizeof(on);

	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == -1)
		on = 0;
	put(&o, "pid_ok=%d\nfds=%s\nnames=%s\nlistening=%d\nend\n",
	    pid && atol(pid) == (long)getpid(), fds ? fds : "",
	    names ? names : "", on);
	if (on) {
		while ((fd = accept(3, NULL, NULL)) == -1 && errno == EINTR)
			;
		if (fd == -1)
			return 1;
	}
	if (write_all(fd, o.buf, o.len) == -1)
		return 1;
	drain(fd);
	return 0;
}

/*
 * One "tcp:PORT:NAME" of activate's SPEC: a socket at fd 100 and up.
 * "fd:N:NAME" passes the socket the caller holds at fd N instead (the
 * caller keeps its copy, as systemd does).
 */
static int
activate_one(const char *item, int at, char *names, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool tcp = strncmp(item, "tcp:", 4) == 0;
	const char *name = strchr(item + 4, ':');
	int fd, one = 1;

	if (strncmp(item, "fd:", 3) == 0) {
		name = strchr(item + 3, ':');
		fd = atoi(item + 3);
		if (dup2(fd, 100 + at) == -1)
			return -1;
		close(fd);
		goto named;
	}
	sin.sin_port = htons(atoi(item + 4));
	fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (tcp && listen(fd, 64) == -1) || dup2(fd, 100 + at) == -1)
		return -1;
	close(fd);
named:
	name = name ? name + 1 : "";
	snprintf(names + strlen(names), len - strlen(names), "%s%.*s",
	    at ? ":" : "", (int)strcspn(name, ","), name);
	return 0;
}

static int
mode_activate(int argc, char **argv)
{
	char names[1024] = "", num[32];
	const char *item = argc > 3 ? argv[2] : NULL;
	int n = 0;

	for (; item; item = strchr(item, ','), item = item ? item + 1 : NULL)
		if (activate_one(item, n++, names, sizeof(names)) == -1)
			return 111;
	for (int i = 0; i < n; i++)
		if (dup2(100 + i, 3 + i) == -1 || close(100 + i) == -1)
			return 111;
	snprintf(num, sizeof(num), "%d", n);
	setenv("LISTEN_FDS", num, 1);
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	setenv("LISTEN_PID", num, 1);
	if (strspn(names, ":") != strlen(names))
		setenv("LISTEN_FDNAMES", names, 1);
	execv(argv[3], argv + 3);
	return 127;
}

/* "ok" when r is not -1, else the name of errno. */
static const char *
outcome(long r)
{
	return r == -1 ? strerrorname_np(errno) : "ok";
}

static void
list_dir(struct out *o, const char *dir, const char *tag)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			put(o, "jail:%s:%s\n", tag, e->d_name);
	if (d)
		closedir(d);
}

/* Mount points (field 5 of mountinfo) and network interfaces. */
static void
jail_mounts_links(struct out *o)
{
	char line[1024], point[512], name[64];
	FILE *fp = fopen("/proc/self/mountinfo", "r");
	struct ifreq ifr = { .ifr_name = "lo" };
	int s;

	while (fp && fgets(line, sizeof(line), fp))
		if (sscanf(line, "%*s %*s %*s %*s %511s", point) == 1)
			put(o, "jail:mount:%s\n", point);
	if (fp)
		fclose(fp);
	fp = fopen("/proc/self/net/dev", "r");
	for (int n = 0; fp && fgets(line, sizeof(line), fp); n++)
		if (n >= 2 && sscanf(line, " %63[^:]:", name) == 1)
			put(o, "jail:if:%s\n", name);
	if (fp)
		fclose(fp);
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1 &&
	    ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
		put(o, "jail:lo=%s\n", ifr.ifr_flags & IFF_UP ? "up" : "down");
	if (s != -1)
		close(s);
}

static void
jail_paths(struct out *o, int n, char **paths)
{
	char name[4096];
	struct stat st;
	int fd;

	for (int i = 0; i < n; i++) {
		put(o, "jail:path:%s=%s\n", paths[i], outcome(stat(paths[i], &st)));
		snprintf(name, sizeof(name), "%s/probe-%ld", paths[i], (long)getpid());
		fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		put(o, "jail:write:%s=%s\n", paths[i], outcome(fd));
		if (fd != -1)
			close(fd);
	}
}

static void
jail_report(struct out *o, int npaths, char **paths)
{
	static const char *const fields[] = { "NoNewPrivs", "Seccomp", "CapInh",
	    "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	char val[64], tmpname[64];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *ip = getenv("TCPLOCALIP"), *port = getenv("TCPLOCALPORT");
	int fd, s;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		status_field(fields[i], val, sizeof(val));
		put(o, "jail:status:%s=%s\n", fields[i], val);
	}
	fd = open("/probe-write", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	put(o, "jail:rootwrite=%s\n", outcome(fd));
	snprintf(tmpname, sizeof(tmpname), "/tmp/probe-%ld", (long)getpid());
	fd = open(tmpname, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	put(o, "jail:tmpwrite=%s\n", outcome(fd));
	if (fd != -1)
		close(fd);
	fd = 0;
	list_dir(o, "/", "root");
	list_dir(o, "/dev", "dev");
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	put(o, "jail:devnull=%s\n", outcome(fd == -1 ? -1 : write(fd, "x", 1)));
	if (fd != -1)
		close(fd);
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	put(o, "jail:urandom=%s\n", outcome(fd == -1 ? -1 : read(fd, val, 8)));
	if (fd != -1)
		close(fd);
	fd = 0;
	jail_mounts_links(o);
	put(o, "jail:sched_yield=%s\n", outcome(syscall(SYS_sched_yield)));
	put(o, "jail:unshare=%s\n", outcome(unshare(0)));
	sin.sin_port = htons(port ? atoi(port) : 0);
	inet_pton(AF_INET, ip ? ip : "127.0.0.1", &sin.sin_addr);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	put(o, "jail:connect=%s\n", outcome(s == -1 ? -1 :
	    connect(s, (struct sockaddr *)&sin, sizeof(sin))));
	jail_paths(o, npaths, paths);
	for (DIR *d = opendir("/tmp"); d; closedir(d), d = NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			fd += e->d_name[0] != '.';
		put(o, "jail:tmpfiles=%d\n", fd);
	}
}

static int
mode_grandchild(void)
{
	char line[64];
	pid_t pid = fork();
	int n;

	if (pid == 0) {
		close(0);
		close(1);
		close(2);
		signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	n = snprintf(line, sizeof(line), "grandchild=%ld\nend\n", (long)pid);
	if (pid == -1 || write_all(1, line, n) == -1)
		return 1;
	drain(0);
	return 0;
}

/* A handler of another service going for a process of sockd's. */
static int
mode_attack(void)
{
	char line[64] = "", res[256];
	ssize_t n = read(0, line, sizeof(line) - 1);
	pid_t pid = n > 0 ? (pid_t)atol(line) : 0;
	const char *k, *t;
	long r;

	if (pid <= 1)
		return 1;
	k = outcome(kill(pid, SIGKILL));
	t = outcome(r = ptrace(PTRACE_ATTACH, pid, NULL, NULL));
	if (r != -1)
		(void)ptrace(PTRACE_DETACH, pid, NULL, NULL);
	n = snprintf(res, sizeof(res), "kill=%s\nptrace=%s\nuid=%ld\nend\n", k,
	    t, (long)getuid());
	return write_all(1, res, (size_t)n) == -1;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "env";
	char line[64];

	if (strcmp(mode, "env") == 0) {
		static struct out o;
		report(&o, argc, argv);
		if (write_all(1, o.buf, o.len) == -1)
			return 1;
		drain(0);
		return 0;
	}
	if (strcmp(mode, "crash") == 0) {
		struct rlimit rl = { 0, 0 };
		/* No core file in whatever directory sockd runs in. */
		(void)setrlimit(RLIMIT_CORE, &rl);
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		return 99;
	}
	if (strcmp(mode, "exit") == 0)
		return argc > 2 ? atoi(argv[2]) : 0;
	if (strcmp(mode, "hold") == 0) {
		int n = snprintf(line, sizeof(line), "pid=%ld\n", (long)getpid());
		if (write_all(1, line, n) == -1)
			return 1;
		drain(0);
		return 0;
	}
	if (strcmp(mode, "stderr") == 0) {
		static const char err[] = "probe-stderr-line\n", ok[] = "ok\n";
		if (write_all(2, err, sizeof(err) - 1) == -1 ||
		    write_all(1, ok, sizeof(ok) - 1) == -1)
			return 1;
		return 0;
	}
	if (strcmp(mode, "halves") == 0) {
		char got[64];
		int n = snprintf(line, sizeof(line), "%ld:first-", (long)getpid());
		if (write_all(2, line, n) == -1 || write_all(1, "ready\n", 6) == -1 ||
		    read(0, got, sizeof(got)) <= 0 ||
		    write_all(2, "second\n", 7) == -1 || write_all(2, "tail", 4) == -1)
			return 1;
		return 0;
	}
	if (strcmp(mode, "passfd") == 0)
		return mode_passfd();
	if (strcmp(mode, "accept") == 0)
		return mode_accept(argc, argv);
	if (strcmp(mode, "udp") == 0)
		return mode_udp(argc, argv);
	if (strcmp(mode, "peer") == 0)
		return mode_peer(argc, argv);
	if (strcmp(mode, "sockopts") == 0)
		return mode_sockopts();
	if (strcmp(mode, "sdlisten") == 0)
		return mode_sdlisten();
	if (strcmp(mode, "activate") == 0)
		return mode_activate(argc, argv);
	if (strcmp(mode, "jail") == 0) {
		static struct out o;
		jail_report(&o, argc - 2, argv + 2);
		report(&o, argc, argv);
		if (write_all(1, o.buf, o.len) == -1)
			return 1;
		drain(0);
		return 0;
	}
	if (strcmp(mode, "grandchild") == 0)
		return mode_grandchild();
	if (strcmp(mode, "attack") == 0)
		return mode_attack();
	fprintf(stderr, "probe: unknown mode %s\n", mode);
	return 2;
}
