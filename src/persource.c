/*
 * Per-client state of a service (live children, the source_rate
 * bucket), keyed by address or IPv6 prefix in a chained hash table that
 * grows with its load; entries that hold nothing are swept first.
 */
#include <stdlib.h>
#include <string.h>

#include "persource.h"

#define PERSOURCE_MIN 64

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

static size_t
hash(const struct persource *ps, const struct addr *k)
{
	const uint8_t *p = (const uint8_t *)&k->u;
	size_t len = k->family == AF_INET ? 4 : 16;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h & (ps->nheads - 1);
}

static struct source **
lookup(struct persource *ps, const struct addr *k)
{
	struct source **pp = &ps->heads[hash(ps, k)];

	while (*pp && !addr_equal(&(*pp)->key, k))
		pp = &(*pp)->next;
	return pp;
}

/* Drops entries that hold nothing; run when the table would grow. */
static void
sweep(struct persource *ps, int64_t now)
{
	for (size_t i = 0; i < ps->nheads; i++)
		for (struct source **pp = &ps->heads[i]; *pp;) {
			struct source *s = *pp;
			if (s->count == 0 && ratelimit_full(&s->bucket, now)) {
				*pp = s->next;
				free(s);
				ps->n--;
			} else
				pp = &s->next;
		}
}

static int
grow(struct persource *ps)
{
	size_t n = ps->nheads ? ps->nheads * 2 : PERSOURCE_MIN;
	struct source **heads = calloc(n, sizeof(*heads)), **old = ps->heads;
	size_t oldn = ps->nheads;

	if (heads == NULL)
		return -1;
	ps->heads = heads;
	ps->nheads = n;
	for (size_t i = 0; i < oldn; i++)
		for (struct source *s = old[i], *next; s; s = next) {
			struct source **pp = &heads[hash(ps, &s->key)];
			next = s->next;
			s->next = *pp;
			*pp = s;
		}
	free(old);
	return 0;
}

struct source *
persource_get(struct persource *ps, const struct addr *k, int64_t now)
{
	struct source **pp, *s;

	if (ps->nheads && *(pp = lookup(ps, k)) != NULL)
		return *pp;
	if (ps->n >= ps->nheads) {
		sweep(ps, now);
		if (ps->n >= ps->nheads && grow(ps) == -1)
			return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->key = *k;
	ratelimit_init(&s->bucket, ps->rate, ps->burst, now);
	pp = lookup(ps, k);
	*pp = s;
	ps->n++;
	return s;
}

void
persource_release(struct persource *ps, const struct addr *k, int64_t now)
{
	struct source **pp, *s;

	if (ps->nheads == 0 || (s = *(pp = lookup(ps, k))) == NULL)
		return;
	if (s->count > 0)
		s->count--;
	if (s->count == 0 && ratelimit_full(&s->bucket, now)) {
		*pp = s->next;
		free(s);
		ps->n--;
	}
}

void
persource_free(struct persource *ps)
{
	for (size_t i = 0; i < ps->nheads; i++)
		for (struct source *s = ps->heads[i], *next; s; s = next) {
			next = s->next;
			free(s);
		}
	free(ps->heads);
	memset(ps, 0, sizeof(*ps));
}
