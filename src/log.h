/* Logging: stderr while in the foreground, syslog once daemonized. */
#ifndef SOCKD_LOG_H
#define SOCKD_LOG_H

#include <stdbool.h>

void log_init(bool to_stderr, bool debug);
void log_to_syslog(void);
bool log_debugging(void);

/* log_warn appends ": strerror(errno)"; the x variants do not. */
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
