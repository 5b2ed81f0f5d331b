/*
 * The chained hash table of persource.c and udppeer.c: heads a power of
 * two, at most one node per head on average, FNV-1a hashes kept in the
 * nodes, keyed per table and finished with MurmurHash3's mix.
 */
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "htab.h"

#define HTAB_MIN 64

/*
 * A table's seed: the process's random one, drawn once, and the count of
 * the tables seeded before it times an odd number, so that no two share
 * one. Without getrandom() (a kernel before 3.17, or entropy not ready
 * at boot) the clock, the pid and the table's address stand in.
 */
static uint32_t
table_seed(const struct htab *t)
{
	static uint64_t base;
	static uint32_t tables;
	static bool drawn;

	if (!drawn) {
		if (getrandom(&base, sizeof(base), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(base)) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			base = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^
			    (uint64_t)ts.tv_sec ^ (uint64_t)getpid() << 32 ^
			    (uint64_t)(uintptr_t)t;
		}
		drawn = true;
	}
	return (uint32_t)(base ^ base >> 32) ^ ++tables * 0x9e3779b9u;
}

uint32_t
htab_hash(struct htab *t, const void *key, size_t len)
{
	const uint8_t *p = key;
	uint32_t h;

	if (!t->seeded) {
		t->seed = table_seed(t);
		t->seeded = true;
	}
	h = 2166136261u ^ t->seed;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	/* The low bits of FNV's state depend on the low bits of each byte
	 * alone, whatever the seed: 10.0.0.1 and 10.0.0.65 would share a
	 * head of 64 in every table. MurmurHash3's finalizer (a bijection)
	 * makes every bit of the index depend on every bit of the state. */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

struct hnode **
htab_link(struct htab *t, uint32_t h,
    bool (*eq)(const struct hnode *, const void *), const void *key)
{
	struct hnode **pp = &t->heads[h & (t->nheads - 1)];

	while (*pp && ((*pp)->hash != h || !eq(*pp, key)))
		pp = &(*pp)->next;
	return pp;
}

struct hnode *
htab_find(const struct htab *t, uint32_t h,
    bool (*eq)(const struct hnode *, const void *), const void *key)
{
	if (t->nheads == 0)
		return NULL;
	return *htab_link((struct htab *)t, h, eq, key);
}

int
htab_reserve(struct htab *t)
{
	size_t n, oldn = t->nheads;
	struct hnode **heads, **old = t->heads;

	if (t->n < t->nheads)
		return 0;
	n = oldn ? oldn * 2 : HTAB_MIN;
	if ((heads = calloc(n, sizeof(*heads))) == NULL)
		return -1;
	for (size_t i = 0; i < oldn; i++)
		for (struct hnode *p = old[i], *next; p; p = next) {
			struct hnode **pp = &heads[p->hash & (n - 1)];
			next = p->next;
			p->next = *pp;
			*pp = p;
		}
	free(old);
	t->heads = heads;
	t->nheads = n;
	return 0;
}

void
htab_insert(struct htab *t, struct hnode *n)
{
	struct hnode **pp = &t->heads[n->hash & (t->nheads - 1)];

	n->next = *pp;
	*pp = n;
	t->n++;
}

void
htab_remove(struct htab *t, struct hnode *n)
{
	if (t->nheads == 0)
		return;
	for (struct hnode **pp = &t->heads[n->hash & (t->nheads - 1)]; *pp;
	    pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			t->n--;
			return;
		}
}

void
htab_each(const struct htab *t, void (*fn)(struct hnode *, void *), void *arg)
{
	for (size_t i = 0; i < t->nheads; i++)
		for (struct hnode *p = t->heads[i], *next; p; p = next) {
			next = p->next;
			fn(p, arg);
		}
}

void
htab_sweep(struct htab *t, bool (*drop)(struct hnode *, void *), void *arg)
{
	for (size_t i = 0; i < t->nheads; i++)
		for (struct hnode **pp = &t->heads[i]; *pp;) {
			struct hnode *p = *pp, *next = p->next;
			if (drop(p, arg)) {	/* which may free p */
				*pp = next;
				t->n--;
			} else
				pp = &p->next;
		}
}

void
htab_free(struct htab *t)
{
	free(t->heads);
	*t = (struct htab){ 0 };
}
