/*
 * A TLS service's context (tls.h): certificate and chain, key, client
 * CAs and verification, protocol floor, ciphers and ALPN.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls.h"

void
tls_error(char *why, size_t len, const char *dflt)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(why, len, "%s", dflt);
	else
		ERR_error_string_n(e, why, len);
	ERR_clear_error();
}

/*
 * The first of the server's protocols that the client offers too. A
 * client offering none of them goes on without ALPN: the handler sees
 * no SSL_ALPN and may refuse it itself.
 */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned inlen, void *arg)
{
	const struct tls_conf *t = arg;
	unsigned char *o;

	(void)ssl;
	if (SSL_select_next_proto(&o, outlen, t->alpn, (unsigned)t->alpn_len,
	    in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = o;
	return SSL_TLSEXT_ERR_OK;
}

static int
set_files(SSL_CTX *ctx, const struct tls_conf *t, enum tls_failed *failed)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, t->certificate) != 1)
		*failed = TLS_FAILED_CERTIFICATE;
	else if (SSL_CTX_use_PrivateKey_file(ctx, t->key, SSL_FILETYPE_PEM) != 1)
		/* A key of another certificate fails here already. */
		*failed = ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH ? TLS_FAILED_MATCH : TLS_FAILED_KEY;
	else if (SSL_CTX_check_private_key(ctx) != 1)
		*failed = TLS_FAILED_MATCH;
	else if (t->ca && SSL_CTX_load_verify_locations(ctx, t->ca, NULL) != 1)
		*failed = TLS_FAILED_CA;
	else if (t->ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->ca);
		if (names == NULL)
			*failed = TLS_FAILED_CA;
		else
			SSL_CTX_set_client_CA_list(ctx, names);
	}
	return *failed == TLS_FAILED_NONE ? 0 : -1;
}

static int
set_policy(SSL_CTX *ctx, const struct tls_conf *t, enum tls_failed *failed)
{
	static const int modes[] = { [TLS_VERIFY_NONE] = SSL_VERIFY_NONE,
	    [TLS_VERIFY_OPTIONAL] = SSL_VERIFY_PEER,
	    [TLS_VERIFY_REQUIRE] = SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT };

	if (t->ciphers && SSL_CTX_set_cipher_list(ctx, t->ciphers) != 1)
		*failed = TLS_FAILED_CIPHERS;
	else if (t->ciphersuites &&
	    SSL_CTX_set_ciphersuites(ctx, t->ciphersuites) != 1)
		*failed = TLS_FAILED_CIPHERSUITES;
	else if (SSL_CTX_set_min_proto_version(ctx, t->min_protocol) != 1)
		*failed = TLS_FAILED_OTHER;
	if (*failed != TLS_FAILED_NONE)
		return -1;
	SSL_CTX_set_verify(ctx, modes[t->verify], NULL);
	/* A client that hangs up without close_notify ends its stream: the
	 * handler sees the end of its input, as with a plain connection. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (t->alpn)
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select, (void *)t);
	return 0;
}

SSL_CTX *
tls_ctx_new(const struct tls_conf *t, enum tls_failed *failed, char *why,
    size_t len)
{
	SSL_CTX *ctx;

	*failed = TLS_FAILED_NONE;
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		*failed = TLS_FAILED_OTHER;
	else if (set_files(ctx, t, failed) == 0 && set_policy(ctx, t, failed) == 0)
		return ctx;
	tls_error(why, len, "failed");
	SSL_CTX_free(ctx);
	return NULL;
}

void
tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}
