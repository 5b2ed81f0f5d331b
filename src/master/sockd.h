/*
 * The master's state and the functions its files share, each under the
 * file it lives in. A connection goes accept.c (or dgram.c) -> gate.c ->
 * start.c, and comes back through reap.c; a reload is reload.c; master.c
 * runs the loop. Private to those files; main.c sees master.h.
 */
#ifndef SOCKD_SOCKD_H
#define SOCKD_SOCKD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "adoptfd.h"
#include "checkchild.h"
#include "inherit.h"
#include "cfgcheck.h"
#include "children.h"
#include "config.h"
#include "idpool.h"
#include "loop.h"
#include "notify.h"
#include "persource.h"
#include "refuse.h"
#include "service.h"
#include "sig.h"
#include "spawn.h"

struct errlog;
struct dgram_batch;
struct upstate;
struct pending;

/* Connections reading their PROXY header (proxywait.h). */
struct proxywait {
	struct pending *head, *tail;	/* newest first, a doubly linked list */
	unsigned n;
	/*
	 * Serves the parked connections that fit (proxywait_resume()). Lower
	 * modules that free room (reap.c, as a handler ends) arm it for now
	 * rather than call up here; the loop runs it after the events of
	 * its wake-up, before the backlogs' next. Set by the first add.
	 */
	struct timer resume;
};

/*
 * An upgrade in place (SIGUSR2): the master execs its binary again,
 * keeping its pid, its children and its listening sockets. upgrade.c runs
 * the old image's side, adopt.c the new one's; upstate.h is what passes
 * between.
 */
struct upgrade {
	char *self;		/* argv[0] at start, absolute; NULL: unknown */
	const char *pidfile;	/* -p's, made absolute; NULL: none given */
	struct checkchild check;	/* the new binary's check */
	struct watch w;		/* its output */
	struct timer timer;	/* its time limit, then the wait for scrapes */
	bool exec_pending;	/* checked; waiting for scrapes to end */
	struct upstate *from;	/* new image: what was handed over */
	struct adoptfd fds;	/* new image: the descriptors inherited */
	/* Upgrades that failed, and what the last one logged, for the
	 * clients of control.c that wait; a success is answered by the new
	 * image (adopt.c). */
	unsigned long long failures;
	char *why;		/* malloc'd; NULL: none */
};
struct scrape;
struct control;
struct ctlreq;

struct sockd {
	struct config *cfg;
	struct service **svcs;	/* the enabled services */
	size_t nsvcs;
	struct children children;
	struct idpool ids;	/* ids of jailed handlers naming no user */
	struct loop loop;
	struct watch sigwatch;
	struct notify notify;
	struct errlog *errlogs;	/* handlers' stderr sockets being read */
	int devnull;		/* fd 2 of handlers with stderr = "null" */
	struct spawner spawner;
	struct dgram_batch *dgram;	/* buffers for UDP built-ins (dgram.c) */
	struct proxywait proxywait;	/* connections reading a PROXY header */
	struct inherited inherited;	/* from systemd or an upgrade */
	bool by_pidfd;		/* new children get pidfds (reap.c) */
	/* TLS connections handed to a zygote whose child's pid is awaited
	 * (start.c), and the children waitpid(-1) reaped meanwhile with no
	 * record, which may be theirs (reap.c). */
	size_t nhanded;
	struct reap_stash {
		pid_t pid;
		int status;
	} *stash;
	size_t nstash, capstash;
	bool sigchld_on;	/* the signalfd reports SIGCHLD */
	bool quit, reload;
	/* A reload's configuration is checked in a child first (cfgcheck.h). */
	struct cfgcheck check;
	struct watch check_watch;
	struct timer check_timer;
	bool reload_again;	/* SIGHUP came during the check */
	bool foreground;
	int cli_log_level;	/* -d: overrides the configuration; -1: unset */
	/* Signals ignored (master.c): when each was last logged, and how
	 * many times it came since. */
	uint64_t sig_logged_ms[SIG_NUM];
	unsigned sig_unlogged[SIG_NUM];
	/* Daemon-wide figures for metrics.c. */
	time_t started;			/* wall clock */
	time_t last_reload;		/* last successful reload; 0: none */
	unsigned long long reloads_ok, reloads_failed;
	struct scrape *scrapes;		/* HTTP scrapes in progress (scrape.c) */
	unsigned nscrapes;
	bool upgrade;			/* SIGUSR2 came */
	struct upgrade up;		/* upgrade.c, adopt.c */
	/* Verdicts that control.c's clients wait for: reloads begun and
	 * done (reload.c), the last one's result and what it logged. */
	unsigned long long reloads_begun, reloads_done;
	bool last_reload_ok;
	time_t last_reload_try;		/* wall clock; 0: none yet */
	char *reload_report;		/* malloc'd; NULL: nothing logged */
	struct control *ctl;		/* the control socket (control.c) */
};

