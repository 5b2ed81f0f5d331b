/*
 * Each field is checked for its own name, so that the relay can name no
 * other variable (LD_PRELOAD, say) for a handler that may run as another
 * user than the relay, or as root; v is rebuilt here, and none of the
 * sender's pointers is read.
 */
#include <string.h>

#include "tlsenv.h"

static const struct {
	size_t off, len;
	const char *name;
	bool required;
} fields[] = {
	{ offsetof(struct tlsenv, proto), sizeof(((struct tlsenv *)0)->proto),
	    "SSL_PROTOCOL=", true },
	{ offsetof(struct tlsenv, cipher), sizeof(((struct tlsenv *)0)->cipher),
	    "SSL_CIPHER=", true },
	{ offsetof(struct tlsenv, sni), sizeof(((struct tlsenv *)0)->sni),
	    "SSL_TLS_SNI_SERVERNAME=", false },
	{ offsetof(struct tlsenv, alpn), sizeof(((struct tlsenv *)0)->alpn),
	    "SSL_ALPN=", false },
	{ offsetof(struct tlsenv, subject), sizeof(((struct tlsenv *)0)->subject),
	    "SSL_PEER_CERT_SUBJECT=", false },
	{ offsetof(struct tlsenv, hash), sizeof(((struct tlsenv *)0)->hash),
	    "SSL_PEER_CERT_HASH=", false },
};

bool
tlsenv_take(struct tlsenv *e, const void *wire, size_t len)
{
	size_t n = 0;

	if (len != TLSENV_WIRE)
		return false;
	memcpy(e, wire, TLSENV_WIRE);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char *v = (char *)e + fields[i].off;

		if (memchr(v, '\0', fields[i].len) == NULL)
			return false;
		if (v[0] == '\0' && !fields[i].required)
			continue;
		if (strncmp(v, fields[i].name, strlen(fields[i].name)) != 0)
			return false;
		e->v[n++] = v;
	}
	e->v[n] = NULL;
	return true;
}
