/*
 * A classic inetd.conf line into struct inetdconf_entry: the words split,
 * each field checked on its own. No libconfig, no logging: the loader and
 * the converter report the message with the file and line they know.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "builtin.h"
#include "inetdconf.h"

/* What update-inetd(8) --disable puts in front of a line it switches off. */
#define OFF_PREFIX "#<off>#"
/* Six fields, the program's included, then its argv. */
#define WORDS_MAX (6 + INETDCONF_MAXARGS)

static enum inetdconf_kind
fail(char err[INETDCONF_ERRLEN], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, INETDCONF_ERRLEN, fmt, ap);
	va_end(ap);
	return INETDCONF_ERROR;
}

void
inetdconf_free(struct inetdconf_entry *e)
{
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

/* Splits buf in place on blanks; returns the count, or -1 past max. */
static int
split(char *buf, char *words[], int max)
{
	int n = 0;

	for (char *p = buf; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n == max)
			return -1;
		words[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
	}
	return n;
}

/* An address as the line writes it: "*", "[::1]" or a literal. */
static enum inetdconf_kind
parse_address(char *host, struct inetdconf_entry *e,
    char err[INETDCONF_ERRLEN])
{
	size_t n = strlen(host);
	struct addr a;

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		host++;
	}
	if (strcmp(host, "*") == 0) {
		e->host = NULL;
		return INETDCONF_SERVICE;
	}
	if (addr_parse(host, &a) == -1)
		return fail(err, "address \"%s\" is not an IP address literal "
		    "(sockd looks no host names up)", host);
	e->host = host;
	return INETDCONF_SERVICE;
}

/* "[address:]service"; the last ':' ends the address (IPv6 has some). */
static enum inetdconf_kind
parse_host(char *word, const char *dflt, struct inetdconf_entry *e,
    char err[INETDCONF_ERRLEN])
{
	char *colon = strrchr(word, ':');

	e->host = dflt;
	e->service = word;
	if (colon == NULL)
		return INETDCONF_SERVICE;
	*colon = '\0';
	e->service = colon + 1;
	return parse_address(word, e, err);
}

/* The service: a port number, or a name from /etc/services. */
static enum inetdconf_kind
parse_service(struct inetdconf_entry *e, char err[INETDCONF_ERRLEN])
{
	const char *s = e->service;
	struct servent *se;
	char *end;
	unsigned long n;

	if (*s == '\0')
		return fail(err, "the service name is empty");
	if (isdigit((unsigned char)*s)) {
		errno = 0;
		n = strtoul(s, &end, 10);
		if (*end != '\0' || errno || n < 1 || n > 65535)
			return fail(err, "port \"%s\": use 1-65535 or a name of "
			    "/etc/services", s);
		e->port = n;
		return INETDCONF_SERVICE;
	}
	if ((se = getservbyname(s, e->udp ? "udp" : "tcp")) == NULL)
		return fail(err, "service \"%s\": not in /etc/services for %s", s,
		    e->udp ? "udp" : "tcp");
	e->port = ntohs(se->s_port);
	return INETDCONF_SERVICE;
}

