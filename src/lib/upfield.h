/*
 * The words of one line of the upgrade's hand-over (upstate.h): a record's
 * kind, then key=value fields. A value is escaped so that it holds no
 * space, newline or other control byte (\xHH), whatever a path holds; a
 * reader ignores the keys it does not know, so a field (a new counter)
 * can be added without a new format. A leaf: never logs.
 */
#ifndef SOCKD_UPFIELD_H
#define SOCKD_UPFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The most fields a record may have: a service's counters and a few. */
#define UPFIELD_MAX 64

struct upfields {
	const char *kind;
	size_t n;
	const char *key[UPFIELD_MAX];
	const char *val[UPFIELD_MAX];
};

/* Writes " key=value", the value escaped. */
void upfield_put(FILE *, const char *key, const char *val);
/* The same, for a number. */
void upfield_put_ll(FILE *, const char *key, long long);
void upfield_put_ull(FILE *, const char *key, unsigned long long);
/*
 * Splits a line in place into its kind and fields, unescaping the values;
 * NULL, or why not (a word without "=", a bad escape, too many fields).
 */
const char *upfield_split(char *line, struct upfields *);
/* The value of key; NULL when the record has none. */
const char *upfield_get(const struct upfields *, const char *key);
/* The value of key as a number within min..max (a string into size bytes,
 * not empty); -1 when it is missing or does not fit. */
int upfield_ll(const struct upfields *, const char *key, long long min,
    long long max, long long *);
int upfield_ull(const struct upfields *, const char *key,
    unsigned long long max, unsigned long long *);
int upfield_str(const struct upfields *, const char *key, char *, size_t size);
/* Appends a field that points into another text (the older formats'
 * reader); false when the record is full. */
bool upfield_add(struct upfields *, const char *key, const char *val);

#endif
