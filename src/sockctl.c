/*
 * sockctl: asks the running sockd through its control socket (sockctl(8)).
 * One request, one answer (ctlreq.h): the body goes to standard output,
 * an error to standard error and the exit status; reload and upgrade
 * wait for their verdict.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctlreq.h"

#ifndef SOCKCTL_SOCKET
#define SOCKCTL_SOCKET "/run/sockd/control"
#endif
/* An answer is awaited this long; a reload or an upgrade, the second. */
#define ASK_MS 10000
#define VERDICT_MS 120000
/* During an upgrade's exec the socket is bound anew: connect retries. */
#define CONNECT_MS 3000
#define ANSWER_MAX (8u << 20)

static void __attribute__((noreturn))
usage(int rc)
{
	fprintf(rc ? stderr : stdout,
	    "usage: sockctl [-s socket] [--json] command [argument]\n"
	    "commands: status, connections [service], pause service,\n"
	    "  resume service, end pid|service, reload, upgrade,\n"
	    "  log-level error|warning|info|debug\n"
	    "socket: %s unless -s says\n", SOCKCTL_SOCKET);
	exit(rc);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static int
dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long until = now_ms() + CONNECT_MS;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "sockctl: %s: path too long\n", path);
		exit(2);
	}
	strcpy(sa.sun_path, path);
	for (;;) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			break;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		if ((errno != ECONNREFUSED && errno != ENOENT) || now_ms() > until)
			break;
		usleep(50000);
	}
	fprintf(stderr, "sockctl: %s: %s%s\n", path, strerror(errno),
	    errno == EACCES ? " (only root and the members of sockd's "
	    "control_group may use it)" : errno == ENOENT || errno == ECONNREFUSED ?
	    " (is sockd running, with control set in sockd.conf?)" : "");
	exit(1);
}

/* Reads the whole answer (until the daemon closes) within ms. */
static char *
read_answer(int fd, int ms, size_t *len)
{
	size_t cap = 65536;
	char *buf = malloc(cap + 1);
	long until = now_ms() + ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	*len = 0;
	while (buf) {
		long left = until - now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			fprintf(stderr, "sockctl: no answer within %d s\n", ms / 1000);
			exit(1);
		}
		if ((n = read(fd, buf + *len, cap - *len)) <= 0)
			break;
		if ((*len += n) == cap && cap < ANSWER_MAX)
			buf = realloc(buf, (cap *= 2) + 1);
		else if (*len == cap)
			break;
	}
	if (buf == NULL) {
		fprintf(stderr, "sockctl: out of memory\n");
		exit(1);
	}
	buf[*len] = '\0';
	return buf;
}

/* An upgrade's answer comes from the new image, which knows no JSON. */
static void
print_json_text(const char *body)
{
	printf("{\"result\":\"ok\",\"message\":");
	ctlreq_json_str(stdout, body);
	printf("}\n");
}

/* Prints the answer; its exit status. */
static int
show(const char *ans, size_t len, bool json, bool wrap)
{
	const char *nl = memchr(ans, '\n', len), *body = nl ? nl + 1 : ans + len;

	if (len == 0 || nl == NULL) {
		fprintf(stderr, "sockctl: the answer was cut short\n");
		return 1;
	}
	if (strncmp(ans, "+OK", 3) == 0) {
		if (wrap)
			print_json_text(body);
		else
			fputs(body, stdout);
		return 0;
	}
	fprintf(stderr, "sockctl: %.*s\n", (int)(nl - ans),
	    strncmp(ans, "-ERR ", 5) == 0 ? ans + 5 : ans);
	fputs(body, json && !wrap ? stdout : stderr);
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct option longs[] = { { "json", no_argument, NULL, 'j' },
	    { "socket", required_argument, NULL, 's' },
	    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *path = SOCKCTL_SOCKET, *why;
	char line[CTLREQ_MAX + 8];
	bool json = false;
	struct ctlreq req;
	size_t len;
	int c, fd, n;

	while ((c = getopt_long(argc, argv, "+s:jh", longs, NULL)) != -1)
		switch (c) {
		case 's': path = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(0);
		default: usage(2);
		}
	if (optind == argc || argc - optind > 2)
		usage(2);
	n = snprintf(line, sizeof(line), "%s%s%s%s", json ? "json " : "",
	    argv[optind], optind + 1 < argc ? " " : "",
	    optind + 1 < argc ? argv[optind + 1] : "");
	if (n < 0 || (size_t)n >= CTLREQ_MAX ||
	    ctlreq_parse(line, n, &req, &why) == -1) {
		fprintf(stderr, "sockctl: %s\n", n < CTLREQ_MAX ? why : "too long");
		usage(2);
	}
	/* The new image answers an upgrade in text: wrapped here. */
	bool wrap = json && req.cmd == CTLREQ_UPGRADE;
	if (wrap)
		n = snprintf(line, sizeof(line), "upgrade");
	line[n++] = '\n';
	fd = dial(path);
	if (send(fd, line, n, MSG_NOSIGNAL) != n) {
		fprintf(stderr, "sockctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	char *ans = read_answer(fd, req.cmd == CTLREQ_RELOAD ||
	    req.cmd == CTLREQ_UPGRADE ? VERDICT_MS : ASK_MS, &len);
	int rc = show(ans, len, json, wrap);
	free(ans);
	close(fd);
	return rc;
}
