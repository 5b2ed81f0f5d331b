/* The master's table of live children: pid -> the service it serves. */
#ifndef SOCKD_CHILDREN_H
#define SOCKD_CHILDREN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "addr.h"

struct lifetime;
struct service;

struct child {
	pid_t pid;		/* 0: free slot */
	struct service *svc;
	struct timespec started;
	bool has_source;	/* counted under source in svc's per_source table */
	struct addr source;
	struct lifetime *lifetime;	/* max_lifetime timer (master.c), or NULL */
};

struct children {
	struct child *slots;
	size_t cap;		/* a power of two */
	size_t count;
};

int children_add(struct children *, pid_t, struct service *);
/* The live record of pid, or NULL; valid until the next add or take. */
struct child *children_find(struct children *, pid_t);
bool children_take(struct children *, pid_t, struct child *);
void children_free(struct children *);

#endif
