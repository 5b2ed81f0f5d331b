/*
 * libFuzzer target for what a TLS client sends before the handshake is
 * done: the input is the client's first bytes (its ClientHello, and
 * whatever follows), read by a service's real context (src/tls/tls.c) through
 * a connection's session (src/tls/tlsconn.c), as a connection's child reads
 * them. OpenSSL parses the records; sockd's own code on that path is what
 * the context calls back with the client's values: the server name
 * matched against the sni entries (exact, case, "*." one label) and the
 * ALPN list against the service's. Besides a crash or a sanitizer report,
 * a finding is a broken promise of tlsmod.h: a handshake that fails
 * without its reason, or one that completes, which bytes written before
 * the server's answer cannot do; and the session must read nothing.
 * LLVMFuzzerInitialize makes a P-256 key and a certificate in memory for
 * the default and each sni entry. The unit suite "tlsfuzz" replays
 * tests/fuzz/corpus-tls through the same two functions.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tlsconn.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct tls *tls;

/* A certificate for cn and its key, written as PEM to the paths. */
static void
make_pair(const char *cn, const char *cert, const char *key)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *c, *p;

	if (k == NULL || x == NULL)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn,
	    -1, -1, 0);
	X509_set_issuer_name(x, n);
	if (X509_sign(x, k, EVP_sha256()) == 0 || (c = fopen(cert, "we")) == NULL ||
	    (p = fopen(key, "we")) == NULL)
		abort();
	if (PEM_write_X509(c, x) != 1 ||
	    PEM_write_PrivateKey(p, k, NULL, NULL, 0, NULL, NULL) != 1)
		abort();
	fclose(c);
	fclose(p);
	X509_free(x);
	EVP_PKEY_free(k);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/sockd-fuzz-tls.XXXXXX";
	static char paths[6][sizeof(dir) + 16];
	static const char *names[] = { "default", "a.example", "*.b.example" };
	static struct tls_sni sni[2];
	static unsigned char alpn[] = "\x02h2\x08http/1.1";
	static struct tls_conf t = { .verify = TLS_VERIFY_NONE,
	    .min_protocol = TLS_PROTO_1_2, .alpn = alpn,
	    .alpn_len = sizeof(alpn) - 1, .handshake_timeout = 1,
	    .sni = sni, .nsni = 2, .session_tickets = true };
	enum tls_failed failed;
	char why[256];
	int at;

	(void)argc;
	(void)argv;
	if (tls || mkdtemp(dir) == NULL)
		return 0;
	for (int i = 0; i < 3; i++) {
		snprintf(paths[2 * i], sizeof(paths[0]), "%s/%d.pem", dir, i);
		snprintf(paths[2 * i + 1], sizeof(paths[0]), "%s/%d.key", dir, i);
		make_pair(names[i], paths[2 * i], paths[2 * i + 1]);
	}
	t.certificate = paths[0];
	t.key = paths[1];
	for (int i = 0; i < 2; i++)
		sni[i] = (struct tls_sni){ (char *)names[i + 1], paths[2 * i + 2],
		    paths[2 * i + 3] };
	if ((tls = tls_new(&t, &failed, &at, why, sizeof(why))) == NULL) {
		fprintf(stderr, "fuzz_tls: no context: %s\n", why);
		abort();
	}
	for (int i = 0; i < 6; i++)
		unlink(paths[i]);
	rmdir(dir);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsconn *c;
	char why[256] = "", buf[64];
	int sv[2], r;

	if (tls == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	/* The client's bytes wait in the socket, then its end: a handshake
	 * that wants more fails at once instead of at the timeout. */
	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv) == -1)
		return 0;
	if ((size && write(sv[0], data, size) != (ssize_t)size) ||
	    shutdown(sv[0], SHUT_WR) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1 ||
	    (c = tlsconn_new(tls, sv[1])) == NULL)
		abort();
	r = tlsconn_handshake(c, 1, why, sizeof(why));
	if (r == 0 || why[0] == '\0')
		abort();
	if (tlsconn_read(c, buf, sizeof(buf)) > 0)
		abort();
	tlsconn_free(c);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
