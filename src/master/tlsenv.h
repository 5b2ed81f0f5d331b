/*
 * The handshake's variables as a TLS connection's root child receives
 * them from its relay (tlsrelay.c). The relay read the client's bytes
 * and runs as another user: it may be the client's by then, so nothing
 * it sends is trusted. Pure: no descriptor, no allocation, no log.
 */
#ifndef SOCKD_TLSENV_H
#define SOCKD_TLSENV_H

#include <stdbool.h>
#include <stddef.h>

#include "tlsmod.h"

/* What the relay sends: struct tlsenv's fields before v, whole. */
#define TLSENV_WIRE offsetof(struct tlsenv, v)

/*
 * e from the len bytes at wire. True when len is TLSENV_WIRE, each field
 * is empty or starts with its own variable's name and ends with a NUL
 * within it, and SSL_PROTOCOL and SSL_CIPHER are there: e->v then holds
 * the fields that are not empty, in e, NULL-terminated. False refuses
 * them all (a forged name such as LD_PRELOAD=, a value with no end, too
 * few or too many bytes); e is then not to be used.
 */
bool tlsenv_take(struct tlsenv *e, const void *wire, size_t len);

#endif
