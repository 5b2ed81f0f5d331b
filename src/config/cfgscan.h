/*
 * What libconfig 1.5 reads, made safe before it reads it. The loader never
 * lets libconfig open a file: cfgscan_file() reads the main file and every
 * file it @includes itself, checks the raw text, and hands libconfig sealed
 * in-memory copies (memfds) in which each @include names another copy.
 *
 * The checks close libconfig 1.5's fatal and unbounded paths: it calls
 * exit() when an @include names a directory, blocks for good in open() on
 * a FIFO, stops a string at a NUL byte and reads on, truncates big integer
 * literals, puts its include directory in front of absolute paths, and
 * scans a long token in quadratic time. Here every file must be a regular
 * file, opened without blocking; NUL bytes, over-long lines and strings,
 * and too much text in all are errors. Big integers are noted for the
 * setting they belong to (cfgscan_bigint()).
 *
 * Logs nothing; errors are "FILE:LINE: message" entries of a struct cfgerr.
 * This file can go the day libconfig 1.7 (include hook, 64-bit integers,
 * linear scanner) is required.
 */
#ifndef SOCKD_CFGSCAN_H
#define SOCKD_CFGSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Bounds on what a configuration may hold (sockd.conf(5), LIMITS). */
#define CFGSCAN_FILE_MAX	(1024 * 1024)	/* bytes in one file */
#define CFGSCAN_TOTAL_MAX	(8 * 1024 * 1024)	/* bytes read in one load */
#define CFGSCAN_LINE_MAX	(16 * 1024)
#define CFGSCAN_STRING_MAX	(16 * 1024)
#define CFGSCAN_DEPTH_MAX	10	/* @include nesting, as libconfig */
#define CFGSCAN_FILES_MAX	256	/* distinct files behind one read */

struct cfgscan_copy;
struct cfgscan_bigint;

struct cfgscan {
	struct cfgerr *err;
	const char *dir;		/* relative @include names start here */
	struct cfgscan_copy *copies;	/* the files behind the open reads */
	size_t ncopies;
	unsigned reads;			/* cfgscan_file() calls not released */
	size_t total;			/* bytes libconfig will scan, all reads */
	struct cfgscan_bigint *bigints;
	size_t nbigints;
};

/*
 * Reads path and what it includes. Returns the name libconfig is to read
 * (config_read_file(), with config_set_include_dir(CFGSCAN_INCLUDE_DIR)),
 * valid until the next call; the copies live until cfgscan_release().
 * NULL after reporting errors.
 */
#define CFGSCAN_INCLUDE_DIR "/proc/self/fd"
const char *cfgscan_file(struct cfgscan *, const char *path);
/* The real file behind a name libconfig reports (NULL for NULL). */
const char *cfgscan_name(const struct cfgscan *, const char *);
/*
 * Closes the copies of the last cfgscan_file() not yet released; its names
 * stop working. Reads nest: the main file stays open while the files of
 * include_dir are read one by one.
 */
void cfgscan_release(struct cfgscan *);

/*
 * Whether an integer literal libconfig 1.5 would truncate was written for
 * key at file:line. Marks it as reported; its text goes to *text.
 */
bool cfgscan_bigint(struct cfgscan *, const char *file, int line,
    const char *key, const char **text);
/* Reports the literals nobody asked about; returns their number. */
unsigned cfgscan_leftovers(struct cfgscan *);
void cfgscan_free(struct cfgscan *);

#endif
