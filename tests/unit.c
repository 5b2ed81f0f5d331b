/* Unit tests: the pure logic, linked from the daemon's own library. */
#include <stdlib.h>

#include "testutil.h"

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_add_suite(sr, cfgscan_suite());
	srunner_add_suite(sr, reload_suite());
	srunner_add_suite(sr, addr_suite());
	srunner_add_suite(sr, children_suite());
	srunner_add_suite(sr, builtin_suite());
	srunner_add_suite(sr, acl_suite());
	srunner_add_suite(sr, ratelimit_suite());
	srunner_add_suite(sr, config_controls_suite());
	srunner_add_suite(sr, loop_suite());
	srunner_add_suite(sr, log_suite());
	srunner_add_suite(sr, refuse_suite());
	srunner_add_suite(sr, errlog_suite());
	srunner_add_suite(sr, proxyproto_suite());
	srunner_add_suite(sr, config_scaleout_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	tu_report_skips();
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