/* The socket type and the protocol, which must agree. */
static enum inetdconf_kind
parse_protocol(const char *type, const char *proto, struct inetdconf_entry *e,
    char err[INETDCONF_ERRLEN])
{
	static const struct {
		const char *name;
		bool udp;
		enum inetdconf_family family;
	} protos[] = {
		{ "tcp", false, INETDCONF_BOTH }, { "tcp46", false, INETDCONF_BOTH },
		{ "tcp4", false, INETDCONF_V4 }, { "tcp6", false, INETDCONF_V6 },
		{ "udp", true, INETDCONF_BOTH }, { "udp46", true, INETDCONF_BOTH },
		{ "udp4", true, INETDCONF_V4 }, { "udp6", true, INETDCONF_V6 },
	};
	size_t i;

	if (strncmp(proto, "rpc/", 4) == 0)
		return fail(err, "protocol \"%s\": sockd serves no RPC services "
		    "(they need portmap registration)", proto);
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcmp(proto, protos[i].name) == 0)
			break;
	if (i == sizeof(protos) / sizeof(protos[0]))
		return fail(err, "protocol \"%s\": use tcp, udp, tcp4, udp4, tcp6, "
		    "udp6, tcp46 or udp46", proto);
	e->protocol = proto;
	e->udp = protos[i].udp;
	e->family = protos[i].family;
	if (strcmp(type, "stream") != 0 && strcmp(type, "dgram") != 0)
		return fail(err, "socket type \"%s\": sockd serves stream and dgram "
		    "sockets", type);
	if (strcmp(type, e->udp ? "dgram" : "stream") != 0)
		return fail(err, "socket type \"%s\" does not go with protocol "
		    "\"%s\" (%s)", type, proto, e->udp ? "dgram" : "stream");
	return INETDCONF_SERVICE;
}

/* The address's family must be one the protocol listens on. */
static enum inetdconf_kind
check_family(const struct inetdconf_entry *e, char err[INETDCONF_ERRLEN])
{
	struct addr a;

	if (e->host == NULL || e->family == INETDCONF_BOTH ||
	    addr_parse(e->host, &a) == -1)
		return INETDCONF_SERVICE;
	if ((e->family == INETDCONF_V4) != (a.family == AF_INET))
		return fail(err, "address \"%s\" is not an IPv%c address, as "
		    "protocol \"%s\" wants", e->host,
		    e->family == INETDCONF_V4 ? '4' : '6', e->protocol);
	return INETDCONF_SERVICE;
}

/* "wait" or "nowait", with an optional ".max" per minute. */
static enum inetdconf_kind
parse_wait(char *word, struct inetdconf_entry *e, char err[INETDCONF_ERRLEN])
{
	char *dot = strchr(word, '.'), *end;
	unsigned long n;

	if (dot) {
		*dot = '\0';
		errno = 0;
		n = strtoul(dot + 1, &end, 10);
		if (!isdigit((unsigned char)dot[1]) || *end != '\0' || errno ||
		    n < 1 || n > 1000000)
			return fail(err, "%s.%s: the maximum is a count per minute, "
			    "1-1000000", word, dot + 1);
		e->max = n;
	}
	if (strcmp(word, "wait") == 0)
		e->wait = true;
	else if (strcmp(word, "nowait") != 0)
		return fail(err, "\"%s\": expected wait or nowait", word);
	return INETDCONF_SERVICE;
}

/* "user", "user:group" or the older "user.group". */
static enum inetdconf_kind
parse_user(char *word, struct inetdconf_entry *e, char err[INETDCONF_ERRLEN])
{
	char *sep = strchr(word, ':');

	if (sep == NULL)
		sep = strchr(word, '.');
	if (sep) {
		*sep = '\0';
		e->group = sep + 1;
		if (*e->group == '\0')
			return fail(err, "user \"%s\": the group after it is empty",
			    word);
	}
	if (*word == '\0')
		return fail(err, "the user is empty");
	e->user = word;
	return INETDCONF_SERVICE;
}

/* The program and its argv; "internal" names a built-in. */
static enum inetdconf_kind
parse_program(char **words, int n, struct inetdconf_entry *e,
    char err[INETDCONF_ERRLEN])
{
	const struct builtin *b;
	const char *base;

	if (strcmp(words[0], "internal") == 0) {
		/* openbsd-inetd ignores words after "internal"; so do we. */
		b = builtin_find(e->service);
		if (b == NULL || b->scrape)
			return fail(err, "internal service \"%s\": sockd has echo, "
			    "discard, chargen, daytime and time", e->service);
		return INETDCONF_SERVICE;
	}
	if (words[0][0] != '/')
		return fail(err, "program \"%s\" is not an absolute path", words[0]);
	e->program = words[0];
	for (int i = 1; i < n; i++)
		e->argv[i - 1] = words[i];
	if (n == 1) {
		base = strrchr(e->program, '/');
		e->argv[0] = base + 1;
	}
	return INETDCONF_SERVICE;
}

