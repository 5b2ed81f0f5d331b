/*
 * The PROXY protocol parser over hand-made headers: whole ones of each
 * kind, every prefix of them (a header split anywhere), and each way a
 * header can be wrong.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"
#include "testutil.h"

#define ANY (PROXYPROTO_V1 | PROXYPROTO_V2)

static const uint8_t sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A,
    0x51, 0x55, 0x49, 0x54, 0x0A };

static struct proxyproto_hdr h;
static enum proxyproto_error err;

/* A v2 header: sig, ver_cmd, fam, then body; returns its length. */
static size_t
v2(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const uint8_t *body,
    size_t blen)
{
	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = blen >> 8;
	out[15] = blen & 0xff;
	if (blen)	/* body may be NULL, which memcpy() never takes */
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

static size_t
tlv(uint8_t *out, uint8_t type, const void *v, size_t n)
{
	out[0] = type;
	out[1] = n >> 8;
	out[2] = n & 0xff;
	memcpy(out + 3, v, n);
	return 3 + n;
}

static int
parse(const void *buf, size_t len, unsigned modes)
{
	return proxyproto_parse(buf, len, modes, &h, &err);
}

/* Every proper prefix of buf asks for more; the whole is len bytes. */
static void
assert_prefixes_wait(const void *buf, size_t len, unsigned modes)
{
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(parse(buf, i, modes) == 0,
		    "prefix of %zu bytes: %d (%s)", i, parse(buf, i, modes),
		    proxyproto_error_text(err));
	ck_assert_int_eq(parse(buf, len, modes), (int)len);
}

static void
assert_in(const struct sockaddr_storage *ss, const char *ip, unsigned port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	char s[INET_ADDRSTRLEN];

	ck_assert_int_eq(sin->sin_family, AF_INET);
	inet_ntop(AF_INET, &sin->sin_addr, s, sizeof(s));
	ck_assert_str_eq(s, ip);
	ck_assert_uint_eq(ntohs(sin->sin_port), port);
}

static void
assert_fails(const char *s, enum proxyproto_error want)
{
	ck_assert_msg(parse(s, strlen(s), ANY) == -1, "accepted \"%s\"", s);
	ck_assert_msg(err == want, "\"%s\": %s, wanted %s", s,
	    proxyproto_error_text(err), proxyproto_error_text(want));
}

START_TEST(v1_tcp4)
{
	const char *s = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET /";

	ck_assert_int_eq(parse(s, strlen(s), ANY), 45);
	ck_assert_uint_eq(h.version, 1);
	ck_assert(!h.local);
	assert_in(&h.src, "192.0.2.1", 56324);
	assert_in(&h.dst, "198.51.100.2", 443);
	assert_prefixes_wait(s, 45, PROXYPROTO_V1);
}
END_TEST

START_TEST(v1_tcp6_and_unknown)
{
	const char *s = "PROXY TCP6 2001:db8::1 ::1 65535 0\r\n";
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&h.src;

	ck_assert_int_eq(parse(s, strlen(s), ANY), (int)strlen(s));
	ck_assert_int_eq(s6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(s6->sin6_port), 65535);
	s = "PROXY UNKNOWN\r\n";
	ck_assert_int_eq(parse(s, strlen(s), ANY), 15);
	ck_assert(h.local);
	s = "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n";
	ck_assert_int_eq(parse(s, strlen(s), ANY), (int)strlen(s));
	ck_assert(h.local);
}
END_TEST

/* The longest line is 107 bytes with its CRLF; one more is refused. */
START_TEST(v1_length_limit)
{
	char line[200];
	/* UNKNOWN lets the line be padded to any length. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memcpy(line + 105, "\r\n", 2);
	ck_assert_int_eq(parse(line, 107, ANY), 107);
	memcpy(line + 105, "x\r\n", 3);
	ck_assert_int_eq(parse(line, 108, ANY), -1);
	ck_assert_int_eq(err, PROXYPROTO_V1_LONG);
	/* Even before the rest has come. */
	ck_assert_int_eq(parse(line, 106, ANY), -1);
	ck_assert_int_eq(parse(line, 105, ANY), 0);
}
END_TEST

START_TEST(v1_malformed)
{
	assert_fails("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n", PROXYPROTO_V1_SYNTAX);
	assert_fails("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\rx", PROXYPROTO_V1_SYNTAX);
	assert_fails("PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n",
	    PROXYPROTO_V1_SYNTAX);
	assert_fails("PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n", PROXYPROTO_V1_SYNTAX);
	assert_fails("PROXY TCP4 192.0.2.1 198.51.100.2 1 2 3\r\n",
	    PROXYPROTO_V1_SYNTAX);
	assert_fails("PROXY TCP4 192.0.2.1 198.51.100.2 65536 2\r\n",
	    PROXYPROTO_V1_SYNTAX);
	assert_fails("PROXY TCP4 192.0.2.1 198.51.100.2 01 2\r\n",
	    PROXYPROTO_V1_SYNTAX);
	assert_fails("PROXY TCP4 192.0.2.1 198.51.100.2 -1 2\r\n",
	    PROXYPROTO_V1_SYNTAX);
	assert_fails("PROXY TCP4 192.0.2.256 198.51.100.2 1 2\r\n",
	    PROXYPROTO_V1_SYNTAX);
	assert_fails("PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n",
	    PROXYPROTO_V1_SYNTAX);
	assert_fails("PROXY tcp4 192.0.2.1 198.51.100.2 1 2\r\n",
	    PROXYPROTO_V1_SYNTAX);
	assert_fails("PROXY \r\n", PROXYPROTO_V1_SYNTAX);
	assert_fails("PROXY TCP4 192.0.2.1\t198.51.100.2 1 2\r\n",
	    PROXYPROTO_V1_SYNTAX);
	/* The family must match the addresses. */
	assert_fails("PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n",
	    PROXYPROTO_FAMILY);
	assert_fails("PROXY TCP6 192.0.2.1 ::1 1 2\r\n", PROXYPROTO_FAMILY);
	assert_fails("PROXY TCP6 ::1 192.0.2.1 1 2\r\n", PROXYPROTO_FAMILY);
	/* Not a header at all, or a wrong first word. */
	assert_fails("GET / HTTP/1.0\r\n", PROXYPROTO_SIGNATURE);
	assert_fails("PROXX TCP4", PROXYPROTO_SIGNATURE);
	assert_fails("proxy TCP4", PROXYPROTO_SIGNATURE);
	/* The first byte that cannot begin a header decides. */
	ck_assert_int_eq(parse("PRO", 3, ANY), 0);
	ck_assert_int_eq(parse("Q", 1, ANY), -1);
}
END_TEST

START_TEST(version_not_accepted)
{
	const char *s = "PROXY UNKNOWN\r\n";
	uint8_t b[64];
	size_t n = v2(b, 0x20, 0x00, NULL, 0);

	ck_assert_int_eq(parse(s, strlen(s), PROXYPROTO_V2), -1);
	ck_assert_int_eq(err, PROXYPROTO_NOT_ALLOWED);
	ck_assert_int_eq(parse(b, n, PROXYPROTO_V1), -1);
	ck_assert_int_eq(err, PROXYPROTO_NOT_ALLOWED);
	ck_assert_int_eq(parse(b, 1, PROXYPROTO_V1), -1);
	ck_assert_int_eq(parse(s, 1, PROXYPROTO_V2), -1);
}
END_TEST

START_TEST(v2_proxy_tcp4_with_tlvs)
{
	uint8_t body[256], b[300], ssl[64];
	size_t n = 0, sn = 0;

	memcpy(body, (uint8_t[]){ 192, 0, 2, 1, 198, 51, 100, 2, 0xdc, 0x04,
	    0x01, 0xbb }, 12);
	n = 12;
	n += tlv(body + n, 0x01, "h2", 2);
	n += tlv(body + n, 0x02, "example.org", 11);
	n += tlv(body + n, 0x04, "\0\0\0", 3);		/* NOOP, skipped */
	n += tlv(body + n, 0x05, "id-42", 5);
	ssl[0] = 0x01 | 0x02;				/* over SSL, with a cert */
	memset(ssl + 1, 0, 4);				/* verified */
	sn = 5;
	sn += tlv(ssl + sn, 0x21, "TLSv1.3", 7);
	sn += tlv(ssl + sn, 0x22, "client.example", 14);
	n += tlv(body + n, 0x20, ssl, sn);
	n += tlv(body + n, 0x30, "netns", 5);		/* skipped */
	size_t len = v2(b, 0x21, 0x11, body, n);
	memcpy(b + len, "data", 4);
	assert_prefixes_wait(b, len, PROXYPROTO_V2);
	ck_assert_int_eq(parse(b, len + 4, ANY), (int)len);
	ck_assert_uint_eq(h.version, 2);
	ck_assert(!h.local);
	assert_in(&h.src, "192.0.2.1", 56324);
	assert_in(&h.dst, "198.51.100.2", 443);
	ck_assert_str_eq(h.tlv.alpn, "h2");
	ck_assert_str_eq(h.tlv.authority, "example.org");
	ck_assert_str_eq(h.tlv.unique_id, "id-42");
	ck_assert(h.tlv.ssl);
	ck_assert_str_eq(h.tlv.ssl_version, "TLSv1.3");
	ck_assert_str_eq(h.tlv.ssl_cn, "client.example");
}
END_TEST

START_TEST(v2_tcp6_local_unspec)
{
	uint8_t body[36] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1, [31] = 1,
	    [32] = 0x30, [33] = 0x39, [34] = 0, [35] = 80 };
	uint8_t b[64];
	size_t n = v2(b, 0x21, 0x21, body, 36);
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&h.src;

	ck_assert_int_eq(parse(b, n, ANY), 52);
	ck_assert_int_eq(s6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(s6->sin6_port), 12345);
	/* LOCAL: the real endpoints stand, whatever the block holds. */
	n = v2(b, 0x20, 0x11, body, 12);
	ck_assert_int_eq(parse(b, n, ANY), 28);
	ck_assert(h.local);
	n = v2(b, 0x20, 0x00, NULL, 0);
	ck_assert_int_eq(parse(b, n, ANY), 16);
	ck_assert(h.local);
	/* PROXY over UNSPEC: the addresses are to be ignored. */
	n = v2(b, 0x21, 0x00, NULL, 0);
	ck_assert_int_eq(parse(b, n, ANY), 16);
	ck_assert(h.local);
}
END_TEST

