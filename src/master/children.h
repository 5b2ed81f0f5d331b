/* The master's table of live children: pid -> the record of its child. */
#ifndef SOCKD_CHILDREN_H
#define SOCKD_CHILDREN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "loop.h"

struct service;
struct sockd;

/*
 * One live child. Records come from children_new() and stay put however
 * the table below grows, so the watch and the timer inside can be
 * registered with the loop.
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
	uid_t own_id;		/* its jail's id of its own (idpool.h); 0: none */
	uid_t relay_id;		/* its TLS relay's id of its own; 0: none */
	/* Its client, for sockctl connections: an address and port, or a
	 * UNIX peer's uid (AF_UNIX, as peercred_key()); AF_UNSPEC: none. */
	struct addr peer;
	uint16_t peer_port;
	/* Run after it is reaped: a per-peer handler's socket (udppeer.c). */
	struct deferred *ended;
	struct sockd *sd;	/* the daemon, for the callbacks */
	struct chunk *chunk;	/* where the record was carved from */
	struct child *next_free;
};

/*
 * The table and the records are unforked memory (unforked.h): the master
 * writes them for every connection, and children never read them.
 */
struct children {
	struct child **slots;	/* NULL: free slot */
	size_t cap;		/* a power of two */
	size_t count;
	size_t nopidfd;		/* children reaped the old way, by SIGCHLD */
	struct chunk *chunks;	/* where records are carved from */
	size_t nchunks, nempty;	/* nempty: chunks with no record in use */
};

/* A zeroed record, or NULL with errno set. */
struct child *children_new(struct children *);
/* Gives a record back; a chunk left empty is unmapped if another is. */
void children_release(struct children *, struct child *);

/* Makes room for one more, so the add that follows cannot fail. */
int children_reserve(struct children *);
/* Adds ch under ch->pid; children_reserve() must have succeeded. */
void children_add(struct children *, struct child *);
/*
 * A child counted before its pid is known (a TLS connection handed to its
 * zygote), so that max_children stays exact: children_place() adds it
 * under its pid, children_unhold() forgets it if it never gets one.
 */
void children_hold(struct children *);
void children_place(struct children *, struct child *);
void children_unhold(struct children *);
struct child *children_find(const struct children *, pid_t);
/* Removes pid from the table and returns its record, or NULL. */
struct child *children_take(struct children *, pid_t);
/* Frees the table and every record, in use or not. */
void children_free(struct children *);

#endif
