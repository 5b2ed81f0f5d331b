/*
 * The master's life: open (bind every service), start (signals, the
 * descriptors children borrow), run the event loop and act on signals,
 * shut down (leave or terminate the children), close. What happens to a
 * connection, a child or a reload lives in the files named after it:
 * gate.c, accept.c, dgram.c, start.c, reap.c, reload.c, events.c.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include "errlog.h"
#include "log.h"
#include "master.h"
#include "proxywait.h"
#include "sockd.h"

/*
 * A signal sockd has no use for (sig.c). At most one line a second for
 * each: a flood of queued real-time signals must not flood the log.
 */
static void
ignore_signal(struct sockd *sd, int sig)
{
	uint64_t now = loop_now_ms();

	if (sig <= 0 || sig >= SIG_NUM)
		return;
	if (sd->sig_logged_ms[sig] != 0 && now - sd->sig_logged_ms[sig] < 1000) {
		sd->sig_unlogged[sig]++;
		return;
	}
	if (sd->sig_unlogged[sig])
		log_warnx("ignoring signal %d (%s), and %u more since the last line",
		    sig, strsignal(sig), sd->sig_unlogged[sig]);
	else
		log_warnx("ignoring signal %d (%s)", sig, strsignal(sig));
	sd->sig_logged_ms[sig] = now;
	sd->sig_unlogged[sig] = 0;
}

static void
on_one_signal(struct sockd *sd, int sig)
{
	switch (sig) {
	case SIGCHLD:
		reap_sigchld(sd);
		break;
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		if (!sd->quit)
			log_info("%s: shutting down", strsignal(sig));
		sd->quit = true;
		break;
	case SIGHUP:
		sd->reload = true;
		break;
	case SIGUSR1:
		events_stats(sd);
		break;
	case SIGUSR2:
		sd->upgrade = true;
		break;
	default:
		ignore_signal(sd, sig);
		break;
	}
}

static void
on_signal(struct watch *w)
{
	struct sockd *sd = w->arg;
	int sigs[SIG_READ_MAX], n;

	do {
		n = sig_read(w->fd, sigs, SIG_READ_MAX);
		for (int i = 0; i < n; i++)
			on_one_signal(sd, sigs[i]);
	} while (n == SIG_READ_MAX);
}


/*
 * Binds the services, taking the sockets inherited where there are
 * (systemd's, or an upgrade's old image's): a socket systemd passed that
 * no service takes is an error; one the old image had for a service that
 * is no longer configured is closed.
 */
static int
master_adopt(struct sockd *sd, struct config *cfg)
{
	char what[300];
	size_t closed;

	if (inherit_systemd(&sd->inherited) == -1) {
		log_warn("startup: LISTEN_FDS");
		return -1;
	}
	if (reload_switch(sd, cfg) == -1 || control_configure(sd) == -1)
		return -1;
	if ((closed = inherit_settle(&sd->inherited)) > 0)
		log_info("upgrade: closed %zu listening sockets no service has "
		    "now", closed);
	if (inherit_unused(&sd->inherited, what, sizeof(what))) {
		log_warnx("startup: LISTEN_FDS: %s matches no service", what);
		return -1;
	}
	return 0;
}

