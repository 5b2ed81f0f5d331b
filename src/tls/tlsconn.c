/*
 * One connection's TLS session (tlsmod.h's conn_*), in the connection's
 * own child: the handshake with its deadline, the variables it gives the
 * handler, and the records read and written for the relay. Part of the
 * TLS module.
 */
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tlsconn.h"

struct tlsconn {
	SSL *ssl;
	int fd;
	bool shut;
};

struct tlsconn *
tlsconn_new(const struct tls *tls, int fd)
{
	struct tlsconn *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->ssl = SSL_new(tls->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, fd) != 1) {
		if (c)
			SSL_free(c->ssl);
		free(c);
		return NULL;
	}
	c->fd = fd;
	return c;
}

/* Not in the module's table: a connection's child ends with its session.
 * The fuzz target (tests/fuzz/fuzz_tls.c) frees each. */
void
tlsconn_free(struct tlsconn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	free(c);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
tlsconn_handshake(struct tlsconn *c, unsigned seconds, char *why, size_t len)
{
	int64_t deadline = now_ms() + seconds * 1000LL;

	for (;;) {
		int r = SSL_accept(c->ssl), left;
		struct pollfd p = { .fd = c->fd };

		if (r == 1)
			return 0;
		switch (SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			p.events = POLLIN;
			break;
		case SSL_ERROR_WANT_WRITE:
			p.events = POLLOUT;
			break;
		default:
			tls_error(why, len, "the client closed the connection");
			return -1;
		}
		if ((left = (int)(deadline - now_ms())) <= 0 ||
		    poll(&p, 1, left) == 0) {
			snprintf(why, len, "no handshake within handshake_timeout "
			    "(%us)", seconds);
			return -1;
		}
	}
}

static void
env_peer(struct tlsenv *e, SSL *ssl, size_t *n)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t at;

	if (x == NULL)
		return;
	at = (size_t)snprintf(e->subject, sizeof(e->subject),
	    "SSL_PEER_CERT_SUBJECT=");
	X509_NAME_oneline(X509_get_subject_name(x), e->subject + at,
	    (int)(sizeof(e->subject) - at));
	e->v[(*n)++] = e->subject;
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1)
		return;
	at = (size_t)snprintf(e->hash, sizeof(e->hash), "SSL_PEER_CERT_HASH=SHA256:");
	for (unsigned i = 0; i < mdlen; i++)
		at += (size_t)snprintf(e->hash + at, sizeof(e->hash) - at, "%02x", md[i]);
	e->v[(*n)++] = e->hash;
}

void
tlsconn_env(struct tlsconn *c, struct tlsenv *e)
{
	const char *sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
	const unsigned char *alpn;
	unsigned alen = 0;
	size_t n = 0;

	snprintf(e->proto, sizeof(e->proto), "SSL_PROTOCOL=%s",
	    SSL_get_version(c->ssl));
	e->v[n++] = e->proto;
	snprintf(e->cipher, sizeof(e->cipher), "SSL_CIPHER=%s",
	    SSL_get_cipher_name(c->ssl));
	e->v[n++] = e->cipher;
	if (sni) {
		snprintf(e->sni, sizeof(e->sni), "SSL_TLS_SNI_SERVERNAME=%s", sni);
		e->v[n++] = e->sni;
	}
	SSL_get0_alpn_selected(c->ssl, &alpn, &alen);
	if (alen) {
		snprintf(e->alpn, sizeof(e->alpn), "SSL_ALPN=%.*s", (int)alen, alpn);
		e->v[n++] = e->alpn;
	}
	env_peer(e, c->ssl, &n);
	e->v[n] = NULL;
}

/* What a failed SSL_read or SSL_write waits for, or that it ended. */
static int
io_result(struct tlsconn *c, int r)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return TLSIO_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLSIO_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return TLSIO_EOF;
	default:
		ERR_clear_error();
		return TLSIO_FAIL;
	}
}

int
tlsconn_read(struct tlsconn *c, void *buf, size_t len)
{
	int cap = len > INT32_MAX ? INT32_MAX : (int)len;
	int r = SSL_read(c->ssl, buf, cap), n;

	if (r <= 0)
		return io_result(c, r);
	/* Records already read ahead go into the same buffer, so the relay
	 * hands the handler one write for them (tests/bench/README.md, "TLS"). */
	while (cap - r >= SSL3_RT_MAX_PLAIN_LENGTH && SSL_has_pending(c->ssl) &&
	    (n = SSL_read(c->ssl, (char *)buf + r, cap - r)) > 0)
		r += n;
	ERR_clear_error();
	return r;
}

int
tlsconn_write(struct tlsconn *c, const void *buf, size_t len)
{
	int r = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);

	/* A write that returns 0 failed: it is no end of stream. */
	return r > 0 ? r : (r = io_result(c, r)) == TLSIO_EOF ? TLSIO_FAIL : r;
}

void
tlsconn_shutdown(struct tlsconn *c)
{
	if (!c->shut)
		(void)SSL_shutdown(c->ssl);
	c->shut = true;
}
