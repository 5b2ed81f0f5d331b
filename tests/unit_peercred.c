/*
 * A UNIX peer's admission by user and group, on a real socket pair whose
 * other end is this process: its uid, its gid, and a supplementary group
 * of its own (SO_PEERGROUPS), in only_* and no_* lists; no_* wins.
 */
#include <grp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "peercred.h"
#include "testutil.h"

static int sv[2];
static struct ucred cred;

static void
setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(peercred_get(sv[0], &cred), 0);
}

static void
teardown(void)
{
	close(sv[0]);
	close(sv[1]);
}

static struct idlist
list(unsigned id)
{
	static unsigned v[4];
	static int next;
	unsigned *p = &v[next++ % 4];

	*p = id;
	return (struct idlist){ .v = p, .n = 1, .set = true };
}

START_TEST(no_lists_admit)
{
	struct svc_conf sc = { 0 };

	ck_assert_int_eq(peercred_allows(&sc, sv[0], &cred), 1);
}
END_TEST

START_TEST(users)
{
	struct svc_conf sc = { 0 };

	sc.only_users = list(cred.uid);
	ck_assert_int_eq(peercred_allows(&sc, sv[0], &cred), 1);
	sc.only_users = list(cred.uid + 1);
	ck_assert_int_eq(peercred_allows(&sc, sv[0], &cred), 0);
	sc.only_users = list(cred.uid);
	sc.no_users = list(cred.uid);
	ck_assert_int_eq(peercred_allows(&sc, sv[0], &cred), 0);
}
END_TEST

START_TEST(primary_group)
{
	struct svc_conf sc = { 0 };

	sc.only_groups = list(cred.gid);
	ck_assert_int_eq(peercred_allows(&sc, sv[0], &cred), 1);
	sc.no_groups = list(cred.gid);
	ck_assert_int_eq(peercred_allows(&sc, sv[0], &cred), 0);
}
END_TEST

/* As root the test gives itself a supplementary group first; the pair
 * made after carries it. */
START_TEST(supplementary_group)
{
	struct svc_conf sc = { 0 };
	gid_t extra = 64123;

	ck_assert_int_eq(setgroups(1, &extra), 0);
	teardown();
	setup();
	sc.only_groups = list(extra);
	ck_assert_int_eq(peercred_allows(&sc, sv[0], &cred), 1);
	sc.only_groups = (struct idlist){ 0 };
	sc.no_groups = list(extra);
	ck_assert_int_eq(peercred_allows(&sc, sv[0], &cred), 0);
}
END_TEST

Suite *
peercred_suite(void)
{
	Suite *s = suite_create("peercred");
	TCase *tc = tu_tcase(s, "peercred", setup, teardown, 0, no_lists_admit,
	    users, primary_group, NULL);

	tu_add_test(tc, supplementary_group, tu_root_skip());
	return s;
}
