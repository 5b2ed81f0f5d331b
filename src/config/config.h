/*
 * The configuration model. config_load() turns a libconfig file into these
 * plain structs, checking every rule; nothing else in sockd sees libconfig.
 * It binds nothing, logs nothing and never exits: errors come back as
 * "FILE:LINE: message" lines.
 */
#ifndef SOCKD_CONFIG_H
#define SOCKD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/resource.h>
#include <sys/types.h>

#include "acl.h"
#include "addr.h"
#include "sockopt.h"

#define CONFIG_DEFAULT_MAX_CHILDREN 512
#define CONFIG_NAME_MAX 64
#define CONFIG_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define CONFIG_DEFAULT_PREFIX6 64
#define CONFIG_RLIMITS_MAX 8

enum svc_proto { PROTO_TCP, PROTO_UDP, PROTO_UNIX };
enum svc_stderr { STDERR_LOG, STDERR_NULL, STDERR_INHERIT };
enum shutdown_mode { SHUTDOWN_LEAVE, SHUTDOWN_TERMINATE };
enum log_dest { LOG_DEST_DEFAULT, LOG_DEST_STDERR, LOG_DEST_SYSLOG };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
/* How much of a client's address the log shows (logaddr.c). */
enum log_addresses { LOG_ADDRESSES_FULL, LOG_ADDRESSES_TRUNCATED,
    LOG_ADDRESSES_NONE };

struct builtin;
struct jail_conf;

/*
 * TLS in front of a handler (cfgtls.c checks it, tls.c builds the
 * running service's context from it): plain values, no OpenSSL object.
 */
enum tls_verify { TLS_VERIFY_NONE, TLS_VERIFY_OPTIONAL, TLS_VERIFY_REQUIRE };
enum tls_proto { TLS_PROTO_1_2, TLS_PROTO_1_3 };
/* A certificate for the clients that ask for name (SNI). */
struct tls_sni {
	char *name;			/* "host.example", or "*.example" */
	char *certificate, *key;
};
struct tls_conf {
	char *certificate;		/* PEM: the leaf, then its chain */
	char *key;			/* PEM */
	char *ca;			/* client certificates' CAs; NULL: none */
	enum tls_verify verify;
	enum tls_proto min_protocol;
	char *ciphers, *ciphersuites;	/* NULL: OpenSSL's defaults */
	unsigned char *alpn;		/* wire format, length-prefixed; NULL */
	size_t alpn_len;
	unsigned handshake_timeout;	/* seconds */
	struct tls_sni *sni;		/* tried in order; the first match */
	size_t nsni;
	bool session_tickets;		/* resumption by stateless tickets */
	bool starttls;			/* plain until the handler asks for TLS
					 * (UCSPI-TLS, tlsrelay.c) */
};
#define CONFIG_DEFAULT_TLS_HANDSHAKE_TIMEOUT 10
/* A certificate expiring within this many days is a warning. */
#define CONFIG_TLS_EXPIRY_WARN_DAYS 14

/* Peer user or group ids a UNIX-domain service allows or denies. */
struct idlist {
	unsigned *v;
	size_t n;
	bool set;		/* present in the configuration */
};

struct svc_conf {
	char *name;
	char *file;			/* where the service is defined */
	int line;
	enum svc_proto proto;
	struct addr *addrs;		/* at least one */
	size_t naddrs;
	bool v6only;			/* "::" accepts IPv6 only */
	uint16_t port;
	char *server;			/* absolute path, or NULL for a built-in */
	const struct builtin *builtin;	/* or NULL for a server */
	char **argv;			/* NULL-terminated; NULL for a built-in */
	bool wait;
	unsigned instances;		/* 0: no per-service cap */
	int backlog;			/* listen(2) backlog; 0: somaxconn */
	bool disabled;
	enum svc_stderr stderr_to;

	/* Whom the handler runs as; set_ids false: as sockd itself. */
	bool set_ids;
	char *user;
	uid_t uid;
	gid_t gid;
	gid_t *groups;			/* supplementary, from the group database */
	int ngroups;

	unsigned per_source;		/* 0: no cap */
	unsigned per_source_prefix6;
	unsigned rate, rate_burst;	/* service-wide connections per second */
	unsigned source_rate;		/* per client address */
	struct acl only_from, no_access;
	char *refuse_message;		/* NULL: close silently */
	unsigned max_lifetime;		/* seconds; 0: unlimited */
	unsigned idle_timeout;		/* seconds a built-in child or a UDP peer's
				 * handler waits; 0: its default */
	bool udp_loop_guard;

