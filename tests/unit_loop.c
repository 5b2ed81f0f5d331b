/*
 * The loop's timer heap, on the real clock with delays of 0-20 ms: timers
 * fire in deadline order, re-arming moves a timer, stopping is safe from
 * any callback, and the heap stays a heap through hundreds of changes.
 * Deferred work runs once, after every callback of its batch (pipes made
 * readable are the events), and at once outside a batch.
 */
#include <stdlib.h>
#include <unistd.h>

#include "loop.h"
#include "testutil.h"

#define MAXT 600

struct rec {
	struct timer t;
	int id;
	int fired;		/* times */
	uint64_t at;		/* loop_now_ms() when it last fired */
	struct timer *stop;	/* stopped by this one's callback, if set */
	int rearm;		/* re-arms itself this many more times */
};

static struct loop lp;
static int order[MAXT * 8];
static size_t norder;

static void
on_timer(struct timer *t)
{
	struct rec *r = t->arg;

	ck_assert(!loop_timer_armed(t));	/* disarmed before its callback */
	r->fired++;
	r->at = loop_now_ms();
	ck_assert_uint_ge(r->at, t->when);	/* never early */
	ck_assert_uint_lt(norder, sizeof(order) / sizeof(order[0]));
	order[norder++] = r->id;
	if (r->stop)
		loop_timer_stop(&lp, r->stop);
	if (r->rearm > 0) {
		r->rearm--;
		ck_assert_int_eq(loop_timer_set(&lp, t, 1), 0);
		ck_assert(loop_timer_armed(t));
	}
}

static void
rec_init(struct rec *r, int id)
{
	*r = (struct rec){ .t = { .fn = on_timer, .arg = r }, .id = id };
}

/* White box, through the fields loop.h shows: a min-heap whose slots are
 * right. One assertion for the whole heap: Check's are costly enough that
 * one per slot, after every change of the churn below, took more than the
 * case's timeout on a loaded machine. */
static void
heap_check(const struct loop *l)
{
	size_t i;

	for (i = 0; i < l->ntimers; i++)
		if (l->heap[i]->slot != i + 1 ||
		    (i > 0 && l->heap[(i - 1) / 2]->when > l->heap[i]->when))
			break;
	ck_assert_msg(i == l->ntimers, "heap slot %zu of %zu is wrong", i + 1,
	    l->ntimers);
}

/* Runs the loop until no timer is armed; fails after 2 s. */
static void
run_all(void)
{
	uint64_t end = loop_now_ms() + 2000;

	while (lp.ntimers > 0) {
		ck_assert_int_ge(loop_once(&lp), 0);
		heap_check(&lp);
		ck_assert_uint_lt(loop_now_ms(), end);
	}
}

/* Deferred work and the watches whose callbacks queue it. */
static struct deferred dfr;
static int dfr_runs, dfr_seen;	/* callbacks run before it last ran */
static int cb_runs;

static void
on_deferred(struct deferred *d)
{
	ck_assert_ptr_eq(d->arg, &dfr);
	dfr_runs++;
	dfr_seen = cb_runs;
}

static void
on_readable(struct watch *w)
{
	char c;

	ck_assert_int_eq(read(w->fd, &c, 1), 1);
	cb_runs++;
	loop_defer(&lp, &dfr);
}

static void
setup(void)
{
	ck_assert_int_eq(loop_init(&lp), 0);
	norder = 0;
	srandom(20261201);
}

static void
teardown(void)
{
	loop_free(&lp);
}

/* The deadlines of the fired timers, in firing order, never go down. */
static void
check_order(struct rec *recs)
{
	for (size_t i = 1; i < norder; i++)
		ck_assert_uint_le(recs[order[i - 1]].t.when, recs[order[i]].t.when);
}

START_TEST(random_order_fires_by_deadline)
{
	static struct rec recs[64];

	for (int i = 0; i < 64; i++) {
		rec_init(&recs[i], i);
		ck_assert_int_eq(loop_timer_set(&lp, &recs[i].t, random() % 21), 0);
		heap_check(&lp);
	}
	ck_assert_uint_eq(lp.ntimers, 64);
	run_all();
	ck_assert_uint_eq(norder, 64);
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(recs[i].fired, 1);
	check_order(recs);
}
END_TEST

