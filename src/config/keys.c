/*
 * The key registry (keys.h): every key of the "sockd" section and of a
 * service, in the order sockd.conf(5) describes them.
 */
#include <limits.h>
#include <stddef.h>

#include "config.h"
#include "keys.h"

#define G(f) offsetof(struct global_conf, f)
#define S(f) offsetof(struct svc_conf, f)

/* Why the reload's line for the "sockd" section leaves a key out. */
#define QUIET "a reload applies it, without a line of its own"
#define AT_START "read at start only"

/* Socket options read as they are (cfgsockopt.c); TCP's, or any socket's. */
#define TCP_OPT (KEY_PLAIN | KEY_SOCKOPT | KEY_TCP)
#define SOCK_OPT (KEY_PLAIN | KEY_SOCKOPT)

const struct keyspec keys_global[] = {
	{ KEY("max_children", K_INT), KC_NONE, G(max_children), .why = QUIET },
	{ KEY("pidfile", K_STRING), KC_NONE, G(pidfile), .why = AT_START },
	{ KEY("shutdown", K_STRING), KC_NONE, G(shutdown), .why = QUIET },
	{ KEY("shutdown_grace", K_INT), KC_NONE, G(shutdown_grace), .why = QUIET },
	{ KEY("fail_limit", K_INT), KC_NONE, G(fail_limit), .why = QUIET },
	{ KEY("include_dir", K_STRING), KC_NONE, G(include_dir),
	    .why = "the services it brings are compared one by one" },
	{ KEY("inetd_conf", K_STRING), KC_NONE, G(inetd_conf),
	    .why = "the services it brings are compared one by one" },
	{ KEY("log", K_STRING), KC_NONE, G(log), .why = QUIET },
	{ KEY("log_format", K_STRING), KC_NONE, G(log_format), .why = QUIET },
	{ KEY("log_level", K_STRING), KC_NONE, G(log_level), .why = QUIET },
	{ KEY("log_addresses", K_STRING), KC_NONE, G(log_addresses), .why = QUIET },
	{ KEY("jail_ids", K_STRING), KC_NONE, G(jail_ids_first), .why = QUIET },
	{ KEY("control", K_STRING), KC_STR, G(control) },
	{ KEY("control_group", K_STRING), KC_UINT, G(control_gid) },
	{ .name = NULL }
};

const struct keyspec keys_service[] = {
	{ KEY("name", K_STRING), KC_STR, S(name) },
	{ KEY("protocol", K_STRING), KC_PROTOCOL, S(proto), .effect = KE_REBIND },
	{ KEY("port", K_INT), KC_U16, S(port), .effect = KE_REBIND },
	{ KEY("server", K_STRING), KC_STR, S(server) },
	{ KEY("builtin", K_STRING), KC_BUILTIN, S(builtin) },
	{ KEY("args", K_STRINGS), KC_STRV, S(argv) },
	{ KEY("wait", K_BOOL), KC_BOOL, S(wait) },
	{ KEY("backlog", K_INT), KC_INT, S(backlog) },
	{ KEY("disabled", K_BOOL), KC_NONE, S(disabled), .flags = KEY_PLAIN,
	    .why = "a disabled service is not running: a reload adds or removes it" },
	{ KEY("stderr", K_STRING), KC_STDERR, S(stderr_to) },
	/* protocol "unix" (cfgunix.c) */
	{ KEY("socket_user", K_STRING), KC_OPT, S(unix_uid), .fmt = "%d" },
	{ KEY("socket_group", K_STRING), KC_OPT, S(unix_gid), .fmt = "%d" },
	{ KEY("socket_mode", K_STRING), KC_OPT, S(unix_mode), .fmt = "%04o" },
	{ KEY("only_users", K_ONE_OR_MORE), KC_IDLIST, S(only_users) },
	{ KEY("no_users", K_ONE_OR_MORE), KC_IDLIST, S(no_users) },
	{ KEY("only_groups", K_ONE_OR_MORE), KC_IDLIST, S(only_groups) },
	{ KEY("no_groups", K_ONE_OR_MORE), KC_IDLIST, S(no_groups) },
	{ KEY("listen_fds", K_BOOL), KC_BOOL, S(listen_fds), .flags = KEY_PLAIN },
	/* On at a reload: taken when the socket is bound anew (udppeer.c). */
	{ KEY("peer_socket", K_BOOL), KC_BOOL, S(peer_socket), .flags = KEY_PLAIN },
	{ .name = NULL }
};

