/*
 * The key registry (keys.h) against what uses it: every key a section
 * registers is changed in turn, on a service the loader made from real
 * text, and the reload's diff must name it; what the registry says a
 * change does (bound anew, set at bind only) must be what reload_pairs()
 * and sockopt_needs_rebind() decide. A key added to the loader is in the
 * registry (cfgkeys_check() knows no other), so a key a reload would not
 * compare, or would compare wrongly, fails here.
 */
#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "builtin.h"
#include "confdiff.h"
#include "config.h"
#include "jail.h"
#include "keys.h"
#include "sockd.h"
#include "testutil.h"

#define FIELD(type, base, k) (*(type *)((char *)(base) + (k)->off))

static struct config *cfg;

static void
teardown(void)
{
	config_unref(cfg);
	cfg = NULL;
	tu_cleanup();
}

/* Values the mutations point at; the mutated copies are never freed. */
static char mutated[] = "mutated";
static char *strv[] = { mutated, NULL };
static struct cidr cidr;
static unsigned ids[] = { 4242 };
static struct addr other_addr;
static struct jail_conf jail;
static struct tls_conf tls;

/* A copy of sc with k's value changed; false if k's kind has no mutation. */
static bool
mutate(const struct keyspec *k, struct svc_conf *sc)
{
	switch (k->cmp) {
	case KC_UINT:
		FIELD(unsigned, sc, k) += 1;
		return true;
	case KC_U16:
		FIELD(uint16_t, sc, k) += 1;
		return true;
	case KC_INT:
		FIELD(int, sc, k) += 1;
		return true;
	case KC_BOOL:
		FIELD(bool, sc, k) = !FIELD(bool, sc, k);
		return true;
	case KC_STR:
		FIELD(char *, sc, k) = mutated;
		return true;
	case KC_CHARS:
		strcpy(&FIELD(char, sc, k), "mut0");
		return true;
	case KC_STRV:
		FIELD(char **, sc, k) = strv;
		return true;
	case KC_ACL:
		FIELD(struct acl, sc, k) = (struct acl){ &cidr, 1, true };
		return true;
	case KC_IDLIST:
		FIELD(struct idlist, sc, k) = (struct idlist){ ids, 1, true };
		return true;
	case KC_OPT:
		FIELD(int, sc, k) = FIELD(int, sc, k) == 0123 ? 0456 : 0123;
		return true;
	case KC_OPT_SET:
		*(bool *)((char *)sc + k->flag) = true;
		FIELD(int, sc, k) += 3;
		return true;
	case KC_ADDRESS:
		sc->addrs = &other_addr;
		sc->naddrs = 1;
		return true;
	case KC_PROTOCOL:
		sc->proto = PROTO_UDP;
		return true;
	case KC_BUILTIN:
		sc->builtin = builtin_find("daytime");
		return true;
	case KC_STDERR:
		sc->stderr_to = STDERR_NULL;
		return true;
	case KC_USER:
		sc->set_ids = true;
		sc->user = mutated;
		sc->uid = 4242;
		return true;
	case KC_GROUP:
		sc->set_ids = true;
		sc->gid = 4242;
		return true;
	case KC_RLIMITS:
		sc->rlimits[sc->nrlimits].resource = 7;
		sc->rlimits[sc->nrlimits++].value = 42;
		return true;
	case KC_JAIL:
		sc->jail = &jail;
		return true;
	case KC_TLS:
		sc->tls = &tls;
		return true;
	case KC_NONE:
		break;
	}
	return false;
}

static bool
names(const struct confdiff *d, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->k[i].key, key) == 0)
			return true;
	return false;
}

/* Each key of table t, changed alone on the service, is in the diff and
 * does what its effect says; returns how many were changed. */
