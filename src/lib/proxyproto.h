/*
 * The PROXY protocol header (HAProxy's doc/proxy-protocol.txt), versions 1
 * and 2, as a pure function over the bytes received so far: no socket, no
 * log, no allocation. The caller reads; this says whether the bytes hold
 * a whole header, a valid beginning of one, or something that never will.
 */
#ifndef SOCKD_PROXYPROTO_H
#define SOCKD_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Which versions a service accepts; "any" is both. */
#define PROXYPROTO_V1 1u
#define PROXYPROTO_V2 2u

/* A v1 line is at most 107 bytes with its CRLF. */
#define PROXYPROTO_V1_MAX 107
/* The fixed part of a v2 header. */
#define PROXYPROTO_V2_FIXED 16
/*
 * The longest v2 header sockd takes: addresses and the TLVs a balancer
 * sends (ALPN, authority, SSL, unique id) fit with room to spare; a
 * longer one is refused rather than buffered.
 */
#define PROXYPROTO_MAX (PROXYPROTO_V2_FIXED + 1024)

/* Why a header was rejected. */
enum proxyproto_error {
	PROXYPROTO_OK,
	PROXYPROTO_SIGNATURE,	/* neither v1's "PROXY " nor v2's signature */
	PROXYPROTO_NOT_ALLOWED,	/* a version the service does not accept */
	PROXYPROTO_VERSION,	/* v2 signature, unknown version */
	PROXYPROTO_COMMAND,	/* v2 command neither LOCAL nor PROXY */
	PROXYPROTO_FAMILY,	/* not TCP over IPv4/IPv6, or text of another family */
	PROXYPROTO_LENGTH,	/* v2 length too short for its family, or too long */
	PROXYPROTO_V1_LONG,	/* no CRLF within 107 bytes */
	PROXYPROTO_V1_SYNTAX,	/* a malformed v1 line */
	PROXYPROTO_TLV,		/* a TLV that overruns its header */
	PROXYPROTO_NERRORS
};

/* Printable TLV values a handler can use; "" when absent. */
struct proxyproto_tlvs {
	char alpn[64];
	char authority[256];	/* the host name the client asked for (SNI) */
	char unique_id[129];
	bool ssl;		/* the client connected over TLS */
	char ssl_version[32];
	char ssl_cn[256];	/* the client certificate's common name */
};

struct proxyproto_hdr {
	unsigned version;	/* 1 or 2 */
	/*
	 * The connection's real endpoints stand: v2 LOCAL (the balancer's
	 * own health check), v2 UNSPEC, v1 UNKNOWN. src and dst are unset.
	 */
	bool local;
	struct sockaddr_storage src, dst;
	struct proxyproto_tlvs tlv;
};

/*
 * Parses the first len bytes of a connection, accepting the versions in
 * modes. Returns the header's length once buf holds all of it (*h filled),
 * 0 while every byte so far can begin a valid header (then all len bytes
 * belong to the header, so the caller may consume them), or -1 with *err.
 */
int proxyproto_parse(const uint8_t *buf, size_t len, unsigned modes,
    struct proxyproto_hdr *h, enum proxyproto_error *err);

/* What the log says about an error: "bad signature", ... */
const char *proxyproto_error_text(enum proxyproto_error);

#endif
