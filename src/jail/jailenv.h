/*
 * What the running process is refused that a jail needs, asked of the
 * kernel: capabilities missing from its effective or bounding set, and
 * whether a seccomp filter applies to it (a service manager's, such as
 * systemd's RestrictNamespaces=). The loader names the likely cause with
 * these when a jail cannot be made. A leaf: no logging, no sockd state.
 */
#ifndef SOCKD_JAILENV_H
#define SOCKD_JAILENV_H

#include <stdbool.h>
#include <stdint.h>

/* The capabilities of caps (bit n: capability n) this process's effective
 * set lacks; with bounding, those its bounding set lacks. */
uint64_t jailenv_lacking(uint64_t caps, bool bounding);
/* Whether a seccomp filter applies to this process. */
bool jailenv_filtered(void);

#endif
