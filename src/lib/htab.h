/*
 * A chained hash table of nodes embedded in their owners' records, for
 * per-peer and per-source state. Each node keeps its key's hash, so a
 * lookup compares keys only where the hashes agree and growing rehashes
 * nothing. The caller hashes (htab_hash) and compares its keys, and owns
 * the records. A leaf: no logging, nothing else of sockd's.
 */
#ifndef SOCKD_HTAB_H
#define SOCKD_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hnode {
	struct hnode *next;
	uint32_t hash;
};

struct htab {
	struct hnode **heads;
	size_t nheads;		/* a power of two, or 0 before the first insert */
	size_t n;		/* nodes */
	/* The table's key for htab_hash(), drawn at its first hash: no two
	 * tables of a process share one, and no client can know it. */
	uint32_t seed;
	bool seeded;
};

/* The record a node is embedded in, as its type. */
#define htab_entry(node, type, member) \
	((type *)(void *)((char *)(node) - offsetof(type, member)))

/*
 * FNV-1a of len bytes, from an initial state the table's seed changes,
 * mixed at the end so that the head (the low bits) depends on every bit
 * of it: a client cannot choose addresses that share a head without the
 * seed. For one key the hash is a bijection of the seed: two tables hash
 * it apart.
 */
uint32_t htab_hash(struct htab *, const void *key, size_t len);
/*
 * The link that points to the node whose hash is h and for which
 * eq(node, key) holds, or to the NULL that ends its chain: *link is the
 * node found, or NULL. Only while the table has heads (nheads > 0).
 */
struct hnode **htab_link(struct htab *, uint32_t h,
    bool (*eq)(const struct hnode *, const void *key), const void *key);
/* The node found, or NULL. */
struct hnode *htab_find(const struct htab *, uint32_t h,
    bool (*eq)(const struct hnode *, const void *key), const void *key);
/* Room for one more node: doubles the heads when there are as many nodes;
 * -1 when out of memory. */
int htab_reserve(struct htab *);
/* Adds n, its hash set, to a table with room (htab_reserve). */
void htab_insert(struct htab *, struct hnode *n);
/* Takes n out, if it is in. */
void htab_remove(struct htab *, struct hnode *n);
/* Calls fn with each node; fn may free the node it is given, and drop()
 * saying true takes it out first (its record may then be freed). */
void htab_each(const struct htab *, void (*fn)(struct hnode *, void *), void *arg);
void htab_sweep(struct htab *, bool (*drop)(struct hnode *, void *), void *arg);
/* Frees the heads; the nodes are the caller's. The next hash draws a new
 * seed. */
void htab_free(struct htab *);

#endif
