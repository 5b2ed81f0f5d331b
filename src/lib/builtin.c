/*
 * The classic inetd built-ins (RFC 862-868): their stream functions,
 * run in a forked child with the connection on 0 and 1, and their datagram
 * answers, made in the master from the request alone.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"

#define CHARGEN_LINE 72
/* RFC 868 counts from 1900, Unix from 1970. */
#define EPOCH_OFFSET 2208988800UL

/*
 * The idle limit, both ways: a client that sends nothing, or takes nothing
 * of what we send, for idle seconds is dropped, so no client can hold a
 * child for ever, blocked in read() or in write(). Receive and send
 * timeouts where fd 0 is a socket, two system calls for good; false where
 * it is not, and every read and write must poll first.
 */
static bool
idle_limit(unsigned idle)
{
	struct timeval tv = { .tv_sec = idle };

	return setsockopt(0, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
	    setsockopt(1, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0;
}

/* Waits up to idle seconds for fd to be ready for events; false if not. */
static bool
wait_ready(int fd, short events, unsigned idle)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	while ((r = poll(&pfd, 1, (int)idle * 1000)) == -1 && errno == EINTR)
		;
	return r > 0;
}

/* With SO_SNDTIMEO, EAGAIN is the idle limit passing. */
static int
write_all(bool timed, unsigned idle, const char *p, size_t n)
{
	while (n > 0) {
		if (!timed && !wait_ready(1, POLLOUT, idle))
			return -1;
		ssize_t w = write(1, p, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= w;
	}
	return 0;
}

/* Reads what is there, or 0 at EOF, or -1 on error or after the idle limit. */
static ssize_t
read_idle(bool timed, unsigned idle, char *buf, size_t len)
{
	for (;;) {
		if (!timed && !wait_ready(0, POLLIN, idle))
			return -1;
		/* With SO_RCVTIMEO, EAGAIN is the idle limit passing. */
		ssize_t n = read(0, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		return n;
	}
}

static size_t
daytime_string(char *out, size_t outsz)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	return strftime(out, outsz, "%a %b %e %H:%M:%S %Y\r\n", &tm);
}

static void
time_bytes(unsigned char out[4])
{
	uint32_t t = (uint32_t)((unsigned long)time(NULL) + EPOCH_OFFSET);

	out[0] = t >> 24;
	out[1] = t >> 16;
	out[2] = t >> 8;
	out[3] = t;
}

/* The line starting at offset start of the 95 printable characters, rotated. */
static void
chargen_line(char line[CHARGEN_LINE + 2], unsigned start)
{
	for (unsigned i = 0; i < CHARGEN_LINE; i++)
		line[i] = ' ' + (start + i) % 95;
	line[CHARGEN_LINE] = '\r';
	line[CHARGEN_LINE + 1] = '\n';
}

static void
echo_stream(unsigned idle)
{
	char buf[8192];
	bool timed = idle_limit(idle);
	ssize_t n;

	while ((n = read_idle(timed, idle, buf, sizeof(buf))) > 0)
		if (write_all(timed, idle, buf, n) == -1)
			return;
}

static void
discard_stream(unsigned idle)
{
	char buf[8192];
	bool timed = idle_limit(idle);

	while (read_idle(timed, idle, buf, sizeof(buf)) > 0)
		;
}

static void
chargen_stream(unsigned idle)
{
	char line[CHARGEN_LINE + 2];
	bool timed = idle_limit(idle);

	for (unsigned start = 0;; start = (start + 1) % 95) {
		chargen_line(line, start);
		if (write_all(timed, idle, line, sizeof(line)) == -1)
			return;
	}
}

static ssize_t
echo_dgram(const char *in, size_t len, char *out, size_t outsz)
{
	if (len > outsz)
		len = outsz;
	memmove(out, in, len);	/* dgram.c answers over the datagram */
	return len;
}

static ssize_t
discard_dgram(const char *in, size_t len, char *out, size_t outsz)
{
	(void)in, (void)len, (void)out, (void)outsz;
	return -1;
}

static ssize_t
chargen_dgram(const char *in, size_t len, char *out, size_t outsz)
{
	char line[CHARGEN_LINE + 2];
	size_t n = 0;

	(void)in, (void)len;
	if (outsz > 512)
		outsz = 512;
	for (unsigned start = 0; n + sizeof(line) <= outsz; start++) {
		chargen_line(line, start);
		memcpy(out + n, line, sizeof(line));
		n += sizeof(line);
	}
	return n;
}

static ssize_t
daytime_dgram(const char *in, size_t len, char *out, size_t outsz)
{
	(void)in, (void)len;
	return daytime_string(out, outsz);
}

static ssize_t
time_dgram(const char *in, size_t len, char *out, size_t outsz)
{
	(void)in, (void)len;
	if (outsz < 4)
		return -1;
	time_bytes((unsigned char *)out);
	return 4;
}

static const struct builtin builtins[] = {
	{ "echo", echo_stream, echo_dgram, false, false },
	{ "discard", discard_stream, discard_dgram, false, false },
	{ "chargen", chargen_stream, chargen_dgram, false, false },
	/* in_master: never run in a child, so no stream function. */
	{ "daytime", NULL, daytime_dgram, true, false },
	{ "time", NULL, time_dgram, true, false },
	{ "metrics", NULL, NULL, true, true },
};

const struct builtin *
builtin_find(const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	return NULL;
}

const char *
builtin_list(void)
{
	return "echo, discard, chargen, daytime, time, metrics";
}
