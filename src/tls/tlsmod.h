/*
 * The TLS module: everything that calls OpenSSL, built as its own shared
 * object (sockd-tls.so), so that a daemon without a TLS service maps no
 * libssl or libcrypto. The loader (tlsmod.c) dlopens it the first time a
 * configuration names a TLS service: the master, the checking child, and
 * the connection children forked from either share it. sockd reaches it
 * through this one table, which the module exports as "sockd_tlsmod";
 * nothing else of the module is visible, and the module calls nothing of
 * sockd's.
 */
#ifndef SOCKD_TLSMOD_H
#define SOCKD_TLSMOD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "connenv.h"
#include "tls.h"

/* A module of another build is refused: the table's layout and the
 * structs it passes (config.h, tls.h) are this build's, which the
 * Makefile's checksum of those headers (TLSMOD_IFACE) names. */
#ifndef TLSMOD_IFACE
#define TLSMOD_IFACE "?"
#endif
#define TLSMOD_ABI "sockd-tls " SOCKD_VERSION " " TLSMOD_IFACE
#define TLSMOD_FILE "sockd-tls.so"

/* One connection's TLS session on a socket. */
struct tlsconn;

/* What a read or a write did besides moving bytes (which is > 0). */
enum tlsio { TLSIO_EOF = 0, TLSIO_WANT_READ = -1, TLSIO_WANT_WRITE = -2,
    TLSIO_FAIL = -3 };

/* The handshake's variables, as s6-tlsserver names them: SSL_PROTOCOL,
 * SSL_CIPHER, SSL_TLS_SNI_SERVERNAME, SSL_ALPN, SSL_PEER_CERT_SUBJECT,
 * SSL_PEER_CERT_HASH, those that apply, NULL-terminated in v. */
struct tlsenv {
	char proto[32], cipher[80], sni[32 + 256], alpn[16 + 256];
	char hash[32 + 2 * 64], subject[32 + 512];
	char *v[CONNENV_TLS + 1];
};

struct tlsmod {
	const char *abi;	/* TLSMOD_ABI as the module was built */
	/*
	 * A service's contexts from its settings, or NULL with *failed, the
	 * sni entry it concerns in *sni (-1: the default certificate) and
	 * OpenSSL's reason in why (tls.h).
	 */
	struct tls *(*tls_new)(const struct tls_conf *, enum tls_failed *failed,
	    int *sni, char *why, size_t len);
	void (*tls_free)(struct tls *);
	/* A server session on the non-blocking socket fd; NULL: no memory. */
	struct tlsconn *(*conn_new)(const struct tls *, int fd);
	/* The handshake within seconds: 0, or -1 with the reason in why. */
	int (*conn_handshake)(struct tlsconn *, unsigned seconds, char *why,
	    size_t len);
	void (*conn_env)(struct tlsconn *, struct tlsenv *);
	/* Bytes moved (> 0), or what stops it (enum tlsio). */
	int (*conn_read)(struct tlsconn *, void *buf, size_t len);
	int (*conn_write)(struct tlsconn *, const void *buf, size_t len);
	/* Sends close_notify, once, without waiting for the client's. */
	void (*conn_shutdown)(struct tlsconn *);
};

/*
 * The module, loaded on the first call: from the directory of the running
 * executable (a build tree: src/), else from where it is installed
 * (SOCKD_TLSMOD, the Makefile's $(TLSMODDIR)). NULL with the path and why
 * in why. Once loaded it stays: a
 * reload that drops the last TLS service keeps it mapped.
 */
const struct tlsmod *tlsmod_load(char *why, size_t len);
/* The module if it is loaded, else NULL. */
const struct tlsmod *tlsmod(void);

#endif
