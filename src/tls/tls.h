/*
 * A TLS service's OpenSSL context, built from its plain settings
 * (config.h's struct tls_conf) by the master when the service starts and
 * at each reload, and by the loader to check them. Reads the files as the
 * user sockd runs as; never logs. The functions are the TLS module's
 * (tlsmod.h): sockd calls them through its table; struct tls it reads.
 */
#ifndef SOCKD_TLS_H
#define SOCKD_TLS_H

#include <stddef.h>

#include "config.h"

#include <stdbool.h>

struct ssl_ctx_st;

/* A service's contexts: the default, and one per sni entry. */
struct tls {
	struct ssl_ctx_st *ctx;
	struct ssl_ctx_st **sni;	/* conf->nsni of them */
	const struct tls_conf *conf;
	/* When each leaf certificate starts and ends being valid, in seconds
	 * since the epoch, the default's first (0: unknown), for the loader's
	 * checks and the metrics. */
	long long *not_before, *not_after;
};

/* Which setting a context could not take. */
enum tls_failed { TLS_FAILED_NONE, TLS_FAILED_CERTIFICATE, TLS_FAILED_KEY,
    TLS_FAILED_MATCH, TLS_FAILED_CA, TLS_FAILED_CIPHERS,
    TLS_FAILED_CIPHERSUITES, TLS_FAILED_OTHER };

/*
 * The contexts, or NULL with *failed, the sni entry it concerns in *sni
 * (-1: the default certificate) and OpenSSL's reason in why. Sessions are
 * not cached: each connection is a process of its own. With
 * session_tickets they resume by tickets, whose key every child shares,
 * being a copy of the master that made the context: a new key with each
 * context, at the service's start and each reload.
 */
struct tls *tls_new(const struct tls_conf *, enum tls_failed *failed,
    int *sni, char *why, size_t len);
void tls_free(struct tls *);
/* OpenSSL's last error as text (the queue emptied), or dflt. */
void tls_error(char *why, size_t len, const char *dflt);

#endif