/*
 * The steps a connection takes that can fail for lack of a resource, in
 * their order: one working proves those before it work too.
 */
enum fault_step {
	FAULT_NONE,
	FAULT_TAKE,	/* accept(), or buffers for datagrams */
	FAULT_START	/* the child's record, its stderr log, the fork */
};

/* gate.c */
void gate_attach(struct service *);
bool gate_closed(const struct service *);
bool gate_wanted(const struct sockd *, const struct service *);
void gate_update(struct sockd *, struct service *);
void gate_update_all(struct sockd *);
void gate_pause(struct sockd *, struct service *, unsigned ms);
void gate_fault(struct sockd *, struct service *, enum fault_step,
    const char *what);
void gate_cleared(struct service *, enum fault_step);
/* Out of rate tokens: true, and the gate closes until there are some. */
bool gate_rate_exhausted(struct sockd *, struct service *, int64_t now);

/* accept.c */
void accept_attach(struct service *);

/* admit.c: the admission step of every connection and datagram. */
/* A TCP built-in answered in the master sends at most this. */
#define ADMIT_REPLY_MAX 64
/*
 * Decides on a fresh client (its address, or cred for a unix one, as
 * admit_peer() read them) before anything is forked: paused, access lists, per_source, source_rate. False when
 * it was refused, and fd (-1: none to close) closed; *srcp is the client's
 * per-source entry when the service counts them.
 */
bool admit_connection(struct service *, int fd, const struct conn *,
    int64_t now, struct source **srcp);
/* c's address from c->peer, once (struct conn's addr, port, known). */
void admit_peer(struct conn *);
/* Sends refuse_message, closes fd, counts and logs the refusal; detail
 * (a constant text, or NULL) says more. */
void admit_refuse(struct service *, int fd, const struct addr *,
    uint16_t port, enum refuse_reason, const char *detail, int64_t now);
/* The refusal log's flush timer of a service (refuse_flush's fn). */
void admit_flush(struct timer *);
/*
 * A connection whose addresses are known: admitted or refused, then
 * answered in the master (reply: one wake-up's formatted answer, *len -1
 * until formatted) or given a child. Closes c->fd. False when no child
 * could be started.
 */
bool admit_serve(struct sockd *, struct service *, struct conn *, int64_t now,
    char *reply, ssize_t *len);
/* Serves a connection whose PROXY header is read (proxywait.c); closes
 * c->fd. */
void admit_proxied(struct sockd *, struct service *, struct conn *);

/* dgram.c */
void dgram_answer(struct sockd *, struct listener *);
void dgram_free(struct sockd *);

/* start.c */
/* False when no child could be started (the gate is then faulted). A
 * TLS connection handed to its zygote is taken (c->fd -1, c->pid 0): its
 * child is recorded when its pid comes (tlszygote.h). */
bool start_child(struct sockd *, struct service *, struct conn *,
    struct source *);
void start_kill(const struct child *, int sig);
/* Ends a child as max_lifetime does: SIGTERM to its process group, then
 * SIGKILL after a grace (sockctl end). */
void start_end(struct sockd *, struct child *);
int start_ids(struct sockd *, const struct config *);
/* ids: the pool's ids the old image said the child's connection runs as,
 * its jailed handler's and its TLS relay's (0: not said). */
bool start_adopt(struct sockd *, struct service *, pid_t, uint64_t started_ms,
    const struct addr *source, uint64_t lifetime_when, bool term_sent,
    const uid_t ids[2]);
void start_retire_errlog(struct service *);
void start_renew_errlog(struct sockd *, struct service *);

/* reap.c */
void reap_on_exit(struct watch *);
void reap_sigchld(struct sockd *);
void reap_sync_sigchld(struct sockd *);
bool reap_by_pidfd(struct sockd *);
void reap_watch_exit(struct sockd *, struct child *, int pidfd);
/* Whether pid is a child of this process that nobody has waited for. */
bool reap_is_child(pid_t);
/* Whether pid was reaped with no record while a TLS connection's child
 * was awaited; its status then, and it is forgotten. */
