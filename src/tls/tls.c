/*
 * A TLS service's context (tls.h): certificate and chain, key, client
 * CAs and verification, protocol floor, ciphers and ALPN. Part of the TLS
 * module (tlsmod.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

/* Whether a client's server name asks for pattern: the name, or a name
 * one label below a "*.domain". */
static bool
name_matches(const char *pattern, const char *name)
{
	const char *dot;

	if (strncmp(pattern, "*.", 2) != 0)
		return strcasecmp(pattern, name) == 0;
	return (dot = strchr(name, '.')) != NULL && dot != name &&
	    strcasecmp(pattern + 1, dot) == 0;
}

/* SNI: the first entry that matches gives its certificate; none, the
 * default's. */
static int
sni_select(SSL *ssl, int *alert, void *arg)
{
	const struct tls *tls = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)alert;
	for (size_t i = 0; name && i < tls->conf->nsni; i++)
		if (name_matches(tls->conf->sni[i].name, name)) {
			if (SSL_set_SSL_CTX(ssl, tls->sni[i]) == NULL)
				return SSL_TLSEXT_ERR_ALERT_FATAL;
			break;
		}
	return SSL_TLSEXT_ERR_OK;
}

static int
set_files(SSL_CTX *ctx, const struct tls_conf *t, const char *cert,
    const char *key, enum tls_failed *failed)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		*failed = TLS_FAILED_CERTIFICATE;
	else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
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
	static const int protos[] = { [TLS_PROTO_1_2] = TLS1_2_VERSION,
	    [TLS_PROTO_1_3] = TLS1_3_VERSION };
	static const int modes[] = { [TLS_VERIFY_NONE] = SSL_VERIFY_NONE,
	    [TLS_VERIFY_OPTIONAL] = SSL_VERIFY_PEER,
	    [TLS_VERIFY_REQUIRE] = SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT };

	if (t->ciphers && SSL_CTX_set_cipher_list(ctx, t->ciphers) != 1)
		*failed = TLS_FAILED_CIPHERS;
	else if (t->ciphersuites &&
	    SSL_CTX_set_ciphersuites(ctx, t->ciphersuites) != 1)
		*failed = TLS_FAILED_CIPHERSUITES;
	else if (SSL_CTX_set_min_proto_version(ctx, protos[t->min_protocol]) != 1)
		*failed = TLS_FAILED_OTHER;
	if (*failed != TLS_FAILED_NONE)
		return -1;
	SSL_CTX_set_verify(ctx, modes[t->verify], NULL);
	/* A client that hangs up without close_notify ends its stream: the
	 * handler sees the end of its input, as with a plain connection. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_CIPHER_SERVER_PREFERENCE |
	    (t->session_tickets ? 0 : SSL_OP_NO_TICKET));
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* Resuming a session with a verified client needs one. */
	(void)SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"sockd", 5);
	if (!t->session_tickets)
		SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* One read(2) for as many records as have come, not two per record
	 * (header, then body): tests/bench/README.md, "TLS". */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ctx, 4 * SSL3_RT_MAX_ENCRYPTED_LENGTH);
	if (t->alpn)
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select, (void *)t);
	return 0;
}

/* A time of the leaf certificate, in seconds since the epoch; 0: none. */
static long long
epoch(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (long long)timegm(&tm);
}

static void
set_dates(struct tls *tls, size_t i, SSL_CTX *ctx)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);

	tls->not_before[i] = x ? epoch(X509_get0_notBefore(x)) : 0;
	tls->not_after[i] = x ? epoch(X509_get0_notAfter(x)) : 0;
}

/*
 * One handshake in memory, between ctx and a client of its own, once per
 * process (until one succeeds). OpenSSL 3 fetches each algorithm from its
 * provider the first time it is used and keeps it for the process; done in
 * the master, every connection's child inherits them, where otherwise each
 * would fetch them all again and fill its own copy of the tables, a page
 * fault per page it writes (tests/bench/README.md, "TLS"). No connection's
 * crypto: this is the master's own, at a service's start.
 */
static void
warm(SSL_CTX *ctx)
{
	static bool warmed;
	SSL_CTX *cctx = NULL;
	SSL *s = NULL, *c = NULL;
	BIO *sb = NULL, *cb = NULL;

	if (warmed || (cctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (s = SSL_new(ctx)) == NULL || (c = SSL_new(cctx)) == NULL ||
	    BIO_new_bio_pair(&sb, 0, &cb, 0) != 1)
		goto out;
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	sb = cb = NULL;
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	/* TLS 1.3 takes three turns of the two; a failure ends it early. */
	for (int i = 0; i < 8 && !warmed; i++) {
		int rc = SSL_do_handshake(c), rs = SSL_do_handshake(s);

		warmed = rc == 1 && rs == 1;
		if ((rc != 1 && SSL_get_error(c, rc) != SSL_ERROR_WANT_READ) ||
		    (rs != 1 && SSL_get_error(s, rs) != SSL_ERROR_WANT_READ))
			break;
	}
out:
	SSL_free(c);
	SSL_free(s);
	BIO_free(sb);
	BIO_free(cb);
	SSL_CTX_free(cctx);
	ERR_clear_error();
}

static SSL_CTX *
ctx_new(const struct tls_conf *t, const char *cert, const char *key,
    enum tls_failed *failed)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		*failed = TLS_FAILED_OTHER;
	else if (set_files(ctx, t, cert, key, failed) == 0 &&
	    set_policy(ctx, t, failed) == 0)
		return ctx;
	SSL_CTX_free(ctx);
	return NULL;
}

struct tls *
tls_new(const struct tls_conf *t, enum tls_failed *failed, int *sni,
    char *why, size_t len)
{
	struct tls *tls = calloc(1, sizeof(*tls));

	*failed = TLS_FAILED_NONE;
	*sni = -1;
	ERR_clear_error();
	if (tls == NULL || (tls->sni = calloc(t->nsni + 1, sizeof(SSL_CTX *))) == NULL ||
	    (tls->not_before = calloc(t->nsni + 1, sizeof(long long))) == NULL ||
	    (tls->not_after = calloc(t->nsni + 1, sizeof(long long))) == NULL) {
		if (tls) {
			free(tls->sni);
			free(tls->not_before);
		}
		free(tls);
		snprintf(why, len, "out of memory");
		*failed = TLS_FAILED_OTHER;
		return NULL;
	}
	tls->conf = t;
	if ((tls->ctx = ctx_new(t, t->certificate, t->key, failed)) == NULL)
		goto fail;
	set_dates(tls, 0, tls->ctx);
	warm(tls->ctx);
	for (*sni = 0; *sni < (int)t->nsni; (*sni)++) {
		if ((tls->sni[*sni] = ctx_new(t, t->sni[*sni].certificate,
		    t->sni[*sni].key, failed)) == NULL)
			goto fail;
		set_dates(tls, (size_t)*sni + 1, tls->sni[*sni]);
	}
	*sni = -1;
	if (t->nsni) {
		SSL_CTX_set_tlsext_servername_callback(tls->ctx, sni_select);
		SSL_CTX_set_tlsext_servername_arg(tls->ctx, tls);
	}
	return tls;
fail:
	tls_error(why, len, "failed");
	tls_free(tls);
	return NULL;
}

void
tls_free(struct tls *tls)
{
	if (tls == NULL)
		return;
	SSL_CTX_free(tls->ctx);
	for (size_t i = 0; i < tls->conf->nsni; i++)
		SSL_CTX_free(tls->sni[i]);
	free(tls->sni);
	free(tls->not_before);
	free(tls->not_after);
	free(tls);
}