const struct keyspec keys_controls[] = {
	{ KEY("address", K_ONE_OR_MORE), KC_ADDRESS, S(addrs), .effect = KE_REBIND },
	{ KEY("v6only", K_BOOL), KC_BOOL, S(v6only), .effect = KE_REBIND,
	    .flags = KEY_PLAIN },
	{ KEY("instances", K_INT), KC_UINT, S(instances), .flags = KEY_PLAIN,
	    .min = 1, .max = INT_MAX },
	{ KEY("user", K_STRING), KC_USER, S(user) },
	{ KEY("group", K_STRING), KC_GROUP, S(gid) },
	{ KEY("per_source", K_INT), KC_UINT, S(per_source), .flags = KEY_PLAIN,
	    .min = 1, .max = INT_MAX },
	{ KEY("per_source_prefix6", K_INT), KC_UINT, S(per_source_prefix6),
	    .flags = KEY_PLAIN, .min = 1, .max = 128 },
	{ KEY("rate", K_INT), KC_UINT, S(rate), .flags = KEY_PLAIN,
	    .min = 1, .max = 1000000 },
	{ KEY("rate_burst", K_INT), KC_UINT, S(rate_burst), .flags = KEY_PLAIN,
	    .min = 1, .max = 1000000 },
	{ KEY("source_rate", K_INT), KC_UINT, S(source_rate), .flags = KEY_PLAIN,
	    .min = 1, .max = 1000000 },
	{ KEY("only_from", K_ONE_OR_MORE), KC_ACL, S(only_from) },
	{ KEY("no_access", K_ONE_OR_MORE), KC_ACL, S(no_access) },
	{ KEY("refuse_message", K_STRING), KC_STR, S(refuse_message) },
	{ KEY("env", K_STRINGS), KC_STRV, S(env) },
	{ KEY("passenv", K_STRINGS), KC_NONE, S(env),
	    .why = "its values are read into env, which is compared" },
	{ KEY("rlimits", K_GROUP), KC_RLIMITS, S(rlimits) },
	{ KEY("nice", K_INT), KC_OPT_SET, S(nice), .fmt = "%d", .flag = S(set_nice) },
	{ KEY("umask", K_STRING), KC_OPT, S(umask), .fmt = "%03o" },
	{ KEY("chdir", K_STRING), KC_STR, S(chdir) },
	{ KEY("max_lifetime", K_INT), KC_UINT, S(max_lifetime), .flags = KEY_PLAIN,
	    .min = 1, .max = INT_MAX },
	{ KEY("idle_timeout", K_INT), KC_UINT, S(idle_timeout), .flags = KEY_PLAIN,
	    .min = 1, .max = 86400 },
	{ KEY("udp_loop_guard", K_BOOL), KC_BOOL, S(udp_loop_guard),
	    .flags = KEY_PLAIN },
	/* cfgproxy.c */
	{ KEY("proxy_protocol", K_STRING), KC_UINT, S(proxy_protocol) },
	{ KEY("proxy_from", K_ONE_OR_MORE), KC_ACL, S(proxy_from) },
	{ KEY("proxy_timeout", K_INT), KC_UINT, S(proxy_timeout) },
	{ KEY("proxy_pending", K_INT), KC_UINT, S(proxy_pending) },
	/* cfgsockopt.c; min and max are what the kernel takes */
	{ KEY("keepalive", K_BOOL), KC_BOOL, S(so.keepalive),
	    .flags = TCP_OPT },
	{ KEY("keepalive_idle", K_INT), KC_UINT, S(so.keepidle),
	    .flags = TCP_OPT, .min = 1, .max = 32767 },
	{ KEY("keepalive_interval", K_INT), KC_UINT, S(so.keepintvl),
	    .flags = TCP_OPT, .min = 1, .max = 32767 },
	{ KEY("keepalive_count", K_INT), KC_UINT, S(so.keepcnt),
	    .flags = TCP_OPT, .min = 1, .max = 127 },
	{ KEY("nodelay", K_BOOL), KC_BOOL, S(so.nodelay),
	    .flags = TCP_OPT },
	{ KEY("defer_accept", K_INT), KC_UINT, S(so.defer_accept),
	    .flags = TCP_OPT, .min = 0, .max = 3600 },
	{ KEY("fastopen", K_INT), KC_UINT, S(so.fastopen),
	    .flags = TCP_OPT, .min = 0, .max = 65535 },
	{ KEY("rcvbuf", K_INT), KC_UINT, S(so.rcvbuf),
	    .flags = SOCK_OPT, .min = 1024, .max = 1 << 30 },
	{ KEY("sndbuf", K_INT), KC_UINT, S(so.sndbuf),
	    .flags = SOCK_OPT, .min = 1024, .max = 1 << 30 },
	{ KEY("reuseport", K_BOOL), KC_BOOL, S(so.reuseport), .effect = KE_AT_BIND,
	    .flags = SOCK_OPT },
	{ KEY("freebind", K_BOOL), KC_BOOL, S(so.freebind), .effect = KE_AT_BIND,
	    .flags = SOCK_OPT },
	{ KEY("interface", K_STRING), KC_CHARS, S(so.interface), .effect = KE_AT_BIND,
	    .flags = KEY_SOCKOPT },
	{ KEY("jail", K_GROUP), KC_JAIL, S(jail) },
	{ KEY("tls", K_GROUP), KC_TLS, S(tls) },
	{ .name = NULL }
};
