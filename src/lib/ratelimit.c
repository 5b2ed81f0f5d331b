/*
 * Token buckets for rate and source_rate, in thousandths of a token,
 * on the time the caller passes, so tests drive them with a fake clock.
 */

#include "ratelimit.h"

void
ratelimit_init(struct bucket *b, unsigned rate, unsigned burst, int64_t now)
{
	b->rate = rate;
	b->burst = burst ? burst : rate;
	b->milli = (int64_t)b->burst * 1000;
	b->last = now;
}

static void
refill(struct bucket *b, int64_t now)
{
	int64_t cap = (int64_t)b->burst * 1000;

	if (now > b->last) {
		b->milli += (now - b->last) * b->rate;
		if (b->milli > cap)
			b->milli = cap;
	}
	b->last = now;
}

bool
ratelimit_take(struct bucket *b, int64_t now)
{
	if (b->rate == 0)
		return true;
	refill(b, now);
	if (b->milli < 1000)
		return false;
	b->milli -= 1000;
	return true;
}

int64_t
ratelimit_wait(struct bucket *b, int64_t now)
{
	if (b->rate == 0)
		return 0;
	refill(b, now);
	if (b->milli >= 1000)
		return 0;
	return (1000 - b->milli + b->rate - 1) / b->rate;
}

bool
ratelimit_full(struct bucket *b, int64_t now)
{
	if (b->rate == 0)
		return true;
	refill(b, now);
	return b->milli >= (int64_t)b->burst * 1000;
}
