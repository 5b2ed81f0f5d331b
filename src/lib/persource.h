/*
 * Per-client state of one service: live children and the source_rate
 * bucket, keyed by the client's address (IPv6 by prefix). An entry lives
 * while it has children or a bucket that is not yet full again.
 */
#ifndef SOCKD_PERSOURCE_H
#define SOCKD_PERSOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "htab.h"
#include "ratelimit.h"

struct source {
	struct hnode node;
	struct addr key;
	unsigned count;		/* live children */
	struct bucket bucket;
};

struct persource {
	struct htab tab;
	unsigned prefix6;	/* IPv6 clients are grouped by this prefix */
	unsigned rate, burst;	/* source_rate; 0: none */
};

void persource_init(struct persource *, unsigned prefix6, unsigned rate,
    unsigned burst);
/* The key a client address is counted under. */
struct addr persource_key(const struct persource *, const struct addr *);
/* Finds or creates the entry for key; NULL when out of memory. */
struct source *persource_get(struct persource *, const struct addr *key, int64_t now);
/* One child of key has ended. */
void persource_release(struct persource *, const struct addr *key, int64_t now);
/* Calls fn with each entry. */
void persource_each(const struct persource *,
    void (*fn)(const struct source *, void *), void *arg);
void persource_free(struct persource *);

#endif
