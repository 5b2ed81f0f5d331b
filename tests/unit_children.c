#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "children.h"
#include "testutil.h"

static struct child *
add(struct children *c, pid_t pid)
{
	struct child *ch = children_new(c);

	ck_assert_ptr_nonnull(ch);
	ch->pid = pid;
	ck_assert_int_eq(children_reserve(c), 0);
	children_add(c, ch);
	return ch;
}

START_TEST(add_take_many)
{
	struct children c = { 0 };
	static struct child *rec[6000];
	struct child *ch;

	/* Pids in a clustered range exercise probing and backward shifts. */
	for (pid_t p = 1000; p < 6000; p++)
		rec[p] = add(&c, p);
	ck_assert_uint_eq(c.count, 5000);
	ck_assert_ptr_null(children_take(&c, 999));
	ck_assert_ptr_null(children_find(&c, 6000));
	for (pid_t p = 1000; p < 6000; p += 2) {
		ck_assert_ptr_eq(children_find(&c, p), rec[p]);
		ch = children_take(&c, p);
		ck_assert_ptr_eq(ch, rec[p]);
		ck_assert_int_eq(ch->pid, p);
		ck_assert_ptr_null(children_take(&c, p));
		ck_assert_ptr_null(children_find(&c, p));
		children_release(&c, ch);
	}
	ck_assert_uint_eq(c.count, 2500);
	/* The records that stayed are the same objects, however the table moved. */
	for (pid_t p = 1001; p < 6000; p += 2)
		ck_assert_ptr_eq(children_find(&c, p), rec[p]);
	for (pid_t p = 1001; p < 6000; p += 2) {
		ch = children_take(&c, p);
		ck_assert_ptr_eq(ch, rec[p]);
		children_release(&c, ch);
	}
	ck_assert_uint_eq(c.count, 0);
	children_free(&c);
}
END_TEST

/* Chunks come and go with the records in use; one empty chunk is kept. */
START_TEST(records_released)
{
	struct children c = { 0 };
	static struct child *rec[3000];

	for (int i = 0; i < 3000; i++) {
		rec[i] = children_new(&c);
		ck_assert_ptr_nonnull(rec[i]);
		ck_assert_int_eq(rec[i]->pid, 0);
		rec[i]->pid = i + 1;
	}
	ck_assert_uint_ge(c.nchunks, 3);
	ck_assert_uint_eq(c.nempty, 0);
	for (int i = 0; i < 3000; i++)
		ck_assert_int_eq(rec[i]->pid, i + 1);	/* no two records overlap */
	for (int i = 0; i < 3000; i++)
		children_release(&c, rec[i]);
	ck_assert_uint_eq(c.nchunks, 1);
	ck_assert_uint_eq(c.nempty, 1);
	/* A record given back comes back zeroed. */
	rec[0] = children_new(&c);
	ck_assert_int_eq(rec[0]->pid, 0);
	ck_assert_uint_eq(c.nchunks, 1);
	ck_assert_uint_eq(c.nempty, 0);
	children_free(&c);
	ck_assert_uint_eq(c.nchunks, 0);
	ck_assert_ptr_null(c.slots);
}
END_TEST

/* A forked child does not have the records: touching one kills it. */
START_TEST(records_not_forked)
{
	struct children c = { 0 };
	struct child *ch = add(&c, 4242);
	int status;
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		/* Quiet: a sanitizer build reports the fault and exits 1. */
		(void)!freopen("/dev/null", "w", stderr);
		_exit(*(volatile pid_t *)&ch->pid == 4242 ? 0 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(!WIFEXITED(status) || WEXITSTATUS(status) == 1);
	if (WIFSIGNALED(status))
		ck_assert_int_eq(WTERMSIG(status), SIGSEGV);
	ck_assert_ptr_eq(children_find(&c, 4242), ch);
	children_free(&c);
}
END_TEST

START_TEST(take_from_empty)
{
	struct children c = { 0 };

	ck_assert_ptr_null(children_take(&c, 1));
	ck_assert_ptr_null(children_find(&c, 1));
}
END_TEST

Suite *
children_suite(void)
{
	Suite *s = suite_create("children");

	tu_tcase(s, "table", NULL, NULL, 0, add_take_many, take_from_empty,
	    records_released, records_not_forked, NULL);
	return s;
}
