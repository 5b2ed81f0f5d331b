/*
 * The checking child: its output read up to a bound, its status, killed
 * at the end if it hangs, and waited for by pidfd even when a waitpid(-1)
 * elsewhere took it first.
 */
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkchild.h"
#include "testutil.h"

static void __attribute__((noreturn))
says(void *arg, int out)
{
	const char *text = arg;

	(void)!write(out, text, strlen(text));
	_exit(3);
}

static void __attribute__((noreturn))
hangs(void *arg, int out)
{
	(void)arg;
	(void)!write(out, "x", 1);
	for (;;)
		pause();
}

/* Reads until the child closes its output or ms pass. */
static int
read_all(struct checkchild *c, int ms)
{
	long until = tu_now_ms() + ms;
	int r;

	while ((r = checkchild_read(c)) == 0 && tu_now_ms() < until) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		(void)poll(&p, 1, 50);
	}
	return r;
}

START_TEST(output_and_status)
{
	struct checkchild c;
	int status;

	ck_assert_int_eq(checkchild_start(&c, 64, says, "hello\n"), 0);
	ck_assert_int_eq(read_all(&c, 5000), 1);
	ck_assert_str_eq(c.out, "hello\n");
	status = checkchild_end(&c);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	checkchild_free(&c);
}
END_TEST

START_TEST(output_is_bounded)
{
	struct checkchild c;

	ck_assert_int_eq(checkchild_start(&c, 4, says, "0123456789"), 0);
	ck_assert_int_eq(read_all(&c, 5000), 1);
	ck_assert(c.overflow);
	ck_assert_str_eq(c.out, "0123");
	(void)checkchild_end(&c);
	checkchild_free(&c);
}
END_TEST

/* A child past its time is killed by the end, not left behind. */
START_TEST(hanging_child_is_killed)
{
	struct checkchild c;
	int status;

	ck_assert_int_eq(checkchild_start(&c, 64, hangs, NULL), 0);
	ck_assert_int_eq(read_all(&c, 200), 0);
	status = checkchild_end(&c);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	checkchild_free(&c);
}
END_TEST

/* The master's waitpid(-1) took it first: the end neither blocks nor
 * waits for whatever process has its pid now. */
START_TEST(reaped_elsewhere)
{
	struct checkchild c;
	int status;

	ck_assert_int_eq(checkchild_start(&c, 64, says, "bye"), 0);
	ck_assert_int_eq(read_all(&c, 5000), 1);
	ck_assert_int_eq(waitpid(-1, &status, 0), c.pid);
	ck_assert_int_eq(checkchild_end(&c), -1);
	ck_assert_int_eq(c.pid, -1);
	checkchild_free(&c);
}
END_TEST

Suite *
checkchild_suite(void)
{
	Suite *s = suite_create("checkchild");

	tu_tcase(s, "checkchild", NULL, NULL, 10, output_and_status,
	    output_is_bounded, hanging_child_is_killed, reaped_elsewhere, NULL);
	return s;
}
