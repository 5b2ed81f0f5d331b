/*
 * A bitmap of the ids in use, searched next-fit from the last id given:
 * an id just given back is thus the last to be given again, so that
 * whatever a connection left behind with its id (a file in a writable
 * bind) meets a new owner as late as the range allows.
 */
#include <errno.h>
#include <stdlib.h>

#include "idpool.h"

#define WORD 64

int
idpool_init(struct idpool *p, uid_t first, uid_t last)
{
	size_t n;

	*p = (struct idpool){ 0 };
	if (first == 0 || last < first)
		return errno = EINVAL, -1;
	n = ((size_t)(last - first) + WORD) / WORD;
	if ((p->bits = calloc(n, sizeof(*p->bits))) == NULL)
		return -1;
	p->first = p->next = first;
	p->last = last;
	return 0;
}

void
idpool_free(struct idpool *p)
{
	free(p->bits);
	*p = (struct idpool){ 0 };
}

static bool
used(const struct idpool *p, uid_t id)
{
	size_t i = id - p->first;

	return p->bits[i / WORD] & (1ULL << (i % WORD));
}

static void
set(struct idpool *p, uid_t id, bool on)
{
	size_t i = id - p->first;

	if (on)
		p->bits[i / WORD] |= 1ULL << (i % WORD);
	else
		p->bits[i / WORD] &= ~(1ULL << (i % WORD));
}

uid_t
idpool_get(struct idpool *p)
{
	uint64_t size;
	uid_t id = p->next;

	if (p->bits == NULL)
		return 0;
	size = (uint64_t)(p->last - p->first) + 1;
	if (p->used >= size)
		return 0;
	/* Whole words in use are skipped; at most size + WORD steps. */
	while (used(p, id)) {
		size_t i = id - p->first;
		if ((i % WORD) == 0 && p->bits[i / WORD] == ~0ULL &&
		    (uint64_t)(p->last - id) >= WORD)
			id += WORD;
		else
			id = id == p->last ? p->first : id + 1;
	}
	set(p, id, true);
	p->used++;
	p->next = id == p->last ? p->first : id + 1;
	return id;
}

void
idpool_put(struct idpool *p, uid_t id)
{
	if (p->bits == NULL || id < p->first || id > p->last || !used(p, id))
		return;
	set(p, id, false);
	p->used--;
}

bool
idpool_take(struct idpool *p, uid_t id)
{
	if (p->bits == NULL || id < p->first || id > p->last || used(p, id))
		return false;
	set(p, id, true);
	p->used++;
	return true;
}
