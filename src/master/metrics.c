/*
 * The counters as Prometheus text (exposition format 0.0.4): per service
 * from struct service_stats, daemon-wide from struct sockd. Owns the
 * names, labels and help texts sockd(8) lists, and the bounds of the
 * handler lifetime histogram. Formats only: serving the text is scrape.c.
 * No address ever goes into a label. The master's own process_* figures
 * are named as Prometheus's client libraries name theirs, so the
 * dashboards made for those work.
 */

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "sockd.h"
#include "tls.h"

/* Handler lifetimes, in milliseconds: from a quick answer to max_lifetime
 * scales. The bucket above the last is le="+Inf". */
static const unsigned duration_bounds[] = { 5, 10, 25, 50, 100, 250, 500,
    1000, 2500, 5000, 10000, 30000, 60000, 300000 };
_Static_assert(sizeof(duration_bounds) / sizeof(duration_bounds[0]) ==
    SERVICE_DURATION_BOUNDS, "service.h's SERVICE_DURATION_BOUNDS");
/* The same bounds in seconds, as the le labels give them ("%g"). */
static const char *const duration_le[] = { "0.005", "0.01", "0.025", "0.05",
    "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "300" };
_Static_assert(sizeof(duration_le) / sizeof(duration_le[0]) ==
    SERVICE_DURATION_BOUNDS, "a label for each bound");

/*
 * The text's size the last time, so that the next starts with room for
 * it, and the header space scrape.c asks for in front.
 */
static size_t last_cap;

/* A growing text; once out of memory it stays failed. */
struct mtext {
	char *p;
	size_t len, cap;
	bool failed;
};

static void __attribute__((format(printf, 2, 3)))
put(struct mtext *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (int round = 0; round < 2 && !t->failed; round++) {
		va_start(ap, fmt);
		n = vsnprintf(t->p ? t->p + t->len : NULL, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += n;
			return;
		}
		size_t cap = t->cap * 2 > t->len + n + 1 ? t->cap * 2 :
		    t->len + n + 1024;
		char *p = realloc(t->p, cap);
		if (p == NULL)
			t->failed = true;
		else {
			t->p = p;
			t->cap = cap;
		}
	}
}

/* Room for len more bytes; false once out of memory. */
static bool
room(struct mtext *t, size_t len)
{
	size_t cap;
	char *p;

	if (t->failed)
		return false;
	if (t->len + len < t->cap)
		return true;
	cap = t->cap * 2 > t->len + len + 1 ? t->cap * 2 : t->len + len + 1024;
	if ((p = realloc(t->p, cap)) == NULL) {
		t->failed = true;
		return false;
	}
	t->p = p;
	t->cap = cap;
	return true;
}

/* The text for s, len bytes, at p; the byte after it. */
static char *
append(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

static void
put_s(struct mtext *t, const char *str)
{
	size_t len = strlen(str);

	if (room(t, len))
		t->len = append(t->p + t->len, str, len) - t->p;
}

/*
 * One series line, NAME{service="SVC"} VALUE or, with a label k,
 * NAME{service="SVC",K="V"} VALUE: the lines, about 800 a scrape of 22
 * services, are written with one check for room each rather than printf,
 * whose parsing of the format was most of a scrape's time.
 */
static void
series(struct mtext *t, const char *name, const char *svc, const char *k,
    const char *v, unsigned long long value)
{
	size_t nl = strlen(name), sl = strlen(svc), kl = k ? strlen(k) : 0,
	    vl = k ? strlen(v) : 0;
	char digits[20], *d = digits + sizeof(digits), *p;

	do
		*--d = (char)('0' + value % 10);
	while ((value /= 10) != 0);
	if (!room(t, nl + sl + kl + vl + sizeof(digits) + 32))
		return;
	p = append(t->p + t->len, name, nl);
	p = append(p, "{service=\"", 10);
	p = append(p, svc, sl);
	if (k) {
		p = append(p, "\",", 2);
		p = append(p, k, kl);
		p = append(p, "=\"", 2);
		p = append(p, v, vl);
	}
	p = append(p, "\"} ", 3);
	p = append(p, d, (size_t)(digits + sizeof(digits) - d));
	*p++ = '\n';
	t->len = (size_t)(p - t->p);
}

static void
family(struct mtext *t, const char *name, const char *type, const char *help)
{
	put_s(t, "# HELP ");
	put_s(t, name);
	put_s(t, " ");
	put_s(t, help);
	put_s(t, "\n# TYPE ");
	put_s(t, name);
	put_s(t, " ");
	put_s(t, type);
	put_s(t, "\n");
}

/* Service names are letters, digits, '.', '_' and '-' (cfgservice.c), so
 * they need no escaping in a label value. */
static void
per_service(struct mtext *t, const struct sockd *sd, const char *name,
    unsigned long long (*value)(const struct service *))
{
	for (size_t i = 0; i < sd->nsvcs; i++)
		series(t, name, sd->svcs[i]->conf->name, NULL, NULL,
		    value(sd->svcs[i]));
}

static unsigned long long
v_connections(const struct service *svc)
{
	return svc->st.accepted;
}

static unsigned long long
v_handlers(const struct service *svc)
{
	return svc->nchildren;
}

static unsigned long long
v_backoffs(const struct service *svc)
{
	return svc->st.backoff_pauses;
}

/* One series per value of label, for every service; v(svc, i) gives the
 * value of names[i]. */
static void
put_by(struct mtext *t, const struct sockd *sd, const char *metric,
    const char *label, const char *const *names, int n,
    unsigned long long (*v)(const struct service *, int))
{
	for (size_t i = 0; i < sd->nsvcs; i++)
		for (int j = 0; j < n; j++)
			series(t, metric, sd->svcs[i]->conf->name, label, names[j],
			    v(sd->svcs[i], j));
}

static unsigned long long
v_refused(const struct service *svc, int r)
{
	return svc->st.refused[r];
}

static unsigned long long
v_ended(const struct service *svc, int r)
{
	const unsigned long long v[] = { svc->st.ended_ok, svc->st.ended_failed,
	    svc->st.ended_signal };

	return v[r];
}

static unsigned long long
v_paused(const struct service *svc, int r)
{
	const bool v[] = { svc->paused, svc->faulted, svc->rate_wait };

	return v[r];
}

static void
put_states(struct mtext *t, const struct sockd *sd)
{
	static const char *const ended[] = { "ok", "failed", "signal" };
	static const char *const paused[] = { "backoff", "fault", "rate" };
	const char *reasons[REFUSE_NREASONS];

	for (int r = 0; r < REFUSE_NREASONS; r++)
		reasons[r] = refuse_reason_name(r);
	family(t, "sockd_refused_total", "counter",
	    "Connections (or datagrams) refused, by reason.");
	put_by(t, sd, "sockd_refused_total", "reason", reasons, REFUSE_NREASONS,
	    v_refused);
	family(t, "sockd_handlers_ended_total", "counter",
	    "Handlers ended, by result: ok (status 0), failed, signal.");
	put_by(t, sd, "sockd_handlers_ended_total", "result", ended, 3, v_ended);
	family(t, "sockd_handlers", "gauge", "Handlers running.");
	per_service(t, sd, "sockd_handlers", v_handlers);
	family(t, "sockd_paused", "gauge", "1 while the service is not served, "
	    "by reason: backoff (fast failures), fault (out of a resource), "
	    "rate (out of rate tokens).");
	put_by(t, sd, "sockd_paused", "reason", paused, 3, v_paused);
}

static void
put_durations(struct mtext *t, const struct sockd *sd)
{
	family(t, "sockd_handler_duration_seconds", "histogram",
	    "Lifetimes of the handlers that ended.");
	for (size_t i = 0; i < sd->nsvcs; i++) {
		const struct service_stats *st = &sd->svcs[i]->st;
		const char *n = sd->svcs[i]->conf->name;
		unsigned long long cum = 0;
		for (int b = 0; b <= SERVICE_DURATION_BOUNDS; b++) {
			cum += st->duration[b];
			series(t, "sockd_handler_duration_seconds_bucket", n, "le",
			    b < SERVICE_DURATION_BOUNDS ? duration_le[b] : "+Inf", cum);
		}
		put(t, "sockd_handler_duration_seconds_sum{service=\"%s\"} %llu.%03llu\n",
		    n, st->duration_ms / 1000, st->duration_ms % 1000);
		series(t, "sockd_handler_duration_seconds_count", n, NULL, NULL, cum);
	}
}

/* The TLS services' certificates: when each expires, by the server name
 * it serves ("" for the default). Nothing without a TLS service. */
static void
put_tls(struct mtext *t, const struct sockd *sd)
{
	bool any = false;

	for (size_t i = 0; i < sd->nsvcs; i++) {
		const struct tls *tls = sd->svcs[i]->tls;
		if (tls == NULL)
			continue;
		if (!any)
			family(t, "sockd_tls_certificate_expiry_timestamp_seconds",
			    "gauge", "When a TLS service's certificate expires "
			    "(notAfter), by the server name it is for (\"\": the "
			    "default).");
		any = true;
		for (size_t k = 0; k <= tls->conf->nsni; k++)
			put(t, "sockd_tls_certificate_expiry_timestamp_seconds"
			    "{service=\"%s\",server_name=\"%s\"} %lld\n",
			    sd->svcs[i]->conf->name, k ? tls->conf->sni[k - 1].name :
			    "", tls->not_after[k]);
	}
}

static void
put_daemon(struct mtext *t, const struct sockd *sd)
{
	family(t, "sockd_children", "gauge", "Handlers running, all services.");
	put(t, "sockd_children %zu\n", sd->children.count);
	family(t, "sockd_reloads_total", "counter", "Reloads (SIGHUP), by result.");
	put(t, "sockd_reloads_total{result=\"ok\"} %llu\n"
	    "sockd_reloads_total{result=\"failed\"} %llu\n", sd->reloads_ok,
	    sd->reloads_failed);
	family(t, "sockd_last_reload_success_timestamp_seconds", "gauge",
	    "When the configuration was last loaded: the start, or the last "
	    "successful reload.");
	put(t, "sockd_last_reload_success_timestamp_seconds %lld\n",
	    (long long)(sd->last_reload ? sd->last_reload : sd->started));
	family(t, "sockd_start_time_seconds", "gauge",
	    "When sockd started, in seconds since the epoch.");
	put(t, "sockd_start_time_seconds %lld\n", (long long)sd->started);
	family(t, "sockd_build_info", "gauge", "Always 1; the version as a label.");
	put(t, "sockd_build_info{version=\"%s\"} 1\n", SOCKD_VERSION);
}

/*
 * The master's descriptors, -1 without /proc. Linux 6.2 and later give
 * their number as the directory's size: one call, where reading the
 * directory makes the kernel a dentry for each descriptor (a pidfd for
 * each child, past 256 children).
 */
static long
open_fds(void)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	long n = 0;

	if (stat("/proc/self/fd", &st) == 0 && st.st_size > 0)
		return (long)st.st_size;
	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;		/* not the directory's own */
}

/* The master alone: its handlers are processes of their own. */
static void
put_process(struct mtext *t, const struct sockd *sd)
{
	struct rusage ru;
	struct rlimit rl;
	unsigned long long vm, rss;
	long fds = open_fds(), page = sysconf(_SC_PAGESIZE);
	FILE *f;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		family(t, "process_cpu_seconds_total", "counter",
		    "CPU time of the master, user and system, in seconds.");
		put(t, "process_cpu_seconds_total %.6f\n",
		    ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	if ((f = fopen("/proc/self/statm", "re")) != NULL) {
		if (fscanf(f, "%llu %llu", &vm, &rss) == 2) {
			family(t, "process_virtual_memory_bytes", "gauge",
			    "Virtual memory size of the master, in bytes.");
			put(t, "process_virtual_memory_bytes %llu\n", vm * page);
			family(t, "process_resident_memory_bytes", "gauge",
			    "Resident memory size of the master, in bytes.");
			put(t, "process_resident_memory_bytes %llu\n", rss * page);
		}
		fclose(f);
	}
	if (fds >= 0) {
		family(t, "process_open_fds", "gauge",
		    "Open file descriptors of the master.");
		put(t, "process_open_fds %ld\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		family(t, "process_max_fds", "gauge",
		    "The master's limit of open file descriptors.");
		if (rl.rlim_cur == RLIM_INFINITY)
			put(t, "process_max_fds +Inf\n");
		else
			put(t, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
	family(t, "process_start_time_seconds", "gauge",
	    "When sockd started, in seconds since the epoch.");
	put(t, "process_start_time_seconds %lld\n", (long long)sd->started);
}

char *
metrics_render(const struct sockd *sd, size_t front, size_t *len)
{
	struct mtext t = { .len = front };

	if (!room(&t, last_cap > front ? last_cap - front : 4096))
		return NULL;

	family(&t, "sockd_connections_total", "counter",
	    "Connections taken; for UDP built-ins, datagrams answered.");
	per_service(&t, sd, "sockd_connections_total", v_connections);
	put_states(&t, sd);
	family(&t, "sockd_backoff_pauses_total", "counter",
	    "Pauses after too many fast failures.");
	per_service(&t, sd, "sockd_backoff_pauses_total", v_backoffs);
	put_durations(&t, sd);
	put_tls(&t, sd);
	put_daemon(&t, sd);
	put_process(&t, sd);
	if (t.failed) {
		free(t.p);
		return NULL;
	}
	last_cap = t.len + t.len / 8;
	*len = t.len - front;
	return t.p;
}

void
metrics_observe(struct service_stats *st, uint64_t ms)
{
	int b = 0;

	while (b < SERVICE_DURATION_BOUNDS && ms > duration_bounds[b])
		b++;
	st->duration[b]++;
	st->duration_ms += ms;
}

unsigned
metrics_duration_bound(int b)
{
	return duration_bounds[b];
}