int
master_open(struct sockd *sd, struct config *cfg)
{
	sd->cfg = cfg;
	sd->started = time(NULL);
	sd->check = (struct cfgcheck){ .child = { .pid = -1, .pidfd = -1, .fd = -1 } };
	sd->loop.epfd = -1;
	sd->sigwatch.fd = -1;
	sd->devnull = -1;
	sd->spawner = (struct spawner){ .own_in = -1, .own_err = -1 };
	if (start_ids(sd, cfg) == -1) {
		log_warn("startup: jail_ids");
		return -1;
	}
	/* Startup warnings still go to stderr, but in the configured format. */
	log_configure(false, cfg->global.log_format == LOG_FORMAT_JSON, -1);
	notify_open(&sd->notify);
	if (loop_init(&sd->loop) == -1 ||
	    (sd->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		log_warn("startup");
		return -1;
	}
	return master_adopt(sd, cfg);
}

/*
 * After daemonizing: a signalfd only wakes epoll for the process that made
 * it, so it must be created by the process that will run the loop; and the
 * fds 0-2 that children borrow are the ones daemonizing left.
 */
int
master_start(struct sockd *sd)
{
	int sigfd;

	if (spawn_init(&sd->spawner) == -1) {
		log_warn("startup: fds 0-2");
		return -1;
	}
	if ((sigfd = sig_init()) == -1) {
		log_warn("startup: signals");
		return -1;
	}
	sd->sigwatch = (struct watch){ .fd = sigfd, .fn = on_signal, .arg = sd };
	if (loop_enable(&sd->loop, &sd->sigwatch, true) == -1) {
		log_warn("startup: epoll");
		return -1;
	}
	reap_sync_sigchld(sd);
	gate_update_all(sd);
	return 0;
}

static void
on_grace_over(struct timer *t)
{
	*(bool *)t->arg = true;
}

/* shutdown = "terminate": SIGTERM every child, SIGKILL what outlives the grace. */
static void
terminate_children(struct sockd *sd)
{
	bool over = false;
	struct timer grace = { .fn = on_grace_over, .arg = &over };
	struct children *c = &sd->children;

	if (c->count == 0)
		return;
	log_info("terminating %zu children (grace %u s)", c->count,
	    sd->cfg->global.shutdown_grace);
	for (size_t i = 0; i < c->cap; i++)
		if (c->slots[i])
			start_kill(c->slots[i], SIGTERM);
	if (loop_timer_set(&sd->loop, &grace, sd->cfg->global.shutdown_grace * 1000ULL) == 0)
		while (c->count > 0 && !over && loop_once(&sd->loop) != -1)
			;
	loop_timer_stop(&sd->loop, &grace);
	if (c->count > 0) {
		log_warnx("killing %zu children that outlived the grace period", c->count);
		for (size_t i = 0; i < c->cap; i++)
			if (c->slots[i])
				start_kill(c->slots[i], SIGKILL);
		while (c->count > 0 && loop_once(&sd->loop) != -1)
			;
	}
}

/*
 * shutdown = "leave": the handlers left running still write to their
 * stderr sockets, and once the master is gone nobody would read them: the
 * next write would raise SIGPIPE in the handler. A drain process takes
 * the reading ends over and logs on until the last writer has closed.
 */
static void
leave_children(struct sockd *sd)
{
	size_t n = sd->children.count;
	pid_t pid;

	if (n == 0 || sd->errlogs == NULL)
		return;
	if ((pid = errlog_handover(&sd->errlogs)) == -1)
		log_warn("leaving %zu children: nothing will read their stderr", n);
	else
		log_info("leaving %zu children; pid %ld logs their stderr", n,
		    (long)pid);
}

int
master_run(struct sockd *sd)
{
	notify_send(&sd->notify, "READY=1");
	while (!sd->quit) {
		if (loop_once(&sd->loop) == -1) {
			log_warn("epoll_wait");
			return 1;
		}
		if (sd->reload && !sd->quit)
			reload_start(sd);
		if (sd->upgrade && !sd->quit)
			upgrade_start(sd);
		control_tick(sd);
	}
	notify_send(&sd->notify, "STOPPING=1");
	/* Stop accepting at once; children finish or are terminated. */
	for (size_t i = 0; i < sd->nsvcs; i++)
		reload_retire(sd, sd->svcs[i]);
	sd->nsvcs = 0;
	if (sd->cfg->global.shutdown == SHUTDOWN_TERMINATE)
		terminate_children(sd);
	else
		leave_children(sd);
	return 0;
}

void
master_close(struct sockd *sd)
{
	struct children *c = &sd->children;

	reload_cancel(sd);
	upgrade_cancel(sd);
	control_close(sd, true);
	free(sd->reload_report);
	sd->reload_report = NULL;
	scrape_close_all(sd);
	proxywait_free(sd);
	inherit_free(&sd->inherited);
	for (size_t i = 0; i < sd->nsvcs; i++)
		reload_retire(sd, sd->svcs[i]);
	free(sd->svcs);
	sd->svcs = NULL;
	sd->nsvcs = 0;
	/* Children left running (shutdown = "leave") keep going; we only
	 * drop our records of them. */
	for (size_t i = 0; i < c->cap; i++) {
		struct child *ch = c->slots[i];
		if (ch == NULL)
			continue;
		if (ch->exit.fd != -1)
			close(ch->exit.fd);
		service_unref(ch->svc);
	}
	errlog_close_all(&sd->errlogs);
	if (sd->sigwatch.fd != -1)
		close(sd->sigwatch.fd);
	if (sd->devnull != -1)
		close(sd->devnull);
	spawn_free(&sd->spawner);
	loop_free(&sd->loop);
	children_free(&sd->children);
	free(sd->stash);
	idpool_free(&sd->ids);
	notify_close(&sd->notify);
	dgram_free(sd);
}
