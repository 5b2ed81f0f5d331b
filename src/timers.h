/*
 * Deadlines the master acts on (handler lifetimes): a binary min-heap, so
 * adding one and finding the next cost O(log n) whatever the number alive.
 * Entries are never cancelled; whoever pops one checks it still applies.
 */
#ifndef SOCKD_TIMERS_H
#define SOCKD_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct timer {
	int64_t when;		/* ms, ratelimit_now() clock */
	pid_t pid;
	int what;
};

struct timers {
	struct timer *v;
	size_t n, cap;
};

int timers_add(struct timers *, int64_t when, pid_t, int what);
/* The earliest entry, or NULL. */
const struct timer *timers_peek(const struct timers *);
void timers_pop(struct timers *);
void timers_free(struct timers *);

#endif
