/*
 * The ids jailed handlers run as when their service names no user, and
 * TLS relays: one uid (and the gid of the same number) per live
 * connection and role, from a range the configuration gives (jail_ids),
 * so that no two share a uid: neither its files, nor its processes'
 * signals, nor its nproc limit. A bitmap over the range; a leaf: no logging, no other module.
 */
#ifndef SOCKD_IDPOOL_H
#define SOCKD_IDPOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct idpool {
	uid_t first, last;	/* inclusive; first 0: empty pool */
	uint64_t *bits;		/* bit i: first + i is in use */
	uid_t next;		/* where the next search starts (next-fit) */
	unsigned used;
};

/* The pool of [first, last]; -1 with errno set. */
int idpool_init(struct idpool *, uid_t first, uid_t last);
void idpool_free(struct idpool *);
/* A free id, now in use; 0 when every id is in use (0 is never one). */
uid_t idpool_get(struct idpool *);
/* id back; ids outside the range are ignored (a reload moved it). */
void idpool_put(struct idpool *, uid_t id);
/* id in use already (a child the old image or config started); false if
 * it is outside the range or taken. */
bool idpool_take(struct idpool *, uid_t id);

#endif
