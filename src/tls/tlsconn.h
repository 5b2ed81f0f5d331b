/*
 * One connection's TLS session, inside the TLS module: what tlsmod.h's
 * conn_* entries are (the module's table, tlsmodule.c, names them).
 */
#ifndef SOCKD_TLSCONN_H
#define SOCKD_TLSCONN_H

#include "tlsmod.h"

struct tlsconn *tlsconn_new(const struct tls *, int fd);
void tlsconn_free(struct tlsconn *);
int tlsconn_handshake(struct tlsconn *, unsigned seconds, char *why,
    size_t len);
void tlsconn_env(struct tlsconn *, struct tlsenv *);
int tlsconn_read(struct tlsconn *, void *buf, size_t len);
int tlsconn_write(struct tlsconn *, const void *buf, size_t len);
void tlsconn_shutdown(struct tlsconn *);

#endif
