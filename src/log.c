#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

/* Logging state is process-wide by nature (like syslog itself). */
static bool log_stderr = true;
static bool log_verbose;

void
log_init(bool to_stderr, bool debug)
{
	log_stderr = to_stderr;
	log_verbose = debug;
	if (!to_stderr)
		log_to_syslog();
}

void
log_to_syslog(void)
{
	log_stderr = false;
	openlog("sockd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	setlogmask(LOG_UPTO(log_verbose ? LOG_DEBUG : LOG_INFO));
}

bool
log_debugging(void)
{
	return log_verbose;
}

static void
vlog(int pri, const char *fmt, va_list ap, int errnum)
{
	char msg[1024];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);

	if (n < 0)
		return;
	if (errnum && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnum));
	if (log_stderr) {
		/* One write per line keeps lines whole when children share stderr. */
		char line[1100];
		int len = snprintf(line, sizeof(line), "sockd: %s\n", msg);
		if (len > (int)sizeof(line) - 1)
			len = sizeof(line) - 1, line[len - 1] = '\n';
		if (write(STDERR_FILENO, line, len) < 0)
			return;
	} else
		syslog(pri, "%s", msg);
}

#define LOG_FN(fn, pri, use_errno, guard)			\
void								\
fn(const char *fmt, ...)					\
{								\
	int saved = errno;					\
	va_list ap;						\
	if (guard)						\
		return;						\
	va_start(ap, fmt);					\
	vlog(pri, fmt, ap, use_errno ? saved : 0);		\
	va_end(ap);						\
	errno = saved;						\
}

LOG_FN(log_warn, LOG_WARNING, 1, 0)
LOG_FN(log_warnx, LOG_WARNING, 0, 0)
LOG_FN(log_info, LOG_INFO, 0, 0)
LOG_FN(log_debug, LOG_DEBUG, 0, !log_verbose)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, saved);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}
