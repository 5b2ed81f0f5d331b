/*
 * Whether a service's listeners are polled now. One predicate,
 * gate_wanted(), decides from the service's state: closed, at its caps,
 * paused by failure back-off, faulted for lack of resources, or waiting
 * for rate tokens, or held by an operator (sockctl pause, until resume);
 * the back-off pauses are timers that reopen the gate. Owns those
 * states and their timers; never accepts, starts or reaps anything.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "builtin.h"
#include "log.h"
#include "sockd.h"

/* Out of resources: the first pause, doubled at each failure up to the last. */
#define FAULT_FIRST_MS 100
#define FAULT_MAX_MS 2000

bool
gate_closed(const struct service *svc)
{
	return svc->nls == 0 || svc->ls[0].fd == -1;
}

/*
 * Paused by failure back-off, a service that accepts its own connections
 * keeps taking them, to refuse them at once: a client learns that the
 * service is unavailable rather than wait out the pause in the backlog.
 * Services that pass their socket to a child just stop.
 */
static bool
refuses_while_paused(const struct svc_conf *sc)
{
	return sc->proto != PROTO_UDP && !sc->wait;
}

/* Whether the master should be listening on svc right now. */
bool
gate_wanted(const struct sockd *sd, const struct service *svc)
{
	if (sd->quit || svc->faulted || gate_closed(svc))
		return false;
	/* Known peers are served whatever the caps; udppeer.c admits new ones. */
	if (svc->conf->per_peer)
		return true;
	if (svc->paused || svc->held)
		return refuses_while_paused(svc->conf);
	/* Before an upgrade's exec, no scrape may start (upgrade.c). */
	if (svc->conf->builtin && svc->conf->builtin->scrape)
		return !svc->rate_wait && !sd->up.exec_pending;
	if (service_in_master(svc->conf))
		return !svc->rate_wait;
	/* Before an upgrade's exec, no connection may wait for its header or
	 * for its child's pid from a TLS zygote: the new image could not
	 * finish either (upgrade.c). */
	if ((svc->conf->proxy_protocol || svc->conf->tls) && sd->up.exec_pending)
		return false;
	return !svc->busy && !service_at_cap(svc) && !svc->rate_wait &&
	    sd->children.count < sd->cfg->global.max_children;
}

void
gate_update(struct sockd *sd, struct service *svc)
{
	bool on = gate_wanted(sd, svc);

	for (size_t i = 0; i < svc->nls; i++)
		if (svc->ls[i].fd != -1 &&
		    loop_enable(&sd->loop, &svc->ls[i].watch, on) == -1)
			log_warn("service \"%s\": epoll", svc->conf->name);
}

void
gate_update_all(struct sockd *sd)
{
	for (size_t i = 0; i < sd->nsvcs; i++)
		gate_update(sd, sd->svcs[i]);
}

static void
on_resume(struct timer *t)
{
	struct service *svc = t->arg;

	svc->paused = false;
	log_event(LOG_INFO, "resumed", &KV_S("service", svc->conf->name), 1,
	    "service \"%s\": pause over", svc->conf->name);
	gate_update(svc->sd, svc);
}

/* The service has tokens again (rate). */
static void
on_rate_resume(struct timer *t)
{
	struct service *svc = t->arg;

	svc->rate_wait = false;
	gate_update(svc->sd, svc);
}

void
gate_pause(struct sockd *sd, struct service *svc, unsigned ms)
{
	svc->paused = true;
	gate_update(sd, svc);
	if (loop_timer_set(&sd->loop, &svc->resume, ms) == -1) {
		/* Without a timer the pause could last forever; do not pause. */
		svc->paused = false;
		gate_update(sd, svc);
	}
}

static void
on_fault_timer(struct timer *t)
{
	struct service *svc = t->arg;

	svc->faulted = false;
	gate_update(svc->sd, svc);
}

/*
 * Out of descriptors, memory or processes: stop listening a while, then
 * retry, waiting longer each time. An episode is logged when it begins and
 * when it ends (fault_cleared), never in between: each retry that fails
 * would otherwise add a line.
 */
void
gate_fault(struct sockd *sd, struct service *svc, enum fault_step step,
    const char *what)
{
	if (svc->fault_step == FAULT_NONE) {
		log_warn("service \"%s\": %s; pausing it briefly", svc->conf->name, what);
		svc->fault_ms = FAULT_FIRST_MS;
		svc->nfaults = 0;
	} else if ((svc->fault_ms *= 2) > FAULT_MAX_MS)
		svc->fault_ms = FAULT_MAX_MS;
	svc->nfaults++;
	if ((int)step > svc->fault_step)
		svc->fault_step = step;
	svc->faulted = true;
	gate_update(sd, svc);
	if (loop_timer_set(&sd->loop, &svc->fault_timer, svc->fault_ms) == -1) {
		/* Without a timer the pause could last forever; do not pause. */
		svc->faulted = false;
		gate_update(sd, svc);
	}
}

/* step worked: the episode is over once the furthest failed step works. */
void
gate_cleared(struct service *svc, enum fault_step step)
{
	if (svc->fault_step == FAULT_NONE || (int)step < svc->fault_step)
		return;
	struct log_kv kv[] = { KV_S("service", svc->conf->name),
	    KV_I("failures", svc->nfaults) };
	log_event(LOG_INFO, "recovered", kv, 2,
	    "service \"%s\": serving again after %u failures for lack of resources",
	    svc->conf->name, svc->nfaults);
	svc->fault_step = FAULT_NONE;
	svc->fault_ms = 0;
	svc->nfaults = 0;
}

/* Out of rate tokens: stop accepting (clients wait in the backlog). */
bool
gate_rate_exhausted(struct sockd *sd, struct service *svc, int64_t now)
{
	int64_t wait = ratelimit_wait(&svc->rate, now);

	if (wait <= 0)
		return false;
	svc->rate_wait = true;
	if (loop_timer_set(&sd->loop, &svc->rate_timer, wait) == -1)
		svc->rate_wait = false;		/* retry on the next wake-up */
	return true;
}

/* Points the service's timers at the gate. */
void
gate_attach(struct service *svc)
{
	svc->resume.fn = on_resume;
	svc->fault_timer.fn = on_fault_timer;
	svc->rate_timer.fn = on_rate_resume;
}
