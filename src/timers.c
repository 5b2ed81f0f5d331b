#include <stdlib.h>

#include "timers.h"

static void
swap(struct timer *a, struct timer *b)
{
	struct timer t = *a;

	*a = *b;
	*b = t;
}

int
timers_add(struct timers *t, int64_t when, pid_t pid, int what)
{
	size_t i;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct timer *v = realloc(t->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	i = t->n++;
	t->v[i] = (struct timer){ .when = when, .pid = pid, .what = what };
	for (; i > 0 && t->v[(i - 1) / 2].when > t->v[i].when; i = (i - 1) / 2)
		swap(&t->v[(i - 1) / 2], &t->v[i]);
	return 0;
}

const struct timer *
timers_peek(const struct timers *t)
{
	return t->n ? &t->v[0] : NULL;
}

void
timers_pop(struct timers *t)
{
	size_t i = 0;

	if (t->n == 0)
		return;
	t->v[0] = t->v[--t->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->n && t->v[l].when < t->v[m].when)
			m = l;
		if (r < t->n && t->v[r].when < t->v[m].when)
			m = r;
		if (m == i)
			break;
		swap(&t->v[i], &t->v[m]);
		i = m;
	}
}

void
timers_free(struct timers *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}