static unsigned
each_key(const struct keyspec *t, const struct svc_conf *base)
{
	struct confdiff d;
	unsigned n = 0;
	const char *which;

	for (const struct keyspec *k = t; k->name; k++, n++) {
		struct svc_conf sc = *base;
		if (k->cmp == KC_NONE) {
			ck_assert_msg(k->why && *k->why, "%s: not compared, "
			    "and the registry does not say why", k->name);
			continue;
		}
		ck_assert_msg(mutate(k, &sc), "%s: no mutation for its kind %d",
		    k->name, k->cmp);
		confdiff_services(base, &sc, &d);
		ck_assert_msg(names(&d, k->name), "%s changed, and the diff does "
		    "not name it", k->name);
		ck_assert_msg(reload_pairs(base, &sc) == (k->effect != KE_REBIND),
		    "%s: the registry says %s bound anew, reload_pairs() the "
		    "other", k->name, k->effect == KE_REBIND ? "it is" : "it is not");
		ck_assert_msg(sockopt_needs_rebind(&base->so, &sc.so, &which) ==
		    (k->effect == KE_AT_BIND), "%s: the registry and "
		    "sockopt_needs_rebind() disagree on a kept socket", k->name);
	}
	return n;
}

START_TEST(every_service_key_is_compared)
{
	const struct svc_conf *base;
	unsigned n;

	ck_assert_int_eq(addr_parse("127.0.0.2", &other_addr), 0);
	ck_assert_int_eq(addr_parse("10.0.0.0", &cidr.net), 0);
	cidr.bits = 8;
	cfg = tu_load_services("a.conf", "{ name = \"a\"; protocol = \"tcp\"; "
	    "port = 7001; builtin = \"echo\"; }");
	base = &cfg->svcs[0];
	n = each_key(keys_service, base) + each_key(keys_controls, base);
	ck_assert_uint_ge(n, 50);
	/* Every key the diff may name at once has a place in it. */
	ck_assert_uint_le(n, CONFDIFF_MAX);
}
END_TEST

/* The "sockd" section: each key is compared or says why it is not. */
START_TEST(every_global_key_is_compared_or_says_why)
{
	struct confdiff d;

	cfg = tu_load_services("a.conf", "{ name = \"a\"; protocol = \"tcp\"; "
	    "port = 7001; builtin = \"echo\"; }");
	for (const struct keyspec *k = keys_global; k->name; k++) {
		struct global_conf g = cfg->global;
		if (k->cmp == KC_NONE) {
			ck_assert_msg(k->why && *k->why, "%s: not compared, and the "
			    "registry does not say why", k->name);
			continue;
		}
		if (k->cmp == KC_STR)
			FIELD(char *, &g, k) = mutated;
		else {
			ck_assert_msg(k->cmp == KC_UINT, "%s: no mutation", k->name);
			FIELD(unsigned, &g, k) += 1;
		}
		confdiff_global(&cfg->global, &g, &d);
		ck_assert_msg(names(&d, k->name), "%s changed, and the diff does "
		    "not name it", k->name);
	}
	ck_assert_uint_eq(confdiff_global(&cfg->global, &cfg->global, &d), 0);
}
END_TEST

/* The sockd section takes its own keys and the controls, a service its
 * own and the controls: a name registered twice would be read twice. */
START_TEST(registry_names_are_unique)
{
	const struct keyspec *tables[] = { keys_global, keys_service,
	    keys_controls };

	for (size_t t = 0; t < 3; t++)
		for (const struct keyspec *k = tables[t]; k->name; k++)
			for (size_t u = 0; u < 3; u++)
				for (const struct keyspec *j = tables[u]; j->name; j++)
					ck_assert_msg(j == k || strcmp(j->name, k->name) != 0,
					    "%s is registered twice", k->name);
}
END_TEST

Suite *
keys_suite(void)
{
	Suite *s = suite_create("keys");
	TCase *tc = tcase_create("keys");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, every_service_key_is_compared);
	tcase_add_test(tc, every_global_key_is_compared_or_says_why);
	tcase_add_test(tc, registry_names_are_unique);
	suite_add_tcase(s, tc);
	return s;
}
