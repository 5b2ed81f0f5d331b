/*
 * What the running process is refused that a jail needs (jailenv.h):
 * capget(2) and PR_CAPBSET_READ for the capabilities, the Seccomp line of
 * /proc/self/status for a filter (prctl(PR_GET_SECCOMP) would kill a
 * process whose filter is strict mode, and says nothing more).
 */
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jailenv.h"

uint64_t
jailenv_lacking(uint64_t caps, bool bounding)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint64_t have = 0;

	if (bounding) {
		for (int cap = 0; cap < 64; cap++)
			if ((caps & (1ULL << cap)) &&
			    prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
				have |= 1ULL << cap;
	} else if (syscall(SYS_capget, &hdr, data) == 0)
		have = data[0].effective | (uint64_t)data[1].effective << 32;
	return caps & ~have;
}

bool
jailenv_filtered(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	bool filtered = false;

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Seccomp:", 8) == 0) {
			filtered = strtol(line + 8, NULL, 10) == 2;
			break;
		}
	fclose(f);
	return filtered;
}