static void
assert_v2_fails(const uint8_t *b, size_t n, enum proxyproto_error want)
{
	ck_assert_int_eq(parse(b, n, ANY), -1);
	ck_assert_msg(err == want, "%s, wanted %s", proxyproto_error_text(err),
	    proxyproto_error_text(want));
}

START_TEST(v2_malformed)
{
	uint8_t body[64] = { 192, 0, 2, 1, 198, 51, 100, 2, 0, 1, 0, 2 };
	uint8_t b[128];
	size_t n;

	/* A wrong byte anywhere in the signature. */
	for (int i = 0; i < 12; i++) {
		n = v2(b, 0x21, 0x11, body, 12);
		b[i] ^= 0x40;
		assert_v2_fails(b, n, PROXYPROTO_SIGNATURE);
	}
	n = v2(b, 0x11, 0x11, body, 12);
	assert_v2_fails(b, n, PROXYPROTO_VERSION);
	assert_v2_fails(b, 13, PROXYPROTO_VERSION);
	n = v2(b, 0x31, 0x11, body, 12);
	assert_v2_fails(b, n, PROXYPROTO_VERSION);
	n = v2(b, 0x22, 0x11, body, 12);
	assert_v2_fails(b, n, PROXYPROTO_COMMAND);
	/* Too short for the family's addresses. */
	n = v2(b, 0x21, 0x11, body, 11);
	assert_v2_fails(b, n, PROXYPROTO_LENGTH);
	n = v2(b, 0x21, 0x21, body, 12);
	assert_v2_fails(b, n, PROXYPROTO_LENGTH);
	/* Longer than sockd takes: refused on the fixed part alone. */
	n = v2(b, 0x21, 0x11, body, 12);
	b[14] = 0xff;
	assert_v2_fails(b, 16, PROXYPROTO_LENGTH);
	/* Families that are not TCP over IP. */
	n = v2(b, 0x21, 0x12, body, 12);
	assert_v2_fails(b, n, PROXYPROTO_FAMILY);
	n = v2(b, 0x21, 0x31, body, 12);
	assert_v2_fails(b, n, PROXYPROTO_FAMILY);
	n = v2(b, 0x21, 0x41, body, 12);
	assert_v2_fails(b, n, PROXYPROTO_FAMILY);
	n = v2(b, 0x21, 0x10, body, 12);
	assert_v2_fails(b, n, PROXYPROTO_FAMILY);
	/* A TLV longer than what is left, or cut in its own header. */
	tlv(body + 12, 0x01, "h2", 2);
	n = v2(b, 0x21, 0x11, body, 16);
	assert_v2_fails(b, n, PROXYPROTO_TLV);
	n = v2(b, 0x21, 0x11, body, 14);
	assert_v2_fails(b, n, PROXYPROTO_TLV);
	/* An SSL TLV too short for its fixed fields. */
	tlv(body + 12, 0x20, "\1\0\0", 3);
	n = v2(b, 0x21, 0x11, body, 18);
	assert_v2_fails(b, n, PROXYPROTO_TLV);
}
END_TEST

