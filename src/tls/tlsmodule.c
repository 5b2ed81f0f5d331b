/*
 * The TLS module's one exported symbol (tlsmod.h): its table. The module
 * is built with hidden visibility; this alone is seen by dlsym().
 */
#include "tlsconn.h"

__attribute__((visibility("default")))
extern const struct tlsmod sockd_tlsmod;

const struct tlsmod sockd_tlsmod = {
	.abi = TLSMOD_ABI,
	.tls_new = tls_new,
	.tls_free = tls_free,
	.conn_new = tlsconn_new,
	.conn_handshake = tlsconn_handshake,
	.conn_env = tlsconn_env,
	.conn_read = tlsconn_read,
	.conn_write = tlsconn_write,
	.conn_shutdown = tlsconn_shutdown,
};
