/*
 * Per-client state of a service (live children, the source_rate
 * bucket), keyed by address or IPv6 prefix in a hash table (htab.c)
 * that grows with its load; entries that hold nothing are swept first.
 */
#include <stdlib.h>
#include <string.h>

#include "persource.h"

void
persource_init(struct persource *ps, unsigned prefix6, unsigned rate,
    unsigned burst)
{
	memset(ps, 0, sizeof(*ps));
	ps->prefix6 = prefix6;
	ps->rate = rate;
	ps->burst = burst;
}

struct addr
persource_key(const struct persource *ps, const struct addr *a)
{
	struct addr k;

	memset(&k, 0, sizeof(k));
	k.family = a->family;
	k.u = a->u;
	if (k.family == AF_INET6)
		addr_mask(&k, ps->prefix6);
	return k;
}

static uint32_t
key_hash(struct persource *ps, const struct addr *k)
{
	return htab_hash(&ps->tab, &k->u, k->family == AF_INET ? 4 : 16);
}

static bool
key_eq(const struct hnode *n, const void *key)
{
	return addr_equal(&htab_entry(n, struct source, node)->key, key);
}

static bool
holds_nothing(struct source *s, int64_t now)
{
	return s->count == 0 && ratelimit_full(&s->bucket, now);
}

/* Drops an entry that holds nothing; for the sweep before a growth. */
static bool
drop_empty(struct hnode *n, void *now)
{
	struct source *s = htab_entry(n, struct source, node);

	if (!holds_nothing(s, *(int64_t *)now))
		return false;
	free(s);
	return true;
}

struct source *
persource_get(struct persource *ps, const struct addr *k, int64_t now)
{
	uint32_t h = key_hash(ps, k);
	struct hnode *n = htab_find(&ps->tab, h, key_eq, k);
	struct source *s;

	if (n)
		return htab_entry(n, struct source, node);
	if (ps->tab.n >= ps->tab.nheads)
		htab_sweep(&ps->tab, drop_empty, &now);
	if (htab_reserve(&ps->tab) == -1 || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->key = *k;
	s->node.hash = h;
	ratelimit_init(&s->bucket, ps->rate, ps->burst, now);
	htab_insert(&ps->tab, &s->node);
	return s;
}

void
persource_release(struct persource *ps, const struct addr *k, int64_t now)
{
	struct hnode *n = htab_find(&ps->tab, key_hash(ps, k), key_eq, k);
	struct source *s;

	if (n == NULL)
		return;
	s = htab_entry(n, struct source, node);
	if (s->count > 0)
		s->count--;
	if (holds_nothing(s, now)) {
		htab_remove(&ps->tab, n);
		free(s);
	}
}

struct each {
	void (*fn)(const struct source *, void *);
	void *arg;
};

static void
each_source(struct hnode *n, void *arg)
{
	struct each *e = arg;

	e->fn(htab_entry(n, struct source, node), e->arg);
}

void
persource_each(const struct persource *ps,
    void (*fn)(const struct source *, void *), void *arg)
{
	struct each e = { fn, arg };

	htab_each(&ps->tab, each_source, &e);
}

static void
free_source(struct hnode *n, void *arg)
{
	(void)arg;
	free(htab_entry(n, struct source, node));
}

void
persource_free(struct persource *ps)
{
	htab_each(&ps->tab, free_source, NULL);
	htab_free(&ps->tab);
	memset(ps, 0, sizeof(*ps));
}
