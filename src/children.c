#include <stdlib.h>

#include "children.h"

/*
 * Open addressing with linear probing, kept at most half full, so adding,
 * finding and removing a child cost the same with 5 or 5,000 alive.
 */
#define CHILDREN_MIN 64

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
	if ((c->slots = calloc(cap, sizeof(*c->slots))) == NULL) {
		c->slots = old;
		return -1;
	}
	c->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i] != NULL)
			insert(c, old[i]);
	free(old);
	return 0;
}

void
children_add(struct children *c, struct child *ch)
{
	insert(c, ch);
	c->count++;
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
	free(c->slots);
	c->slots = NULL;
	c->cap = c->count = 0;
}
