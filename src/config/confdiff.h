/*
 * What a reload changes in one service: two svc_conf compared key by key
 * as the registry (keys.h) says, each difference named by its
 * configuration key with both values as the log shows them. Pure: no
 * I/O, no logging.
 */
#ifndef SOCKD_CONFDIFF_H
#define SOCKD_CONFDIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* A value longer than this is cut and ends in "...". */
#define CONFDIFF_VALUE_MAX 96
#define CONFDIFF_MAX 64

struct confdiff_key {
	const char *key;
	char old[CONFDIFF_VALUE_MAX], new[CONFDIFF_VALUE_MAX];
};

struct confdiff {
	struct confdiff_key k[CONFDIFF_MAX];
	size_t n;
};

/* Fills d with the keys whose values differ; returns how many. */
size_t confdiff_services(const struct svc_conf *old, const struct svc_conf *new,
    struct confdiff *d);
/* The same for the "sockd" section's keys that keys_global compares
 * (control, control_group). */
size_t confdiff_global(const struct global_conf *old,
    const struct global_conf *new, struct confdiff *d);
/* "instances,user": the keys, comma-separated. */
void confdiff_keys(const struct confdiff *, char *buf, size_t len);
/* "instances 4 -> 8, user \"a\" -> \"b\"". */
void confdiff_text(const struct confdiff *, char *buf, size_t len);

#endif