/* The fields of a line split into words. */
static enum inetdconf_kind
parse_words(char **w, int n, const char *host, struct inetdconf_entry *e,
    char err[INETDCONF_ERRLEN])
{
	if (n == 1 && w[0][strlen(w[0]) - 1] == ':') {
		w[0][strlen(w[0]) - 1] = '\0';
		return parse_address(w[0], e, err) == INETDCONF_ERROR ?
		    INETDCONF_ERROR : INETDCONF_HOST;
	}
	if (n < 6)
		return fail(err, "expected [address:]service socket-type protocol "
		    "wait|nowait user program [argv...], found %d field%s", n,
		    n == 1 ? "" : "s");
	if (parse_host(w[0], host, e, err) == INETDCONF_ERROR ||
	    parse_protocol(w[1], w[2], e, err) == INETDCONF_ERROR ||
	    parse_service(e, err) == INETDCONF_ERROR ||
	    check_family(e, err) == INETDCONF_ERROR ||
	    parse_wait(w[3], e, err) == INETDCONF_ERROR ||
	    parse_user(w[4], e, err) == INETDCONF_ERROR ||
	    parse_program(w + 5, n - 5, e, err) == INETDCONF_ERROR)
		return INETDCONF_ERROR;
	return INETDCONF_SERVICE;
}

enum inetdconf_kind
inetdconf_parse(const char *line, const char *host, struct inetdconf_entry *e,
    char err[INETDCONF_ERRLEN])
{
	bool off = strncmp(line, OFF_PREFIX, strlen(OFF_PREFIX)) == 0;
	char *words[WORDS_MAX];
	enum inetdconf_kind k;
	int n;

	memset(e, 0, sizeof(*e));
	err[0] = '\0';
	if (off)
		line += strlen(OFF_PREFIX);
	else if (line[strspn(line, " \t\r")] == '#')
		return INETDCONF_BLANK;
	if ((e->buf = strdup(line)) == NULL)
		return fail(err, "out of memory");
	if ((n = split(e->buf, words, WORDS_MAX)) == -1)
		return off ? INETDCONF_OFF : fail(err, "more than %d arguments "
		    "after the program", INETDCONF_MAXARGS);
	if (n == 0)
		return off ? INETDCONF_OFF : INETDCONF_BLANK;
	k = parse_words(words, n, host, e, err);
	if (!off)
		return k;
	/* Switched off: sockd checks nothing in it, its program may be gone. */
	if (k != INETDCONF_SERVICE) {
		free(e->buf);
		memset(e, 0, sizeof(*e));
	}
	err[0] = '\0';
	return INETDCONF_OFF;
}

static void
name_append(char *buf, size_t size, size_t *len, const char *s)
{
	for (; *s; s++) {
		char c = *s;
		if (!isalnum((unsigned char)c) && c != '.' && c != '_' && c != '-')
			c = '_';
		if (*len + 1 < size)
			buf[*len] = c;
		(*len)++;
	}
}

bool
inetdconf_name(const struct inetdconf_entry *e, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return false;
	if (e->host) {
		name_append(buf, size, &len, e->host);
		name_append(buf, size, &len, "-");
	}
	name_append(buf, size, &len, e->service);
	name_append(buf, size, &len, "-");
	name_append(buf, size, &len, e->protocol);
	buf[len < size ? len : size - 1] = '\0';
	return len < size;
}

/*
 * openbsd-inetd counts a service's starts over a minute and stops it for
 * ten minutes past max; sockd's token bucket instead lets max through at
 * once and then max/60 a second (at least one), making clients wait in
 * the listen queue rather than turning the service off.
 */
void
inetdconf_rate(unsigned max, unsigned *rate, unsigned *burst)
{
	*rate = (max + 59) / 60;
	*burst = max;
}
