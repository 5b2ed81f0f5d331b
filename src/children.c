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
insert(struct children *c, const struct child *ch)
{
	size_t i = slot_of(c, ch->pid);

	while (c->slots[i].pid != 0)
		i = (i + 1) & (c->cap - 1);
	c->slots[i] = *ch;
}

static int
grow(struct children *c)
{
	struct child *old = c->slots;
	size_t oldcap = c->cap, cap = oldcap ? oldcap * 2 : CHILDREN_MIN;

	if ((c->slots = calloc(cap, sizeof(*c->slots))) == NULL) {
		c->slots = old;
		return -1;
	}
	c->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].pid != 0)
			insert(c, &old[i]);
	free(old);
	return 0;
}

int
children_add(struct children *c, pid_t pid, struct service *svc)
{
	struct child ch = { .pid = pid, .svc = svc };

	if ((c->count + 1) * 2 > c->cap && grow(c) == -1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ch.started);
	insert(c, &ch);
	c->count++;
	return 0;
}

struct child *
children_find(struct children *c, pid_t pid)
{
	if (c->cap == 0)
		return NULL;
	for (size_t i = slot_of(c, pid); ; i = (i + 1) & (c->cap - 1)) {
		if (c->slots[i].pid == pid)
			return &c->slots[i];
		if (c->slots[i].pid == 0)
			return NULL;
	}
}

/* Removes pid, copying its record out; false when it is not ours. */
bool
children_take(struct children *c, pid_t pid, struct child *out)
{
	size_t i, j;

	if (c->cap == 0)
		return false;
	for (i = slot_of(c, pid); c->slots[i].pid != pid; i = (i + 1) & (c->cap - 1))
		if (c->slots[i].pid == 0)
			return false;
	*out = c->slots[i];
	/* Backward-shift deletion keeps every probe chain unbroken. */
	for (j = (i + 1) & (c->cap - 1); c->slots[j].pid != 0;
	    j = (j + 1) & (c->cap - 1)) {
		size_t home = slot_of(c, c->slots[j].pid);
		if (((j - home) & (c->cap - 1)) >= ((j - i) & (c->cap - 1))) {
			c->slots[i] = c->slots[j];
			i = j;
		}
	}
	c->slots[i].pid = 0;
	c->count--;
	return true;
}

void
children_free(struct children *c)
{
	free(c->slots);
	c->slots = NULL;
	c->cap = c->count = 0;
}
