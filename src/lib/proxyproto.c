/*
 * The PROXY protocol parser: bytes in, a verdict and the addresses out.
 * Follows HAProxy's doc/proxy-protocol.txt to the letter and refuses what
 * it does not describe; never guesses, never touches a socket. Which
 * connections may send a header, and reading it, are proxywait.c's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxyproto.h"

static const uint8_t v2_sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A,
    0x51, 0x55, 0x49, 0x54, 0x0A };
static const char v1_sig[] = "PROXY ";

/* v2's fourth 4-bit fields: the command, the family and the transport. */
#define V2_CMD_LOCAL 0x0
#define V2_CMD_PROXY 0x1
#define V2_AF_UNSPEC 0x0
#define V2_AF_INET 0x1
#define V2_AF_INET6 0x2
#define V2_AF_UNIX 0x3
#define V2_TRANSPORT_STREAM 0x1
/* Address block lengths for TCP over IPv4 and IPv6. */
#define V2_LEN_INET 12
#define V2_LEN_INET6 36

/* The TLV types sockd reads; the others are skipped whole. */
#define TLV_ALPN 0x01
#define TLV_AUTHORITY 0x02
#define TLV_UNIQUE_ID 0x05
#define TLV_SSL 0x20
#define TLV_SSL_VERSION 0x21
#define TLV_SSL_CN 0x22
#define TLV_SSL_CLIENT_SSL 0x01
/* The SSL TLV's own fields before its sub-TLVs: client (1), verify (4). */
#define TLV_SSL_FIXED 5

const char *
proxyproto_error_text(enum proxyproto_error e)
{
	static const char *const text[PROXYPROTO_NERRORS] = {
		[PROXYPROTO_OK] = "no error",
		[PROXYPROTO_SIGNATURE] = "not a PROXY protocol header",
		[PROXYPROTO_NOT_ALLOWED] = "a PROXY protocol version the service "
		    "does not accept",
		[PROXYPROTO_VERSION] = "unknown PROXY protocol v2 version",
		[PROXYPROTO_COMMAND] = "unknown PROXY protocol v2 command",
		[PROXYPROTO_FAMILY] = "address family not TCP over IPv4 or IPv6",
		[PROXYPROTO_LENGTH] = "PROXY protocol v2 length does not fit",
		[PROXYPROTO_V1_LONG] = "PROXY protocol v1 line longer than 107 bytes",
		[PROXYPROTO_V1_SYNTAX] = "malformed PROXY protocol v1 line",
		[PROXYPROTO_TLV] = "PROXY protocol v2 TLV overruns the header",
	};

	return e < PROXYPROTO_NERRORS ? text[e] : "?";
}

static int
fail(enum proxyproto_error *err, enum proxyproto_error e)
{
	*err = e;
	return -1;
}

/* A decimal port: 1 to 5 digits, no leading zero but for "0" itself. */
static bool
v1_port(const char *s, uint16_t *port)
{
	size_t n = strlen(s);
	unsigned long v = 0;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = htons(v);
	return true;
}

/* One address of a v1 line into ss, which must be of family af. */
static int
v1_addr(int af, const char *s, const char *port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		if (inet_pton(AF_INET, s, &sin->sin_addr) != 1)
			return strchr(s, ':') ? PROXYPROTO_FAMILY : PROXYPROTO_V1_SYNTAX;
		return v1_port(port, &sin->sin_port) ? 0 : PROXYPROTO_V1_SYNTAX;
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) != 1)
		return strchr(s, ':') ? PROXYPROTO_V1_SYNTAX : PROXYPROTO_FAMILY;
	return v1_port(port, &sin6->sin6_port) ? 0 : PROXYPROTO_V1_SYNTAX;
}

/*
 * The fields of a whole v1 line (CRLF cut off): "TCP4 src dst sport dport",
 * single spaces, or "UNKNOWN" followed by anything.
 */
