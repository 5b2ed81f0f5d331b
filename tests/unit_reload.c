/*
 * Reload pairing: which running service keeps its sockets (and its
 * children and counts) for a service of the new file. Loaded from real
 * configuration text, so the addresses are what the loader makes of them.
 */
#include <string.h>

#include "config.h"
#include "sockd.h"
#include "testutil.h"

static struct config *old, *new;

static void
teardown(void)
{
	config_unref(old);
	config_unref(new);
	old = new = NULL;
	tu_cleanup();
}

#define SVC(name, proto, port, extra) "{ name = \"" name "\"; protocol = \"" \
	proto "\"; port = " #port "; builtin = \"echo\"; " extra " }"

/* Does old's service i pair with new's service j? */
static bool
pairs(size_t i, size_t j)
{
	return reload_pairs(&old->svcs[i], &new->svcs[j]);
}

START_TEST(same_addresses_any_order)
{
	old = tu_load_services("old.conf", SVC("a", "tcp", 7001,
	    "address = [\"127.0.0.1\", \"127.0.0.2\"];"));
	/* Renamed, reordered, other settings changed: still the same sockets. */
	new = tu_load_services("new.conf", SVC("b", "tcp", 7001,
	    "address = [\"127.0.0.2\", \"127.0.0.1\"]; instances = 3;"));
	ck_assert(pairs(0, 0));
}
END_TEST

START_TEST(anything_else_binds_anew)
{
	old = tu_load_services("old.conf", SVC("a", "tcp", 7001,
	    "address = [\"127.0.0.1\", \"127.0.0.2\"];") ","
	    SVC("six", "tcp", 7002, "address = \"::\";"));
	new = tu_load_services("new.conf",
	    SVC("fewer", "tcp", 7001, "address = \"127.0.0.1\";") ","
	    SVC("more", "tcp", 7003, "address = [\"127.0.0.1\", \"127.0.0.2\", \"127.0.0.3\"];") ","
	    SVC("port", "tcp", 7004, "address = [\"127.0.0.1\", \"127.0.0.2\"];") ","
	    SVC("proto", "udp", 7001, "address = [\"127.0.0.1\", \"127.0.0.2\"];") ","
	    SVC("v6only", "tcp", 7002, "address = \"::\"; v6only = true;"));
	for (size_t j = 0; j < new->nsvcs; j++)
		for (size_t i = 0; i < old->nsvcs; i++)
			ck_assert_msg(!pairs(i, j), "%s took %s's sockets",
			    new->svcs[j].name, old->svcs[i].name);
}
END_TEST

/* The same port on TCP and UDP: each keeps its own socket. */
START_TEST(protocol_tells_apart)
{
	old = tu_load_services("old.conf", SVC("a", "tcp", 7001, "") "," SVC("b", "udp", 7001, ""));
	new = tu_load_services("new.conf", SVC("b2", "udp", 7001, "") "," SVC("a2", "tcp", 7001, ""));
	ck_assert(pairs(0, 1) && pairs(1, 0));
	ck_assert(!pairs(0, 0) && !pairs(1, 1));
}
END_TEST

Suite *
reload_suite(void)
{
	Suite *s = suite_create("reload pairing");
	TCase *tc = tcase_create("pairs");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, same_addresses_any_order);
	tcase_add_test(tc, anything_else_binds_anew);
	tcase_add_test(tc, protocol_tells_apart);
	suite_add_tcase(s, tc);
	return s;
}
