/*
 * A TLS service's OpenSSL context, built from its plain settings
 * (config.h's struct tls_conf) by the master when the service starts and
 * at each reload, and by the loader to check them. Reads the files as the
 * user sockd runs as; never logs.
 */
#ifndef SOCKD_TLS_H
#define SOCKD_TLS_H

#include <stddef.h>

#include "config.h"

struct ssl_ctx_st;

/* Which setting a context could not take. */
enum tls_failed { TLS_FAILED_NONE, TLS_FAILED_CERTIFICATE, TLS_FAILED_KEY,
    TLS_FAILED_MATCH, TLS_FAILED_CA, TLS_FAILED_CIPHERS,
    TLS_FAILED_CIPHERSUITES, TLS_FAILED_OTHER };

/*
 * The context, or NULL with *failed and OpenSSL's reason in why. Sessions
 * are neither cached nor ticketed: each connection is a process of its
 * own, which would need a cache shared across them.
 */
struct ssl_ctx_st *tls_ctx_new(const struct tls_conf *, enum tls_failed *failed,
    char *why, size_t len);
void tls_ctx_free(struct ssl_ctx_st *);
/* OpenSSL's last error as text (the queue emptied), or dflt. */
void tls_error(char *why, size_t len, const char *dflt);

#endif
