/* Integration tests: the real daemon on loopback ports, real clients. */
#include <stdlib.h>

#include "testutil.h"

int
main(void)
{
	SRunner *sr = srunner_create(daemon_suite());
	int failed;

	srunner_add_suite(sr, services_suite());
	srunner_add_suite(sr, process_suite());
	srunner_add_suite(sr, ops_suite());
	srunner_add_suite(sr, controls_suite());
	srunner_add_suite(sr, fastpath_suite());
	srunner_add_suite(sr, hostile_suite());
	srunner_add_suite(sr, reliability_suite());
	srunner_add_suite(sr, faults_suite());
	srunner_add_suite(sr, jail_suite());
	/* A failure message may quote the daemon's whole log; without room
	 * for it, Check drops the message and reports an "early exit". */
	check_set_max_msg_size(TU_LOG_MAX + 4096);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	tu_report_skips();
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
