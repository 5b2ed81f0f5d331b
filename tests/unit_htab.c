/*
 * The hash table of persource.c and udppeer.c: nodes found by hash and
 * key through collisions, growth that keeps every node, removal and a
 * sweep that frees what it drops; each table's hashes keyed by its own
 * seed.
 */
#include <stdlib.h>

#include "htab.h"
#include "testutil.h"

struct item {
	int key;
	struct hnode node;	/* not first: htab_entry must subtract */
};

static bool
item_eq(const struct hnode *n, const void *key)
{
	return htab_entry(n, struct item, node)->key == *(const int *)key;
}

/* Three hashes for all keys: long chains, and equal hashes that differ. */
static uint32_t
weak_hash(struct htab *t, int key)
{
	(void)t;
	return (uint32_t)(key % 3);
}

static struct item *
find(struct htab *t, int key, uint32_t (*h)(struct htab *, int))
{
	struct hnode *n = htab_find(t, h(t, key), item_eq, &key);

	return n ? htab_entry(n, struct item, node) : NULL;
}

static uint32_t
good_hash(struct htab *t, int key)
{
	return htab_hash(t, &key, sizeof(key));
}

static bool
drop_odd(struct hnode *n, void *freed)
{
	struct item *it = htab_entry(n, struct item, node);

	if (it->key % 2 == 0)
		return false;
	free(it);
	++*(int *)freed;
	return true;
}

static void
count_and_free(struct hnode *n, void *count)
{
	++*(int *)count;
	free(htab_entry(n, struct item, node));
}

static void
fill_and_check(uint32_t (*h)(struct htab *, int))
{
	struct htab t = { 0 };
	int freed = 0, left = 0, key = 7;

	ck_assert_ptr_null(htab_find(&t, h(&t, key), item_eq, &key));
	for (int i = 0; i < 1000; i++) {
		struct item *it = calloc(1, sizeof(*it));
		ck_assert_ptr_nonnull(it);
		it->key = i;
		it->node.hash = h(&t, i);
		ck_assert_int_eq(htab_reserve(&t), 0);
		htab_insert(&t, &it->node);
	}
	ck_assert_uint_eq(t.n, 1000);
	ck_assert_uint_ge(t.nheads, 1000);	/* grew, at most one a head */
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(find(&t, i, h)->key, i);
	ck_assert_ptr_null(find(&t, 1000, h));
	struct item *it = find(&t, 500, h);
	htab_remove(&t, &it->node);
	htab_remove(&t, &it->node);	/* not in: harmless */
	free(it);
	ck_assert_ptr_null(find(&t, 500, h));
	ck_assert_uint_eq(t.n, 999);
	htab_sweep(&t, drop_odd, &freed);
	ck_assert_int_eq(freed, 500);
	ck_assert_uint_eq(t.n, 499);
	for (int i = 0; i < 1000; i++)
		ck_assert((find(&t, i, h) != NULL) == (i % 2 == 0 && i != 500));
	htab_each(&t, count_and_free, &left);
	ck_assert_int_eq(left, 499);
	htab_free(&t);
	ck_assert_uint_eq(t.nheads, 0);
}

START_TEST(spread_keys)
{
	fill_and_check(good_hash);
}
END_TEST

START_TEST(colliding_keys)
{
	fill_and_check(weak_hash);
}
END_TEST

/*
 * Each table draws a seed of its own at its first hash, and keeps it: the
 * same key hashes apart in two tables (for one key the hash is a
 * bijection of the seed), alike in one; a freed table draws anew.
 */
START_TEST(tables_are_keyed_apart)
{
	struct htab a = { 0 }, b = { 0 };
	static const char key[] = "192.0.2.1";
	uint32_t ha = htab_hash(&a, key, sizeof(key));
	uint32_t seed_a = a.seed;

	ck_assert(a.seeded);
	ck_assert(!b.seeded);
	ck_assert_uint_ne(htab_hash(&b, key, sizeof(key)), ha);
	ck_assert_uint_ne(a.seed, b.seed);
	ck_assert_uint_eq(htab_hash(&a, key, sizeof(key)), ha);
	ck_assert_uint_eq(a.seed, seed_a);
	htab_free(&a);
	ck_assert(!a.seeded);
	(void)htab_hash(&a, key, sizeof(key));
	ck_assert_uint_ne(a.seed, seed_a);
	ck_assert_uint_ne(a.seed, b.seed);
}
END_TEST


/*
 * Addresses whose bytes differ only in their high bits (10.0.0.1, .65,
 * .129, .193) do not share a head of 64 in every table: FNV-1a's low bits
 * alone would, whatever the seed. By chance in 8 tables: 64^-8.
 */
START_TEST(high_bits_reach_the_head)
{
	static const uint8_t keys[4][4] = { { 10, 0, 0, 1 }, { 10, 0, 0, 65 },
	    { 10, 0, 0, 129 }, { 10, 0, 0, 193 } };
	int shared = 0;

	for (int i = 0; i < 8; i++) {
		struct htab t = { 0 };
		uint32_t head = htab_hash(&t, keys[0], 4) & 63;
		bool all = true;
		for (int k = 1; k < 4; k++)
			all = all && (htab_hash(&t, keys[k], 4) & 63) == head;
		shared += all;
	}
	ck_assert_int_lt(shared, 8);
}
END_TEST

Suite *
htab_suite(void)
{
	Suite *s = suite_create("htab");
	TCase *tc = tcase_create("htab");

	tcase_add_test(tc, spread_keys);
	tcase_add_test(tc, colliding_keys);
	tcase_add_test(tc, tables_are_keyed_apart);
	tcase_add_test(tc, high_bits_reach_the_head);
	suite_add_tcase(s, tc);
	return s;
}
