/* Unit tests: the pure logic, linked from the daemon's own library. */
#include "testutil.h"

int
main(void)
{
	return tu_run_suites(config_suite(), cfgscan_suite(), addr_suite(),
	    children_suite(), builtin_suite(), acl_suite(), ratelimit_suite(),
	    config_controls_suite(), reload_suite(), loop_suite(), log_suite(),
	    refuse_suite(), errlog_suite(), confdiff_suite(), logaddr_suite(),
	    upstate_suite(), proxyproto_suite(), ctlreq_suite(), config_balancer_suite(),
	    idpool_suite(), checkchild_suite(), connenv_suite(),
	    persource_suite(), sockopt_unit_suite(), peercred_suite(),
	    usersdb_suite(), inetdconf_suite(), htab_suite(), tlsfuzz_suite(), tlsenv_suite(),
	    convert_suite(), keys_suite(), gate_suite(), scrape_suite(), NULL);
}
