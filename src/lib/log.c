/*
 * The log: stderr until the daemon detaches, syslog or stderr after, as
 * text or one JSON object per line, with the stable keys of events.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 2048

/* Logging state is process-wide by nature, like syslog itself. */
static struct {
	bool syslog_open, to_syslog, json;
	bool stamp;		/* text lines on stderr start with the time */
	int level;
	/* log_capture_begin(): messages up to info are copied here too. */
	bool capturing;
	char *cap;
	size_t caplen;
} lg = { .level = LOG_INFO };

/* A capture holds at most this much; the rest is cut. */
#define LOG_CAPTURE_MAX 65536

/*
 * Whether stderr is a stream into the journal, which stamps each line
 * itself: systemd sets JOURNAL_STREAM to that stream's "device:inode".
 */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

void
log_init(bool to_stderr, int level)
{
	log_configure(!to_stderr, false, level);
}

void
log_configure(bool to_syslog, bool json, int level)
{
	if (level >= 0)
		lg.level = level;
	lg.json = json;
	lg.to_syslog = to_syslog;
	lg.stamp = !to_syslog && !json && !stderr_is_journal();
	if (to_syslog && !lg.syslog_open) {
		openlog("sockd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		lg.syslog_open = true;
	}
}

void
log_set_level(int level)
{
	lg.level = level;
}

bool
log_enabled(int level)
{
	return level <= lg.level || (lg.capturing && level <= LOG_INFO);
}

void
log_capture_begin(void)
{
	free(lg.cap);
	lg.cap = NULL;
	lg.caplen = 0;
	lg.capturing = true;
}

char *
log_capture_end(void)
{
	char *text = lg.cap;

	lg.capturing = false;
	lg.cap = NULL;
	lg.caplen = 0;
	return text;
}

/* Appends one message and its newline; out of memory or room, it is cut. */
static void
capture(const char *msg)
{
	size_t n = strlen(msg);
	char *p;

	if (lg.caplen + n + 2 > LOG_CAPTURE_MAX ||
	    (p = realloc(lg.cap, lg.caplen + n + 2)) == NULL)
		return;
	memcpy(p + lg.caplen, msg, n);
	p[lg.caplen + n] = '\n';
	p[lg.caplen + n + 1] = '\0';
	lg.cap = p;
	lg.caplen += n + 1;
}

static const char *
level_name(int level)
{
	switch (level) {
	case LOG_CRIT:
	case LOG_ERR:		return "error";
	case LOG_WARNING:	return "warning";
	case LOG_INFO:		return "info";
	default:		return "debug";
	}
}

/* Appends s to buf as the inside of a JSON string. */
static size_t
json_str(char *buf, size_t len, size_t at, const char *s)
{
	size_t start = at;

	for (; *s && at + 7 < len; s++) {
		unsigned char c = *s;
		if (c == '"' || c == '\\') {
			buf[at++] = '\\';
			buf[at++] = c;
		} else if (c < 0x20)
			at += snprintf(buf + at, len - at, "\\u%04x", c);
		else
			buf[at++] = c;
	}
	/* Cut short: not inside a UTF-8 character, or the line is not JSON. */
	if (((unsigned char)*s & 0xc0) == 0x80) {
		while (at > start && ((unsigned char)buf[at - 1] & 0xc0) == 0x80)
			at--;
		if (at > start && (unsigned char)buf[at - 1] >= 0xc0)
			at--;
	}
	buf[at] = '\0';
	return at;
}

/* Appends ,"key":"value" (value escaped) or ,"key":num when value is NULL. */
static size_t
json_field(char *buf, size_t len, size_t at, const char *key, const char *value,
    long long num)
{
	if (at + 32 >= len)
		return at;
	at += snprintf(buf + at, len - at, ",\"");
	at = json_str(buf, len, at, key);
	if (value == NULL)
		return at + snprintf(buf + at, len - at, "\":%lld", num);
	at += snprintf(buf + at, len - at, "\":\"");
	at = json_str(buf, len - 2, at, value);
	return at + snprintf(buf + at, len - at, "\"");
}

static size_t
json_line(char *buf, size_t len, int level, const char *event,
    const struct log_kv *kv, size_t n, const char *msg)
{
	struct timeval tv;
	struct tm tm;
	size_t at;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	at = strftime(buf, len, "{\"time\":\"%Y-%m-%dT%H:%M:%S", &tm);
	at += snprintf(buf + at, len - at, ".%03ldZ\",\"level\":\"%s\"",
	    (long)tv.tv_usec / 1000, level_name(level));
	at = json_field(buf, len, at, "event", event, 0);
	for (size_t i = 0; i < n; i++)
		at = json_field(buf, len, at, kv[i].key, kv[i].str, kv[i].num);
	at = json_field(buf, len - 2, at, "msg", msg, 0);
	return at + snprintf(buf + at, len - at, "}");
}

/* Writes "2026-12-01 04:12:09.123 " (local time); returns its length. */
static int
text_stamp(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	return snprintf(buf + 19, len - 19, ".%03ld ", (long)tv.tv_usec / 1000) + 19;
}

/* always: whatever log_level says. */
static void
vlog(int level, bool always, const char *event, const struct log_kv *kv,
    size_t n, int errnum, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX * 2];
	int len = vsnprintf(msg, sizeof(msg), fmt, ap);

	if (len < 0)
		return;
	if (errnum && (size_t)len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(errnum));
	if (lg.capturing && level <= LOG_INFO)
		capture(msg);
	if (level > lg.level && !always)
		return;
	if (lg.json)
		len = json_line(line, sizeof(line) - 1, level, event, kv, n, msg);
	else if (lg.stamp) {
		int at = text_stamp(line, sizeof(line) - 1);
		len = at + snprintf(line + at, sizeof(line) - 1 - at, "sockd: %s", msg);
	}
	else
		len = snprintf(line, sizeof(line) - 1, "%s%s", lg.to_syslog ? "" : "sockd: ", msg);
	if (len > (int)sizeof(line) - 2)
		len = sizeof(line) - 2;
	if (lg.to_syslog) {
		syslog(level, "%s", line);
		return;
	}
	/* One write per line keeps lines whole when children share stderr. */
	line[len++] = '\n';
	(void)!write(STDERR_FILENO, line, len);
}

void
log_event(int level, const char *event, const struct log_kv *kv, size_t n,
    const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vlog(level, false, event, kv, n, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_event_always(int level, const char *event, const struct log_kv *kv,
    size_t n, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(level, true, event, kv, n, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

#define LOG_FN(fn, pri, use_errno)				\
void								\
fn(const char *fmt, ...)					\
{								\
	int saved = errno;					\
	va_list ap;						\
	if (!log_enabled(pri))					\
		return;						\
	va_start(ap, fmt);					\
	vlog(pri, false, "log", NULL, 0, use_errno ? saved : 0, fmt, ap); \
	va_end(ap);						\
	errno = saved;						\
}

LOG_FN(log_warn, LOG_WARNING, 1)
LOG_FN(log_warnx, LOG_WARNING, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_debug, LOG_DEBUG, 0)