/* Values that are not printable are not passed on. */
START_TEST(v2_tlv_binary_dropped)
{
	uint8_t body[64] = { 192, 0, 2, 1, 198, 51, 100, 2, 0, 1, 0, 2 };
	uint8_t b[128];
	size_t n = 12;

	n += tlv(body + n, 0x05, "a\nb", 3);
	n += tlv(body + n, 0x01, "h2", 2);
	n = v2(b, 0x21, 0x11, body, n);
	ck_assert_int_eq(parse(b, n, ANY), (int)n);
	ck_assert_str_eq(h.tlv.unique_id, "");
	ck_assert_str_eq(h.tlv.alpn, "h2");
}
END_TEST

/*
 * The seeds of tests/fuzz/fuzz_proxyproto (first byte: the versions
 * accepted): each ok-* is a whole header, every prefix of it a valid
 * beginning; each bad-* is refused.
 */
struct seeds {
	int ok, bad;
};

static void
one_seed(const char *name, const uint8_t *in, size_t len, void *arg)
{
	struct seeds *n = arg;
	struct proxyproto_hdr hdr;
	enum proxyproto_error e;
	unsigned modes;
	int r;

	ck_assert_uint_gt(len, 1);
	modes = in[0] & 3 ? in[0] & 3u : ANY;
	r = proxyproto_parse(in + 1, len - 1, modes, &hdr, &e);
	if (strncmp(name, "bad-", 4) == 0) {
		ck_assert_msg(r == -1, "%s: %d", name, r);
		n->bad++;
		return;
	}
	ck_assert_msg(r > 0, "%s: %d (%s)", name, r, proxyproto_error_text(e));
	for (int k = 0; k < r; k++)
		ck_assert_msg(proxyproto_parse(in + 1, k, modes, &hdr, &e) == 0,
		    "%s: prefix %d", name, k);
	n->ok++;
}

START_TEST(fuzz_corpus)
{
	struct seeds n = { 0, 0 };

	(void)tu_corpus("tests/fuzz/corpus-proxy", one_seed, &n);
	ck_assert_int_gt(n.ok, 0);
	ck_assert_int_gt(n.bad, 0);
}
END_TEST

Suite *
proxyproto_suite(void)
{
	Suite *s = suite_create("proxyproto");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, v1_tcp4);
	tcase_add_test(tc, v1_tcp6_and_unknown);
	tcase_add_test(tc, v1_length_limit);
	tcase_add_test(tc, v1_malformed);
	tcase_add_test(tc, version_not_accepted);
	tcase_add_test(tc, v2_proxy_tcp4_with_tlvs);
	tcase_add_test(tc, v2_tcp6_local_unspec);
	tcase_add_test(tc, v2_malformed);
	tcase_add_test(tc, v2_tlv_binary_dropped);
	tcase_add_test(tc, fuzz_corpus);
	suite_add_tcase(s, tc);
	return s;
}