START_TEST(rearm_moves)
{
	static struct rec recs[3];

	for (int i = 0; i < 3; i++)
		rec_init(&recs[i], i);
	ck_assert_int_eq(loop_timer_set(&lp, &recs[0].t, 20), 0);
	ck_assert_int_eq(loop_timer_set(&lp, &recs[1].t, 10), 0);
	ck_assert_int_eq(loop_timer_set(&lp, &recs[2].t, 15), 0);
	/* Earlier, and later: each still in the heap once. */
	ck_assert_int_eq(loop_timer_set(&lp, &recs[0].t, 0), 0);
	ck_assert_int_eq(loop_timer_set(&lp, &recs[1].t, 20), 0);
	ck_assert_int_eq(loop_timer_set(&lp, &recs[1].t, 20), 0);
	ck_assert_uint_eq(lp.ntimers, 3);
	heap_check(&lp);
	run_all();
	ck_assert_uint_eq(norder, 3);
	ck_assert_int_eq(order[0], 0);
	ck_assert_int_eq(order[1], 2);
	ck_assert_int_eq(order[2], 1);
	check_order(recs);
}
END_TEST

START_TEST(stop_from_another_callback)
{
	static struct rec recs[8];

	for (int i = 0; i < 8; i++)
		rec_init(&recs[i], i);
	/*
	 * 0 stops 3 and 1 stops 5, each due after its stopper; however late
	 * the loop gets to them, the stopper comes first. 7, the last, shows
	 * the loop ran past their deadlines.
	 */
	recs[0].stop = &recs[3].t;
	ck_assert_int_eq(loop_timer_set(&lp, &recs[0].t, 0), 0);
	for (int i = 1; i < 7; i++)
		ck_assert_int_eq(loop_timer_set(&lp, &recs[i].t, i), 0);
	ck_assert_int_eq(loop_timer_set(&lp, &recs[7].t, 15), 0);
	recs[1].stop = &recs[5].t;
	run_all();
	ck_assert_int_eq(recs[3].fired, 0);
	ck_assert_int_eq(recs[5].fired, 0);
	ck_assert(!loop_timer_armed(&recs[3].t));
	ck_assert(!loop_timer_armed(&recs[5].t));
	ck_assert_uint_eq(norder, 6);
	ck_assert_int_eq(recs[7].fired, 1);
	check_order(recs);
}
END_TEST

START_TEST(stop_unarmed_is_harmless)
{
	static struct rec recs[4];

	for (int i = 0; i < 4; i++)
		rec_init(&recs[i], i);
	loop_timer_stop(&lp, &recs[0].t);	/* never armed, empty heap */
	ck_assert_uint_eq(lp.ntimers, 0);
	ck_assert_int_eq(loop_timer_set(&lp, &recs[1].t, 2), 0);
	ck_assert_int_eq(loop_timer_set(&lp, &recs[2].t, 1), 0);
	loop_timer_stop(&lp, &recs[0].t);	/* never armed, full heap */
	ck_assert_int_eq(loop_timer_set(&lp, &recs[3].t, 0), 0);
	loop_timer_stop(&lp, &recs[3].t);
	loop_timer_stop(&lp, &recs[3].t);	/* stopped twice */
	ck_assert_uint_eq(lp.ntimers, 2);
	heap_check(&lp);
	run_all();
	loop_timer_stop(&lp, &recs[1].t);	/* already fired */
	ck_assert_uint_eq(norder, 2);
	ck_assert_int_eq(order[0], 2);
	ck_assert_int_eq(order[1], 1);
	ck_assert_int_eq(recs[0].fired + recs[3].fired, 0);
}
END_TEST

START_TEST(rearm_from_own_callback)
{
	static struct rec recs[2];

	rec_init(&recs[0], 0);
	rec_init(&recs[1], 1);
	recs[0].rearm = 4;
	ck_assert_int_eq(loop_timer_set(&lp, &recs[0].t, 0), 0);
	ck_assert_int_eq(loop_timer_set(&lp, &recs[1].t, 20), 0);
	run_all();
	ck_assert_int_eq(recs[0].fired, 5);
	ck_assert_int_eq(recs[1].fired, 1);
	ck_assert(!loop_timer_armed(&recs[0].t));
	ck_assert_uint_eq(norder, 6);
}
END_TEST

static int
by_when(const void *a, const void *b)
{
	const struct rec *x = *(struct rec *const *)a, *y = *(struct rec *const *)b;

	return x->t.when < y->t.when ? -1 : x->t.when > y->t.when;
}