static int
v1_fields(char *line, struct proxyproto_hdr *h, enum proxyproto_error *err)
{
	char *f[6], *p = line;
	int n = 0, af, e;

	if (strcmp(line, "UNKNOWN") == 0 || strncmp(line, "UNKNOWN ", 8) == 0) {
		h->local = true;
		return 0;
	}
	while (n < 6) {
		f[n++] = p;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		*p++ = '\0';
	}
	if (n != 5)
		return fail(err, PROXYPROTO_V1_SYNTAX);
	if (strcmp(f[0], "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(f[0], "TCP6") == 0)
		af = AF_INET6;
	else
		return fail(err, PROXYPROTO_V1_SYNTAX);
	if ((e = v1_addr(af, f[1], f[3], &h->src)) != 0 ||
	    (e = v1_addr(af, f[2], f[4], &h->dst)) != 0)
		return fail(err, e);
	return 0;
}

static int
parse_v1(const uint8_t *buf, size_t len, struct proxyproto_hdr *h,
    enum proxyproto_error *err)
{
	/* The CR is at index 105 at the latest: 107 bytes with the LF. */
	size_t lim = len < PROXYPROTO_V1_MAX - 1 ? len : PROXYPROTO_V1_MAX - 1;
	char line[PROXYPROTO_V1_MAX];
	size_t i;

	for (i = 0; i < lim && buf[i] != '\r'; i++)
		/* Printable US-ASCII and spaces only. */
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return fail(err, PROXYPROTO_V1_SYNTAX);
	if (i == PROXYPROTO_V1_MAX - 1)
		return fail(err, PROXYPROTO_V1_LONG);
	if (i + 1 >= len)
		return 0;
	if (buf[i + 1] != '\n')
		return fail(err, PROXYPROTO_V1_SYNTAX);
	memcpy(line, buf + sizeof(v1_sig) - 1, i - (sizeof(v1_sig) - 1));
	line[i - (sizeof(v1_sig) - 1)] = '\0';
	h->version = 1;
	if (v1_fields(line, h, err) == -1)
		return -1;
	return i + 2;
}

/* Copies a TLV value when it is printable ASCII and fits; else leaves "". */
static void
tlv_text(char *dst, size_t size, const uint8_t *v, size_t n)
{
	if (n == 0 || n >= size)
		return;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* Walks the TLVs in [p, end): each must end within it. */
static int
v2_tlvs(const uint8_t *p, const uint8_t *end, struct proxyproto_tlvs *t,
    bool in_ssl)
{
	while (p < end) {
		if (end - p < 3)
			return -1;
		size_t n = (size_t)p[1] << 8 | p[2];
		const uint8_t *v = p + 3;
		if ((size_t)(end - v) < n)
			return -1;
		switch (in_ssl ? p[0] | 0x100 : p[0]) {
		case TLV_ALPN:
			tlv_text(t->alpn, sizeof(t->alpn), v, n);
			break;
		case TLV_AUTHORITY:
			tlv_text(t->authority, sizeof(t->authority), v, n);
			break;
		case TLV_UNIQUE_ID:
			tlv_text(t->unique_id, sizeof(t->unique_id), v, n);
			break;
		case TLV_SSL:
			if (n < TLV_SSL_FIXED)
				return -1;
			t->ssl = v[0] & TLV_SSL_CLIENT_SSL;
			if (v2_tlvs(v + TLV_SSL_FIXED, v + n, t, true) == -1)
				return -1;
			break;
		case TLV_SSL_VERSION | 0x100:
			tlv_text(t->ssl_version, sizeof(t->ssl_version), v, n);
			break;
		case TLV_SSL_CN | 0x100:
			tlv_text(t->ssl_cn, sizeof(t->ssl_cn), v, n);
			break;
		}
		p = v + n;
	}
	return 0;
}

/* The addresses of a v2 PROXY command over TCP; returns their length. */
static int
v2_addrs(const uint8_t *a, size_t len, unsigned af, struct proxyproto_hdr *h,
    enum proxyproto_error *err)
{
	if (af == V2_AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&h->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&h->dst;
		if (len < V2_LEN_INET)
			return fail(err, PROXYPROTO_LENGTH);
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&d->sin_addr, a + 4, 4);
		memcpy(&s->sin_port, a + 8, 2);
		memcpy(&d->sin_port, a + 10, 2);
		return V2_LEN_INET;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&h->src;
	struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)&h->dst;
	if (len < V2_LEN_INET6)
		return fail(err, PROXYPROTO_LENGTH);
	s6->sin6_family = d6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, a, 16);
	memcpy(&d6->sin6_addr, a + 16, 16);
	memcpy(&s6->sin6_port, a + 32, 2);
	memcpy(&d6->sin6_port, a + 34, 2);
	return V2_LEN_INET6;
}

static int
parse_v2(const uint8_t *buf, size_t len, struct proxyproto_hdr *h,
    enum proxyproto_error *err)
{
	size_t body;
	int used = 0;

	if (len > 12 && (buf[12] >> 4) != 2)
		return fail(err, PROXYPROTO_VERSION);
	if (len > 12 && (buf[12] & 0xf) > V2_CMD_PROXY)
		return fail(err, PROXYPROTO_COMMAND);
	if (len < PROXYPROTO_V2_FIXED)
		return 0;
	body = (size_t)buf[14] << 8 | buf[15];
	if (body > PROXYPROTO_MAX - PROXYPROTO_V2_FIXED)
		return fail(err, PROXYPROTO_LENGTH);
	if (len < PROXYPROTO_V2_FIXED + body)
		return 0;
	h->version = 2;
	unsigned af = buf[13] >> 4, transport = buf[13] & 0xf;
	const uint8_t *a = buf + PROXYPROTO_V2_FIXED;
	if ((buf[12] & 0xf) == V2_CMD_LOCAL || af == V2_AF_UNSPEC)
		h->local = true;
	else if ((af != V2_AF_INET && af != V2_AF_INET6) ||
	    transport != V2_TRANSPORT_STREAM)
		return fail(err, PROXYPROTO_FAMILY);
	else if ((used = v2_addrs(a, body, af, h, err)) == -1)
		return -1;
	/* A LOCAL header still says how long its address block is. */
	if (h->local && af == V2_AF_INET && body >= V2_LEN_INET)
		used = V2_LEN_INET;
	else if (h->local && af == V2_AF_INET6 && body >= V2_LEN_INET6)
		used = V2_LEN_INET6;
	else if (h->local && af == V2_AF_UNIX && body >= 216)
		used = 216;
	else if (h->local)
		used = body;
	if (v2_tlvs(a + used, a + body, &h->tlv, false) == -1)
		return fail(err, PROXYPROTO_TLV);
	return PROXYPROTO_V2_FIXED + body;
}

/* Whether buf (len bytes) is a prefix of sig, or sig a prefix of buf. */
static bool
starts(const uint8_t *buf, size_t len, const void *sig, size_t n)
{
	return memcmp(buf, sig, len < n ? len : n) == 0;
}

int
proxyproto_parse(const uint8_t *buf, size_t len, unsigned modes,
    struct proxyproto_hdr *h, enum proxyproto_error *err)
{
	memset(h, 0, sizeof(*h));
	*err = PROXYPROTO_OK;
	if (len == 0)
		return 0;
	if (starts(buf, len, v1_sig, sizeof(v1_sig) - 1)) {
		if (!(modes & PROXYPROTO_V1))
			return fail(err, PROXYPROTO_NOT_ALLOWED);
		return len < sizeof(v1_sig) - 1 ? 0 : parse_v1(buf, len, h, err);
	}
	if (starts(buf, len, v2_sig, sizeof(v2_sig))) {
		if (!(modes & PROXYPROTO_V2))
			return fail(err, PROXYPROTO_NOT_ALLOWED);
		return parse_v2(buf, len, h, err);
	}
	return fail(err, PROXYPROTO_SIGNATURE);
}
