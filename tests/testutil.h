/* Helpers shared by the Check suites: temp dirs, free ports, the daemon. */
#ifndef SOCKD_TESTUTIL_H
#define SOCKD_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Room for everything a test's daemon logs: the busiest test makes up to
 * 5,000 connections, two info lines each. A log cut short would hide the
 * lines a test waits for.
 */
#define TU_LOG_MAX (4 * 1024 * 1024)

/* The suites, one per area; runners pick theirs. */
Suite *addr_suite(void);
Suite *tlsfuzz_suite(void);
Suite *tlsenv_suite(void);
Suite *builtin_suite(void);
Suite *children_suite(void);
Suite *config_suite(void);
Suite *cfgscan_suite(void);
Suite *reload_suite(void);
Suite *daemon_suite(void);
Suite *services_suite(void);
Suite *process_suite(void);
Suite *ops_suite(void);
Suite *sockctl_suite(void);
Suite *acl_suite(void);
Suite *ratelimit_suite(void);
Suite *config_controls_suite(void);
Suite *controls_suite(void);
Suite *fastpath_suite(void);
Suite *hostile_suite(void);
Suite *reliability_suite(void);
Suite *faults_suite(void);
Suite *jail_suite(void);
Suite *unitlimits_suite(void);
Suite *convert_suite(void);
Suite *loop_suite(void);
Suite *htab_suite(void);
Suite *log_suite(void);
Suite *refuse_suite(void);
Suite *errlog_suite(void);
Suite *metrics_suite(void);
Suite *upgrade_suite(void);
Suite *confdiff_suite(void);
Suite *logaddr_suite(void);
Suite *upstate_suite(void);
Suite *unix_suite(void);
Suite *udppeer_suite(void);
Suite *proxyproto_suite(void);
Suite *ctlreq_suite(void);
Suite *config_balancer_suite(void);
Suite *proxy_suite(void);
Suite *tls_suite(void);
Suite *tlsmod_suite(void);
Suite *starttls_suite(void);
Suite *sockopt_suite(void);
Suite *listenfds_suite(void);
Suite *activation_suite(void);
Suite *keys_suite(void);
Suite *gate_suite(void);
Suite *scrape_suite(void);
Suite *escape_suite(void);
Suite *idpool_suite(void);
Suite *checkchild_suite(void);
Suite *connenv_suite(void);
Suite *inetdconf_suite(void);
Suite *inetd_suite(void);
Suite *persource_suite(void);
Suite *sockopt_unit_suite(void);
Suite *peercred_suite(void);
Suite *usersdb_suite(void);

/*
 * Absolute path of a file in the source tree, e.g. tu_path("src/sockd").
 * The programs tests run as nobody (sockd, the probes, the handlers) are
 * read from the copy tu_nobody_skip() made, if it made one.
 */
const char *tu_path(const char *rel);

/*
 * Check has no "skipped" status, so a test that cannot run here is not
 * added at all: tu_add_test() adds tf when why is NULL, and otherwise
 * records "SKIP name: why" for tu_report_skips(), which the runners call
 * after the run to print those lines and their count. Returns the count.
 */
void tu_add_test(TCase *, const TTest *tf, const char *why);
int tu_report_skips(void);
/*
 * Adds to s a test case with a checked fixture (setup and teardown; both
 * NULL: none) and a timeout in seconds (0: Check's default), holding the
 * tests that follow, up to NULL. Returns it, for tu_add_test().
 */
TCase *tu_tcase(Suite *s, const char *name, void (*setup)(void),
    void (*teardown)(void), int timeout, ...);
/*
 * A runner's main: runs the suites that follow (up to NULL), prints the
 * skipped tests, and returns the exit status.
 */
int tu_run_suites(Suite *first, ...);
/* NULL when running as root, else why a test needing root is skipped. */
const char *tu_root_skip(void);
/*
 * NULL when tests may run sockd, the probes and the handlers as nobody
 * (uid 65534): running as root, and nobody can execute them. When nobody
 * cannot reach the source tree (a clone under /root, mode 700), the
 * programs are copied once into a mode-755 directory under /tmp, which the
 * process that made it removes at exit. Otherwise, the reason.
 */
