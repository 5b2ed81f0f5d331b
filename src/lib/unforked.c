/*
 * Memory kept out of fork() (MADV_DONTFORK): what the master writes on
 * its hot paths and no child reads, so forks copy no page tables for it.
 */
#include <errno.h>
#include <sys/mman.h>

#include "unforked.h"

void *
unforked_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, MADV_DONTFORK) == -1) {
		int e = errno;
		munmap(p, len);
		errno = e;
		return NULL;
	}
	return p;
}

void
unforked_free(void *p, size_t len)
{
	if (p != NULL)
		munmap(p, len);
}
