/*
 * A token bucket. The functions are pure: the caller passes the time, in
 * milliseconds of any monotonic clock (the master's is loop_now_ms()), so
 * tests can drive it.
 */
#ifndef SOCKD_RATELIMIT_H
#define SOCKD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct bucket {
	int64_t milli;		/* tokens available, in thousandths */
	int64_t last;		/* when milli was last brought up to date */
	unsigned rate;		/* tokens per second; 0: unlimited */
	unsigned burst;		/* capacity in tokens */
};

void ratelimit_init(struct bucket *, unsigned rate, unsigned burst, int64_t now);
/* Takes a token if one is available. */
bool ratelimit_take(struct bucket *, int64_t now);
/* Milliseconds until a token is available (0: now). */
int64_t ratelimit_wait(struct bucket *, int64_t now);
/* Whether the bucket is full, that is forgets nothing if dropped. */
bool ratelimit_full(struct bucket *, int64_t now);

#endif
