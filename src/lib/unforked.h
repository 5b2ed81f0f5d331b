/*
 * Memory the master writes on its hot paths and no child ever reads: kept
 * out of fork() (MADV_DONTFORK), so a fork copies no page tables for it and
 * the master's next write to it takes no copy-on-write fault.
 */
#ifndef SOCKD_UNFORKED_H
#define SOCKD_UNFORKED_H

#include <stddef.h>

/* len bytes of zeroed memory, or NULL with errno set. */
void *unforked_alloc(size_t len);
void unforked_free(void *, size_t len);

#endif