const char *tu_nobody_skip(void);
/*
 * Calls fn with each file of the corpus directory rel (a fuzzer's seeds):
 * its name and its first 4 KiB. Fails the test if there is none; returns
 * how many files it read.
 */
int tu_corpus(const char *rel, void (*fn)(const char *name, const uint8_t *in,
    size_t len, void *arg), void *arg);
/* Copies the program src to a new file dst, mode 755; -1 on failure. */
int tu_copy_prog(const char *src, const char *dst);
/* A fresh temporary directory, removed with everything in it by tu_cleanup(). */
const char *tu_tmpdir(void);
void tu_cleanup(void);
/* Writes a file under the temp dir (printf-style) and returns its path. */
const char *tu_write(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct config;
/* Loads "services = (services);" written to name under the temp dir; fails
 * the test with the loader's errors. */
struct config *tu_load_services(const char *name, const char *services);
/* A loopback port that is free for both TCP and UDP now, and reserved
 * for this process among all test processes until it ends. */
uint16_t tu_free_port(void);

struct daemon {
	pid_t pid;
	int errfd;		/* read end of the daemon's stderr */
	char log[TU_LOG_MAX];
	size_t loglen;
	int status;		/* wait status once exited */
	bool exited;
};

/* Starts src/sockd -F with conf (a path) and extra args (NULL-terminated);
 * waits for "ready:" and returns 0, or -1 if it exited or timed out. */
int tu_start(struct daemon *, const char *conf, ...);
/* The same, with sockd run by wrapper (a path), which execs its arguments. */
int tu_start_via(struct daemon *, const char *wrapper, const char *conf, ...);
/* Waits up to ms for text to appear in the daemon's log. */
bool tu_wait_log(struct daemon *, const char *text, int ms);
/* Reads whatever the daemon logged so far without waiting. */
void tu_drain_log(struct daemon *);
/* Sends sig and waits up to 10 s; returns the wait status. */
int tu_stop(struct daemon *, int sig);
/*
 * The same, waiting up to ms (then SIGKILL), but the log stays open for
 * what others (a handler sockd left running) still write there.
 */
int tu_kill_wait(struct daemon *, int sig, int ms);
/* Runs sockd to completion with args; captures stderr+stdout into out. */
int tu_run(char *out, size_t outlen, const char *arg, ...);

/* TCP connect to 127.0.0.1:port (or from a given source address). */
int tu_connect(uint16_t port);
int tu_connect_from(const char *src, const char *dst, uint16_t port);
/* Reads until text is seen, EOF or ms pass; returns bytes read (NUL-terminated). */
ssize_t tu_read_until(int fd, char *buf, size_t len, const char *text, int ms);
/* Sends one datagram to 127.0.0.1:port and waits ms for a reply; -1 if none. */
ssize_t tu_udp_ask(uint16_t port, int srcport, const void *msg, size_t len,
    char *buf, size_t buflen, int ms);

/*
 * Sends this process's stderr into a SOCK_SEQPACKET socket, so each write
 * is read back as one record, and returns the reading end. For tests of
 * what the daemon's own code logs; Check's fork ends it with the test.
 */
int tu_capture_stderr(void);
/* Reads the records waiting on fd (no waiting) onto buf[have..] and
 * returns the new length; buf stays NUL-terminated. */
size_t tu_captured(int fd, char *buf, size_t len, size_t have);

/* Milliseconds on CLOCK_MONOTONIC: the one clock of all the tests. */
long tu_now_ms(void);

/* Fields of /proc/PID/stat (proc(5) numbers them 3, 4, 6, 14 and 15). */
struct tu_stat {
	char state;
	long ppid;
	long session;
	unsigned long utime, stime;	/* clock ticks */
};
/* The one reader of /proc/PID/stat; false if pid is gone or unreadable. */
bool tu_proc_stat(pid_t, struct tu_stat *);
/* The value of field ("VmRSS", "SigBlk") in /proc/PID/status, up to its
 * first blank (static buffer); "" if pid or the field is missing. */
const char *tu_proc_status(pid_t, const char *field);

/* Counters of a process, from /proc. */
int tu_count_fds(pid_t);
int tu_count_zombies(pid_t parent);
int tu_count_children(pid_t parent);

#endif
