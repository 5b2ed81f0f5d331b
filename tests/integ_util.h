/*
 * Helpers of the integration suites only (integ_*.c), on top of testutil.
 * Kept out of testutil.c, which the unit tests share.
 */
#ifndef SOCKD_INTEG_UTIL_H
#define SOCKD_INTEG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "testutil.h"

/* Seconds allowed per test case; generous for the SANITIZE=1 build. */
#define IT_TIMEOUT 60
/* Milliseconds to wait for something that should happen at once. */
#define IT_WAIT 5000

/*
 * The texts of sockd's log (tu_start() runs it with -d) that the suites
 * wait for, in one place. IT_LOG_CONN_FMT is followed by the pid; the
 * others are parts of lines.
 */
#define IT_LOG_CONN_FMT "service \"%s\": accepted 127.0.0.1 port %u, pid "
#define IT_LOG_CONN "accepted 127.0.0.1 port"
#define IT_LOG_TOOK "took the socket"
#define IT_LOG_EXIT "exited with status "
#define IT_LOG_KILLED "killed by signal "

/* The end of a long text (a log), short enough for a Check message. */
const char *it_tail(const char *);

/*
 * Checked fixture of every integration TCase. Setup creates the temp dir
 * and a watchdog process that, once the test process is gone (even after
 * a failed assertion, which skips teardown), kills every sockd still
 * running from the temp dir and removes the dir. Teardown stops daemons
 * from it_daemon() that are still running and calls tu_cleanup().
 */
void it_setup(void);
void it_teardown(void);

/* A zeroed struct daemon on the heap, stopped by it_teardown() if needed. */
struct daemon *it_daemon(void);

/* tu_path("tests/probe"), in its own buffer. */
const char *it_probe(void);
/* tu_path(rel) in one of 4 buffers used in rotation, so several can be
 * passed to one tu_write(). */
const char *it_path(const char *rel);

/* it_daemon() + tu_start(conf); fails the test if sockd is not ready. */
struct daemon *it_start(const char *conf);
/* The same, with sockd run by wrapper (a path; NULL: none). */
struct daemon *it_start_via(const char *wrapper, const char *conf);
/*
 * Waits (up to IT_WAIT) until sockd has no child left and, if it came from
 * it_start(), no more descriptors than when it was ready (a handler's
 * stderr pipe is gone too); then sends SIGTERM and fails the test unless
 * sockd exits 0. Stopping a quiet daemon keeps SANITIZE=1 runs about real
 * leaks rather than about what running handlers still hold.
 */
void it_stop(struct daemon *);
/* Whether pid listens on (or, for UDP, is bound to) an address beyond
 * loopback; which in what. it_start() and it_stop() fail the test then. */
bool it_beyond_loopback(pid_t, char *what, size_t len);
/*
 * Moves the test process into a network namespace of its own with lo up
 * (without root, inside a user namespace mapping only its own ids), for a
 * test of wildcard addresses, which then reach nothing beyond it; fails
 * the test if it cannot. it_private_net_skip(): NULL if it can here, else
 * why the test is skipped.
 */
void it_private_net(void);
const char *it_private_net_skip(void);
/* Waits up to ms until pid has no child and at most fds descriptors (-1:
 * any number); false on timeout. */
bool it_wait_idle(pid_t, int fds, int ms);
/* NULL when this process may make every namespace a jail uses, else why
 * the jail tests are skipped. */
const char *it_jail_skip(void);
/*
 * The program rel of the tree, where a jail with tmp = true sees it: when
 * the tree is under /tmp (a clone there) it is copied, the first time, to
 * a directory under /var/tmp that the process which made it removes when
 * it exits; call it in the runner before the tests fork.
 */
const char *it_jail_prog(const char *rel);
/* Creates a directory under the temp dir; returns its path (static). */
const char *it_mkdir(const char *name);
/* Path of name under the temp dir (static buffer, one of 4 in rotation). */
const char *it_tmp(const char *name);

/* Waits until text occurs at least n times in the log. */
bool it_wait_log_count(struct daemon *, const char *text, int n, int ms);
int it_count(const char *haystack, const char *needle);

