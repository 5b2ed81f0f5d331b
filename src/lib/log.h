/*
 * Logging: stderr or syslog, as text or one JSON object per line.
 * Events carry stable keys (see sockd(8)) so logs can be parsed.
 */
#ifndef SOCKD_LOG_H
#define SOCKD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

struct log_kv {
	const char *key;
	const char *str;	/* NULL: the value is num */
	long long num;
};

#define KV_S(k, v) ((struct log_kv){ .key = (k), .str = (v) })
#define KV_I(k, v) ((struct log_kv){ .key = (k), .num = (v) })

void log_init(bool to_stderr, int level);
/* to_syslog and json apply from now on; level -1 keeps the current one. */
void log_configure(bool to_syslog, bool json, int level);
/* The level alone (sockctl log-level), until the next log_configure(). */
void log_set_level(int level);
bool log_enabled(int level);
static inline bool log_debugging(void) { return log_enabled(LOG_DEBUG); }

/*
 * From begin to end, every message up to info, whatever log_level, is
 * also copied, one line each without time or level; end returns that
 * text (malloc'd, at most 64 KiB; NULL: none). For an answer that must
 * say what the log says: a reload's verdict to sockctl.
 */
void log_capture_begin(void);
char *log_capture_end(void);

void log_event(int level, const char *event, const struct log_kv *, size_t,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Logs whatever log_level says: for the readiness line supervisors wait for. */
void log_event_always(int level, const char *event, const struct log_kv *,
    size_t, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* log_warn appends ": strerror(errno)"; the x variants do not. */
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
