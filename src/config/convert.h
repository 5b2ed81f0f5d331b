/*
 * sockd --convert PATH: an xinetd.conf (with its includedir), a directory
 * of xinetd.d files or a classic inetd.conf, printed as the equivalent
 * sockd.conf. What has no sockd equivalent is kept as a comment saying why.
 */
#ifndef SOCKD_CONVERT_H
#define SOCKD_CONVERT_H

#include <stdio.h>

/* Writes the sockd.conf to out and problems to err; returns an exit code. */
int convert_run(const char *path, FILE *out, FILE *err);

#endif