START_TEST(hundreds_match_sorted_reference)
{
	static struct rec recs[MAXT];
	static struct rec *ref[MAXT];
	size_t nref = 0;

	for (int i = 0; i < MAXT; i++) {
		rec_init(&recs[i], i);
		ck_assert_int_eq(loop_timer_set(&lp, &recs[i].t, random() % 21), 0);
	}
	/* Churn: re-arm, stop, re-arm after stop, in random order. */
	for (int k = 0; k < 3 * MAXT; k++) {
		struct rec *r = &recs[random() % MAXT];
		if (random() % 3 == 0)
			loop_timer_stop(&lp, &r->t);
		else
			ck_assert_int_eq(loop_timer_set(&lp, &r->t, random() % 21), 0);
		heap_check(&lp);
	}
	for (int i = 0; i < MAXT; i++)
		if (loop_timer_armed(&recs[i].t))
			ref[nref++] = &recs[i];
	ck_assert_uint_eq(lp.ntimers, nref);
	ck_assert_uint_gt(nref, MAXT / 2);
	qsort(ref, nref, sizeof(ref[0]), by_when);
	run_all();
	ck_assert_uint_eq(norder, nref);
	/* Ties may fire in any order; the deadlines must match the sorted ones. */
	for (size_t i = 0; i < nref; i++) {
		ck_assert_uint_eq(recs[order[i]].t.when, ref[i]->t.when);
		ck_assert_int_eq(recs[order[i]].fired, 1);
	}
	for (size_t i = 0; i < nref; i++)
		ck_assert_int_eq(ref[i]->fired, 1);
}
END_TEST

START_TEST(deferred_runs_once_after_the_batch)
{
	int p[3][2];
	struct watch w[3];

	dfr = (struct deferred){ .fn = on_deferred, .arg = &dfr };
	dfr_runs = cb_runs = 0;
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(pipe(p[i]), 0);
		w[i] = (struct watch){ .fd = p[i][0], .fn = on_readable };
		ck_assert_int_eq(loop_enable(&lp, &w[i], true), 0);
		ck_assert_int_eq(write(p[i][1], "x", 1), 1);
	}
	/* All three are readable: one batch, three callbacks, one run. */
	ck_assert_int_eq(loop_once(&lp), 3);
	ck_assert_int_eq(cb_runs, 3);
	ck_assert_int_eq(dfr_runs, 1);
	ck_assert_int_eq(dfr_seen, 3);
	ck_assert(!dfr.queued);
	/* Outside a batch it runs at once; a cancelled one does not run. */
	loop_defer(&lp, &dfr);
	ck_assert_int_eq(dfr_runs, 2);
	ck_assert_int_eq(write(p[0][1], "x", 1), 1);
	lp.batch = (struct epoll_event *)&dfr;	/* as inside a callback */
	loop_defer(&lp, &dfr);
	ck_assert(dfr.queued);
	loop_defer_cancel(&lp, &dfr);
	ck_assert(!dfr.queued);
	ck_assert_ptr_null(lp.deferred);
	lp.batch = NULL;
	ck_assert_int_eq(loop_once(&lp), 1);	/* queues it again: runs */
	ck_assert_int_eq(dfr_runs, 3);
	for (int i = 0; i < 3; i++) {
		loop_remove(&lp, &w[i]);
		close(p[i][0]);
		close(p[i][1]);
	}
}
END_TEST

/* A callback that ends the image (upgrade.c's exec) after work deferred. */
static void
on_exec(struct watch *w)
{
	on_readable(w);
	ck_assert_int_eq(dfr_runs, 0);
	loop_run_deferred(&lp);
	ck_assert_int_eq(dfr_runs, 1);
}

START_TEST(deferred_runs_before_an_exec)
{
	int p[2];
	struct watch w;

	dfr = (struct deferred){ .fn = on_deferred, .arg = &dfr };
	dfr_runs = cb_runs = 0;
	ck_assert_int_eq(pipe(p), 0);
	w = (struct watch){ .fd = p[0], .fn = on_exec };
	ck_assert_int_eq(loop_enable(&lp, &w, true), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(loop_once(&lp), 1);
	/* Run once, in the callback; not again at the batch's end. */
	ck_assert_int_eq(dfr_runs, 1);
	ck_assert(!dfr.queued);
	loop_remove(&lp, &w);
	close(p[0]);
	close(p[1]);
}
END_TEST

Suite *
loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("timers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, random_order_fires_by_deadline);
	tcase_add_test(tc, rearm_moves);
	tcase_add_test(tc, stop_from_another_callback);
	tcase_add_test(tc, stop_unarmed_is_harmless);
	tcase_add_test(tc, rearm_from_own_callback);
	tcase_add_test(tc, hundreds_match_sorted_reference);
	tcase_add_test(tc, deferred_runs_once_after_the_batch);
	tcase_add_test(tc, deferred_runs_before_an_exec);
	suite_add_tcase(s, tc);
	return s;
}