bool reap_stashed(struct sockd *, pid_t, int *status);
/* A recorded child already waited for (status as waitpid() gives it):
 * forgotten as if it had just ended. */
void reap_finish(struct sockd *, struct child *, int status);
/* Gives back what a child holds besides its pid (service slot, ids,
 * per-source count), for a record that never got one. */
void reap_release(struct sockd *, struct child *);

/* reload.c */
void reload_start(struct sockd *);
void reload_cancel(struct sockd *);
/* Builds cfg's services, all or nothing: 0, or -1 with the old kept. */
int reload_switch(struct sockd *, struct config *);
void reload_retire(struct sockd *, struct service *);
/* The log as the running configuration sets it: at start, after a reload. */
void reload_log_config(const struct sockd *);
/* Whether a service running as old keeps its sockets when sc replaces it. */
bool reload_pairs(const struct svc_conf *old, const struct svc_conf *sc);

/* upgrade.c */
/* argv0: argv[0], the path the upgrade runs again. */
void upgrade_init(struct sockd *, const char *argv0);
void upgrade_print_format(void);
void upgrade_start(struct sockd *);
void upgrade_cancel(struct sockd *);

/* upcollect.c */
/* Writes sd's state (upstate.h) into fd; 0, or -1 with errno. */
int upcollect_write(int fd, const struct sockd *);

/* adopt.c */
void adopt_scan(struct sockd *);
int adopt_begin(struct sockd *);
void adopt_finish(struct sockd *);

/* scrape.c */
/* Takes over fd, a connection to a metrics service, and answers it; the
 * oldest scrape in progress is closed when there are too many. */
void scrape_accept(struct sockd *, struct service *, int fd);
void scrape_close_all(struct sockd *);

/* metrics.c */
/* The Prometheus text (format 0.0.4), *len bytes from front bytes into a
 * malloc'd buffer, the first front left for a header; NULL when out of
 * memory. */
char *metrics_render(const struct sockd *, size_t front, size_t *len);
/* Counts a handler that lived ms into its service's histogram. */
void metrics_observe(struct service_stats *, uint64_t ms);
/* The upper bound of histogram bucket b (< SERVICE_DURATION_BOUNDS), in ms. */
unsigned metrics_duration_bound(int b);

/* control.c: the control socket (sockctl(8)) and its clients. */
/* Binds, moves or closes the socket as the running configuration says;
 * a failure is logged, and -1. */
int control_configure(struct sockd *);
/* After each turn of the loop: answers the clients whose reload or
 * upgrade has its verdict, takes new clients again when there is room. */
void control_tick(struct sockd *);
/* The clients waiting for an upgrade's verdict, which the new image
 * answers (upcollect.c, upgrade.c): up to max of their descriptors. */
size_t control_waiters(const struct sockd *, int *fds, size_t max);
/* Closes the socket and every client; unlink: remove its file too. */
void control_close(struct sockd *, bool unlink);

/* ctlcmd.c: the commands of the control socket. */
enum ctlcmd_wait { CTLCMD_DONE, CTLCMD_WAIT_RELOAD, CTLCMD_WAIT_UPGRADE };
/*
 * Runs req for the peer cred (allowed to change things or not): writes
 * the whole answer, "+OK" or "-ERR", into out; or starts a reload or an
 * upgrade and returns which verdict the client waits for.
 */
enum ctlcmd_wait ctlcmd_run(struct sockd *, const struct ctlreq *,
    const struct ucred *, bool may_change, FILE *out);
/* The answer to a client that waited for a reload (ok: how it went). */
void ctlcmd_reload_answer(const struct sockd *, bool json, FILE *out);

/* events.c */
void events_accepted(const struct service *, const struct conn *, pid_t);
/* A connection or datagram answered by the master itself. */
void events_answered(const struct service *, const struct addr *, uint16_t port,
    int level);
void events_ended(const struct child *, int status, uint64_t ms);
void events_stats(const struct sockd *);
/* A reload about to commit: what it adds, removes and changes (reload.c). */
void events_reload(const struct sockd *, const struct config *,
    struct service *const *nv, const struct svc_conf *const *nc, size_t n);

#endif