/*
 * A session with services/hello-tcp on port: true if it greets with
 * exactly "Welcome!\n" and, when name is not NULL, answers name with
 * "Hello, NAME!\n" (each within IT_WAIT).
 */
bool it_hello(uint16_t port, const char *name);
/* A datagram socket bound to a path under the temp dir, for NOTIFY_SOCKET
 * (the path in path); and a check that the next message on it is state. */
int it_notify_socket(char *path, size_t len);
void it_expect_notify(int fd, const char *state);
/* Reads until EOF within ms, throwing the data away; true on EOF. */
bool it_wait_eof(int fd, int ms);
/* True if nothing (no data, no EOF) arrives on fd within ms. */
bool it_quiet(int fd, int ms);
/* Sends all of s on fd. */
void it_send(int fd, const char *s);
/* Reads exactly len bytes (up to ms); returns how many arrived. */
size_t it_read_n(int fd, void *buf, size_t len, int ms);
/* The local port of a socket. */
uint16_t it_local_port(int fd);

/* "key=<number>" on a line of its own in buf; -1 if absent. */
long it_line_num(const char *buf, const char *key);
/* Whether buf holds exactly this line. */
bool it_has_line(const char *buf, const char *line);
/* Number of lines of buf that start with prefix. */
int it_count_prefix(const char *buf, const char *prefix);
/*
 * Connects to port and reads a probe's report up to its "end" line within
 * ms, into buf; fails the test, with the daemon's log, if none comes.
 */
const char *it_report(struct daemon *, uint16_t port, char *buf, size_t len,
    int ms);
/* mkdir -p path, mode 755; -1 on failure. */
int it_mkdirs(const char *path);
/* Waits up to ms until pid is no more (reaped by its parent); false if not. */
bool it_pid_gone(pid_t pid, int ms);
/* Waits up to ms until 127.0.0.1:port can be bound for TCP; false if not. */
bool it_port_free(uint16_t port, int ms);

/* The pid sockd logged for the connection from 127.0.0.1:clientport. */
pid_t it_conn_pid(struct daemon *, const char *svc, uint16_t clientport);

/* The pids of the log lines that contain text ("pid N" on the line). */
int it_log_pids(struct daemon *, const char *text, long *pids, int max);
/*
 * Waits until sockd logged the end of child pid of service svc; returns
 * the rest of that line ("exited with status N" or "killed by signal N
 * (...)"), or NULL after ms.
 */
const char *it_wait_reaped(struct daemon *, const char *svc, long pid, int ms);

/* Makes the test process the reaper of orphaned descendants. */
void it_subreaper(void);
/* Waits up to ms for a child of ours to exit; returns its wait status or -1. */
int it_wait_child(pid_t, int ms);
/* Whether pid exists and is not a zombie; its parent pid via *ppid. */
bool it_alive(pid_t, pid_t *ppid);
/* CPU seconds (user and system) pid has used; -1 if it is gone. */
double it_cpu_seconds(pid_t);
/* The descriptor pid's next open() would get. */
int it_lowest_free_fd(pid_t);
/* Polls up to ms until the daemon has no zombie children. */
bool it_no_zombies(pid_t daemon, int ms);

/* Local time from "Www Mmm dd hh:mm:ss yyyy"; -1 if it does not parse. */
time_t it_parse_ctime(const char *s);

struct sockaddr_un;
/* The address of a UNIX socket at path ("@name": abstract), and its length. */
socklen_t it_unix_addr(const char *path, struct sockaddr_un *);
/* A connected stream socket to path ("@name": abstract), or -1. */
int it_unix_connect(const char *path);

/* Runs a shell command (printf-style) with its stderr in its stdout, which
 * goes to out; its exit status, -1 if it did not exit. */
int it_sh(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A self-signed certificate NAME.pem and key NAME.key (mode 600) in the
 * temp dir for CN=cn, valid for days, made with the openssl command. */
void it_selfsigned(const char *name, const char *cn, int days);

#endif
