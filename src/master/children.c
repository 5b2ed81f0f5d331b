/*
 * The master's table of live children: an open-addressing hash from pid
 * to record, and the records carved from chunks of unforked memory so
 * that a fork never copies them.
 */
#include <string.h>

#include "children.h"
#include "unforked.h"

#define CHUNK_BYTES ((size_t)64 << 10)

struct chunk {
	struct chunk *next;
	struct child *free;	/* linked by next_free */
	size_t used;
	struct child rec[];
};

#define CHUNK_RECORDS ((CHUNK_BYTES - sizeof(struct chunk)) / sizeof(struct child))

static struct chunk *
chunk_new(struct children *c)
{
	struct chunk *k = unforked_alloc(CHUNK_BYTES);

	if (k == NULL)
		return NULL;
	/* Linked last first, so records are handed out in address order. */
	for (size_t i = CHUNK_RECORDS; i-- > 0;) {
		k->rec[i].next_free = k->free;
		k->free = &k->rec[i];
	}
	k->next = c->chunks;
	c->chunks = k;
	c->nchunks++;
	c->nempty++;
	return k;
}

struct child *
children_new(struct children *c)
{
	struct chunk *k;
	struct child *ch;

	for (k = c->chunks; k != NULL && k->free == NULL; k = k->next)
		;
	if (k == NULL && (k = chunk_new(c)) == NULL)
		return NULL;
	ch = k->free;
	k->free = ch->next_free;
	if (k->used++ == 0)
		c->nempty--;
	memset(ch, 0, sizeof(*ch));
	ch->chunk = k;
	return ch;
}

/* One empty chunk is kept, so a count going to and fro does not map and
 * unmap at every step. */
void
children_release(struct children *c, struct child *ch)
{
	struct chunk *k = ch->chunk, **pp;

	ch->next_free = k->free;
	k->free = ch;
	if (--k->used > 0 || c->nempty++ == 0)
		return;
	for (pp = &c->chunks; *pp != k; pp = &(*pp)->next)
		;
	*pp = k->next;
	unforked_free(k, CHUNK_BYTES);
	c->nchunks--;
	c->nempty--;
}

/*
 * Open addressing with linear probing, kept at most half full, so adding,
 * finding and removing a child cost the same with 5 or 5,000 alive.
 */
#define CHILDREN_MIN (4096 / sizeof(struct child *))	/* one page */

static size_t
slot_of(const struct children *c, pid_t pid)
{
	return ((size_t)pid * 2654435761u) & (c->cap - 1);
}

static void
insert(struct children *c, struct child *ch)
{
	size_t i = slot_of(c, ch->pid);

	while (c->slots[i] != NULL)
		i = (i + 1) & (c->cap - 1);
	c->slots[i] = ch;
}

int
children_reserve(struct children *c)
{
	struct child **old = c->slots;
	size_t oldcap = c->cap, cap = oldcap ? oldcap * 2 : CHILDREN_MIN;

	if ((c->count + 1) * 2 <= c->cap)
		return 0;
	/* Fresh anonymous pages are zero: every slot starts free. */
	if ((c->slots = unforked_alloc(cap * sizeof(*c->slots))) == NULL) {
		c->slots = old;
		return -1;
	}
	c->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i] != NULL)
			insert(c, old[i]);
	unforked_free(old, oldcap * sizeof(*old));
	return 0;
}

void
children_add(struct children *c, struct child *ch)
{
	insert(c, ch);
	c->count++;
}

void
children_hold(struct children *c)
{
	c->count++;
}

void
children_place(struct children *c, struct child *ch)
{
	insert(c, ch);
}

void
children_unhold(struct children *c)
{
	c->count--;
}

struct child *
children_find(const struct children *c, pid_t pid)
{
	if (c->cap == 0)
		return NULL;
	for (size_t i = slot_of(c, pid); c->slots[i] != NULL; i = (i + 1) & (c->cap - 1))
		if (c->slots[i]->pid == pid)
			return c->slots[i];
	return NULL;
}

struct child *
children_take(struct children *c, pid_t pid)
{
	struct child *ch;
	size_t i, j;

	if (c->cap == 0)
		return NULL;
	for (i = slot_of(c, pid); c->slots[i] == NULL || c->slots[i]->pid != pid;
	    i = (i + 1) & (c->cap - 1))
		if (c->slots[i] == NULL)
			return NULL;
	ch = c->slots[i];
	/* Backward-shift deletion keeps every probe chain unbroken. */
	for (j = (i + 1) & (c->cap - 1); c->slots[j] != NULL; j = (j + 1) & (c->cap - 1)) {
		size_t home = slot_of(c, c->slots[j]->pid);
		if (((j - home) & (c->cap - 1)) >= ((j - i) & (c->cap - 1))) {
			c->slots[i] = c->slots[j];
			i = j;
		}
	}
	c->slots[i] = NULL;
	c->count--;
	return ch;
}

void
children_free(struct children *c)
{
	struct chunk *k;

	unforked_free(c->slots, c->cap * sizeof(*c->slots));
	while ((k = c->chunks) != NULL) {
		c->chunks = k->next;
		unforked_free(k, CHUNK_BYTES);
	}
	*c = (struct children){ 0 };
}
