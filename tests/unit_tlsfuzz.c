/*
 * The TLS fuzz target's corpus (tests/fuzz/corpus-tls), replayed through
 * the target itself (tests/fuzz/fuzz_tls.c, linked in with the module's
 * code): every seed, a ClientHello of each kind the service's callbacks
 * see and bytes that are none, reaches its verdict without a finding.
 */
#include <stdint.h>

#include "testutil.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
one_seed(const char *name, const uint8_t *in, size_t len, void *arg)
{
	(void)name;
	ck_assert_int_eq(LLVMFuzzerTestOneInput(in, len), 0);
	(*(int *)arg)++;
}

START_TEST(fuzz_corpus)
{
	int n = 0;

	LLVMFuzzerInitialize(NULL, NULL);
	(void)tu_corpus("tests/fuzz/corpus-tls", one_seed, &n);
	ck_assert_int_ge(n, 8);
}
END_TEST

Suite *
tlsfuzz_suite(void)
{
	Suite *s = suite_create("tlsfuzz");
	TCase *tc = tcase_create("tlsfuzz");

	tcase_add_test(tc, fuzz_corpus);
	suite_add_tcase(s, tc);
	return s;
}
