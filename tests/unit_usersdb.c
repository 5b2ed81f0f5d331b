/*
 * Users and groups, files first: names and numbers from test-written
 * passwd and group files, supplementary groups from the group file's
 * member lists, and what the files lack from the system's databases.
 */
#include <stdio.h>

#include "testutil.h"
#include "usersdb.h"

static char passwd[4096], group[4096];

static void
setup(void)
{
	/* tu_write()'s path is one buffer: each is copied before the next. */
	snprintf(passwd, sizeof(passwd), "%s", tu_write("passwd",
	    "alice:x:61001:61001::/home/alice:/bin/sh\n"
	    "bob:x:61002:61010::/home/bob:/bin/sh\n"));
	snprintf(group, sizeof(group), "%s", tu_write("group",
	    "alice:x:61001:\n"
	    "staff:x:61010:alice\n"
	    "ctf:x:61011:bob,alice\n"));
	usersdb_files(passwd, group);
}

static void
teardown(void)
{
	usersdb_files(NULL, NULL);
	tu_cleanup();
}

START_TEST(names_and_numbers)
{
	struct usersdb_user u;
	struct usersdb_group g;

	ck_assert(usersdb_user("alice", &u));
	ck_assert_uint_eq(u.uid, 61001);
	ck_assert(u.from_files);
	ck_assert(usersdb_user("61002", &u));
	ck_assert_str_eq(u.name, "bob");
	ck_assert_uint_eq(u.gid, 61010);
	ck_assert(usersdb_group("staff", &g));
	ck_assert_uint_eq(g.gid, 61010);
	ck_assert(usersdb_group("61011", &g));
	ck_assert_str_eq(g.name, "ctf");
	ck_assert(!usersdb_user("no-such-user-sockd", &u));
	ck_assert(!usersdb_group("no-such-group-sockd", &g));
}
END_TEST

START_TEST(supplementary_from_the_file)
{
	struct usersdb_user u;
	gid_t groups[8];
	int n = 8;

	ck_assert(usersdb_user("alice", &u));
	ck_assert_int_eq(usersdb_groups(&u, groups, &n), 3);
	ck_assert_uint_eq(groups[0], 61001);		/* the primary first */
	ck_assert_uint_eq(groups[1], 61010);
	ck_assert_uint_eq(groups[2], 61011);
	/* Too little room: -1 and the number needed. */
	n = 2;
	ck_assert_int_eq(usersdb_groups(&u, groups, &n), -1);
	ck_assert_int_eq(n, 3);
	/* bob's primary group lists nobody, and is not counted twice. */
	ck_assert(usersdb_user("bob", &u));
	n = 8;
	ck_assert_int_eq(usersdb_groups(&u, groups, &n), 2);
}
END_TEST

/* root is in no test file: the system's databases answer. */
START_TEST(the_rest_from_the_system)
{
	struct usersdb_user u;
	struct usersdb_group g;

	ck_assert(usersdb_user("root", &u));
	ck_assert_uint_eq(u.uid, 0);
	ck_assert(!u.from_files);
	ck_assert(usersdb_group("0", &g));
	ck_assert_uint_eq(g.gid, 0);
}
END_TEST

Suite *
usersdb_suite(void)
{
	Suite *s = suite_create("usersdb");

	tu_tcase(s, "usersdb", setup, teardown, 0, names_and_numbers,
	    supplementary_from_the_file, the_rest_from_the_system, NULL);
	return s;
}
