/* Integration tests: the real daemon on loopback ports, real clients. */
#include "testutil.h"

int
main(void)
{
	/* A failure message may quote the daemon's whole log; without room
	 * for it, Check drops the message and reports an "early exit". */
	check_set_max_msg_size(TU_LOG_MAX + 4096);
	return tu_run_suites(daemon_suite(), services_suite(), process_suite(),
	    ops_suite(), controls_suite(), fastpath_suite(), hostile_suite(),
	    reliability_suite(), faults_suite(), metrics_suite(), upgrade_suite(),
	    unix_suite(), udppeer_suite(), proxy_suite(), sockopt_suite(),
	    listenfds_suite(), activation_suite(), jail_suite(), unitlimits_suite(),
	    escape_suite(), sockctl_suite(), inetd_suite(), tls_suite(),
	    tlsmod_suite(), starttls_suite(), NULL);
}
