/*
 * A connection's environment, every variable family in one place with
 * one bound: the base a handler always gets (PROTO, SOCKD_SERVICE) and
 * its connection's family (TCP*, UDP* or IPC*, as tcpserver and
 * s6-ipcserver name them), what sockd's own TLS handshake found (SSL_*,
 * tlsrelay.c), what a PROXY protocol header said (TCPPROXY*,
 * PROXY_*, SSL_*), and sd_listen_fds(3)'s LISTEN_*. A family added here is
 * added to CONNENV_MAX, which sizes the slots every service keeps at the
 * front of its environment (service.c). The text lives in the structs;
 * nothing is allocated.
 */
#ifndef SOCKD_CONNENV_H
#define SOCKD_CONNENV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "addr.h"
#include "config.h"

struct ucred;
struct proxyproto_tlvs;

/* At most, per family. */
#define CONNENV_BASE 2		/* PROTO, SOCKD_SERVICE */
#define CONNENV_PEER 5		/* *CONNNUM, *REMOTE and *LOCAL, or IPC* */
#define CONNENV_PROXY 7		/* TCPPROXYIP/PORT, PROXY_*, SSL_* */
#define CONNENV_LISTEN 3	/* LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES */
#define CONNENV_TLS 6		/* SSL_*, as s6-tlsserver names them */
#define CONNENV_MAX (CONNENV_BASE + CONNENV_PEER + CONNENV_PROXY + \
    CONNENV_LISTEN + CONNENV_TLS)

/* What a PROXY header said, built when it is read (proxywait.c) and kept
 * with the connection until its handler starts. */
struct connenv_proxy {
	char proxy_ip[16 + ADDR_STRLEN], proxy_port[24];
	char alpn[16 + 64], authority[24 + 256], unique_id[24 + 129];
	char ssl_version[16 + 32], ssl_cn[24 + 256];
	char *v[CONNENV_PROXY + 1];	/* NULL-terminated */
};

/* The variables of one connection, in v[0..n). */
struct connenv {
	char *v[CONNENV_MAX];
	size_t n;
	char rip[16 + ADDR_STRLEN], rport[24], lip[16 + ADDR_STRLEN], lport[24];
	char connnum[32], euid[32], egid[32], pid[32], path[32 + 108];
	/* The child writes its own pid after the "=" (spawn.c). */
	char listen_pid[32], fdnames[16 + CONFIG_NAME_MAX];
};

/*
 * The header's variables: the balancer's address (the connection's peer)
 * and the TLVs a handler can use, named as s6-tlsd names the same facts.
 */
void connenv_proxy(struct connenv_proxy *, const struct sockaddr *balancer,
    const struct proxyproto_tlvs *);
/* What a connection's variables are made of. */
struct connenv_in {
	bool accepted;		/* a connection or peer; false: a wait
				 * service's own socket */
	const struct addr *peer;	/* the client, as admitted; NULL: none */
	uint16_t port;
	const struct sockaddr *local;	/* where it came in; NULL: unknown */
	const struct ucred *cred;	/* a UNIX-domain peer's; NULL: none */
	unsigned connnum;	/* its live connections, this one too; 0: unset */
	char *const *proxy;	/* a PROXY header's (connenv_proxy()); NULL */
	char *const *tls;	/* the handshake's SSL_*, NULL-terminated; NULL */
};

/*
 * A connection's variables: the base, its family's, the header's and
 * LISTEN_* with listen_fds. env_service is the service's
 * "SOCKD_SERVICE=..." text.
 */
void connenv_build(struct connenv *, const struct svc_conf *,
    const char *env_service, const struct connenv_in *);

#endif
