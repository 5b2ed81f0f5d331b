/* The master's table of live children: pid -> the record of its child. */
#ifndef SOCKD_CHILDREN_H
#define SOCKD_CHILDREN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "addr.h"
#include "loop.h"

struct service;

/*
 * One live child. Records are allocated one by one, so the watch and the
 * timer inside stay put however the table below grows.
 */
struct child {
	pid_t pid;
	struct service *svc;
	uint64_t started_ms;	/* loop_now_ms() at the start */
	bool has_source;	/* counted under source in svc's per_source table */
	struct addr source;
	struct watch exit;	/* its pidfd, readable once it ended; fd -1: none */
	struct timer lifetime;	/* max_lifetime, armed only when that is set */
	bool term_sent;
	void *owner;		/* the daemon, for the callbacks */
};

struct children {
	struct child **slots;	/* NULL: free slot */
	size_t cap;		/* a power of two */
	size_t count;
	size_t nopidfd;		/* children reaped the old way, by SIGCHLD */
};

/* Makes room for one more, so the add that follows cannot fail. */
int children_reserve(struct children *);
/* Adds ch under ch->pid; children_reserve() must have succeeded. */
void children_add(struct children *, struct child *);
struct child *children_find(const struct children *, pid_t);
/* Removes pid from the table and returns its record, or NULL. */
struct child *children_take(struct children *, pid_t);
/* Frees the table; the records are the caller's. */
void children_free(struct children *);

#endif