	/* protocol "unix" (cfgunix.c); addrs then holds one AF_UNIX entry. */
	char *unix_path;		/* "/run/x.sock", or "@name": abstract */
	int unix_mode;			/* -1: as sockd's umask leaves it */
	uid_t unix_uid;			/* (uid_t)-1: sockd's */
	gid_t unix_gid;			/* (gid_t)-1: sockd's */
	struct idlist only_users, no_users, only_groups, no_groups;

	/* udp, wait = false: a process per peer (udppeer.c) */
	bool per_peer;
	/* per_peer: each handler a UDP socket of its own (udphand.h) rather
	 * than a pair the master relays; it can take other peers' datagrams. */
	bool peer_socket;

	/* The handler's process set-up, all resolved at load time. */
	char **env;			/* "NAME=value", PATH first; NULL-terminated */
	struct { int resource; rlim_t value; } rlimits[CONFIG_RLIMITS_MAX];
	size_t nrlimits;
	bool set_nice;
	int nice;
	int umask;			/* -1: inherited */
	char *chdir;			/* NULL: inherited */

	struct sockopts so;		/* socket options (cfgsockopt.c) */
	bool listen_fds;		/* the socket on fd 3 too, sd_listen_fds(3) */

	/* PROXY protocol (cfgproxy.c): the balancers in front of the service. */
	unsigned proxy_protocol;	/* PROXYPROTO_V1|V2 bits; 0: off */
	struct acl proxy_from;		/* who may send a header */
	unsigned proxy_timeout;		/* ms for the whole header */
	unsigned proxy_pending;		/* connections waiting for one at once */
	struct jail_conf *jail;		/* NULL: not jailed (jail.h) */
	struct tls_conf *tls;		/* NULL: plain connections */
};

#define CONFIG_DEFAULT_SHUTDOWN_GRACE 10
#define CONFIG_DEFAULT_FAIL_LIMIT 10

struct global_conf {
	unsigned max_children;
	char *pidfile;			/* NULL: none */
	enum shutdown_mode shutdown;
	unsigned shutdown_grace;	/* seconds */
	unsigned fail_limit;
	char *include_dir;		/* absolute, or NULL */
	char *inetd_conf;		/* a classic inetd.conf, absolute, or NULL */
	enum log_dest log;
	enum log_format log_format;
	int log_level;			/* a syslog priority; -1: not set */
	enum log_addresses log_addresses;
	/* The ids of jailed handlers that name no user (idpool.h). */
	uid_t jail_ids_first, jail_ids_last;
	/* The control socket (control.c): its path, absolute; NULL: none.
	 * Its group, whose members may change things through it. */
	char *control;
	gid_t control_gid;
};

/*
 * 65,536 ids from 0x7E000000: above what adduser, systemd's dynamic users
 * and the subordinate ids of subuid(5) take by default.
 */
#define CONFIG_DEFAULT_JAIL_IDS_FIRST 2113929216u
#define CONFIG_DEFAULT_JAIL_IDS_COUNT 65536u

/* Accumulated error messages, one "FILE:LINE: message\n" per error. */
struct cfgerr {
	char *text;
	size_t len;
	unsigned count;
};

struct config {
	char *path;
	struct global_conf global;
	struct svc_conf *svcs;
	size_t nsvcs;
	size_t nenabled;
	char **skipped;			/* include_dir entries not named *.conf */
	unsigned refs;
	struct cfgerr warnings;		/* "FILE:LINE: warning: ..." lines */
};

/* cfgerr.c */
void cfgerr_add(struct cfgerr *, const char *file, int line, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
void cfgerr_free(struct cfgerr *);

/* config.c */
struct config *config_load(const char *path, struct cfgerr *);
/*
 * The same, for the file a checking child (cfgcheck.h) has just loaded
 * whole: the jails, which that child tried, are not tried again. The
 * namespaces a jailed service shares are made when it starts (jailns.h).
 */
struct config *config_load_checked(const char *path, struct cfgerr *);
/*
 * Configurations are shared by the services and children using them;
 * config_unref() drops one reference and frees with the last.
 */
struct config *config_ref(struct config *);
void config_unref(struct config *);
const char *svc_proto_name(enum svc_proto);

#endif
