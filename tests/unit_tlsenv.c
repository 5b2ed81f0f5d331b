/*
 * What a TLS connection's root child takes from its relay (tlsenv.h): the
 * fields an honest relay sends, and what a relay the client took over
 * might send instead: a variable of another name, a value with no end,
 * too few or too many bytes.
 */
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "tlsenv.h"

/* What an honest relay sends (tlsconn.c's conn_env): no client
 * certificate, a server name, no ALPN. */
static struct tlsenv
honest(void)
{
	struct tlsenv e;

	memset(&e, 0, sizeof(e));
	snprintf(e.proto, sizeof(e.proto), "SSL_PROTOCOL=TLSv1.3");
	snprintf(e.cipher, sizeof(e.cipher), "SSL_CIPHER=TLS_AES_256_GCM_SHA384");
	snprintf(e.sni, sizeof(e.sni), "SSL_TLS_SNI_SERVERNAME=example.test");
	return e;
}

START_TEST(honest_fields)
{
	struct tlsenv sent = honest(), e;

	memset(&e, 0xff, sizeof(e));
	ck_assert(tlsenv_take(&e, &sent, TLSENV_WIRE));
	ck_assert_str_eq(e.v[0], "SSL_PROTOCOL=TLSv1.3");
	ck_assert_str_eq(e.v[1], "SSL_CIPHER=TLS_AES_256_GCM_SHA384");
	ck_assert_str_eq(e.v[2], "SSL_TLS_SNI_SERVERNAME=example.test");
	ck_assert_ptr_null(e.v[3]);
	/* Into e, not the sender's bytes. */
	ck_assert_ptr_eq(e.v[0], e.proto);
	ck_assert_ptr_eq(e.v[2], e.sni);
}
END_TEST

/* Any field naming another variable refuses them all: a loader's, or one
 * of the family in another field's place, or the name without its '='. */
#define FIELD(f) offsetof(struct tlsenv, f), sizeof(((struct tlsenv *)0)->f)

START_TEST(forged_names)
{
	static const struct {
		size_t off, len;
		const char *text;
	} forged[] = {
		{ FIELD(proto), "LD_PRELOAD=/tmp/evil.so" },
		{ FIELD(cipher), "LD_LIBRARY_PATH=/tmp" },
		{ FIELD(sni), "PATH=/tmp" },
		{ FIELD(alpn), "SSL_PROTOCOL=TLSv1.3" },
		{ FIELD(subject), "SSL_PEER_CERT_SUBJECTX=" },
		{ FIELD(hash), "SSL_PEER_CERT_HASH" },
		{ FIELD(proto), "ssl_protocol=TLSv1.3" },
	};

	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		struct tlsenv sent = honest(), e;
		char *f = (char *)&sent + forged[i].off;

		memset(f, 0, forged[i].len);
		snprintf(f, forged[i].len, "%s", forged[i].text);
		ck_assert_msg(!tlsenv_take(&e, &sent, TLSENV_WIRE),
		    "%s taken", forged[i].text);
	}
}
END_TEST

/* A value that fills its field with no NUL (one longer than the field
 * holds, or no end at all) is refused, not cut. */
START_TEST(values_with_no_end)
{
	struct tlsenv sent = honest(), e;
	size_t at = strlen("SSL_TLS_SNI_SERVERNAME=");

	memset(sent.sni + at, 'a', sizeof(sent.sni) - at);
	ck_assert(!tlsenv_take(&e, &sent, TLSENV_WIRE));
	sent = honest();
	memset(sent.sni + at, 'a', sizeof(sent.sni) - 1 - at);	/* the longest */
	ck_assert(tlsenv_take(&e, &sent, TLSENV_WIRE));
	ck_assert_uint_eq(strlen(e.v[2]), sizeof(sent.sni) - 1);
	sent = honest();
	memset(sent.hash, 'x', sizeof(sent.hash));	/* the last field */
	memcpy(sent.hash, "SSL_PEER_CERT_HASH=", 19);
	ck_assert(!tlsenv_take(&e, &sent, TLSENV_WIRE));
}
END_TEST

/* Too few bytes (the relay died mid-way, or sent nothing), too many (it
 * sent more than the fields), or no protocol or cipher. */
START_TEST(wrong_sizes_and_missing_fields)
{
	struct tlsenv sent = honest(), e;
	char more[TLSENV_WIRE + 1];

	ck_assert(!tlsenv_take(&e, &sent, 0));
	ck_assert(!tlsenv_take(&e, &sent, 1));
	ck_assert(!tlsenv_take(&e, &sent, TLSENV_WIRE - 1));
	memcpy(more, &sent, TLSENV_WIRE);
	more[TLSENV_WIRE] = 'x';
	ck_assert(!tlsenv_take(&e, more, sizeof(more)));
	sent.proto[0] = '\0';
	ck_assert(!tlsenv_take(&e, &sent, TLSENV_WIRE));
	sent = honest();
	sent.cipher[0] = '\0';
	ck_assert(!tlsenv_take(&e, &sent, TLSENV_WIRE));
}
END_TEST

Suite *
tlsenv_suite(void)
{
	Suite *s = suite_create("tlsenv");

	tu_tcase(s, "tlsenv", NULL, NULL, 0, honest_fields, forged_names,
	    values_with_no_end, wrong_sizes_and_missing_fields, NULL);
	return s;
}
