/*
 * The metrics built-in's HTTP/1.x: read one request, answer GET (or HEAD)
 * /metrics with metrics.c's text, anything else with a short error, close.
 * Non-blocking both ways from a buffer per scrape, so a slow or stalled
 * scraper costs a timer and its buffer, never the loop; each has at most
 * SCRAPE_TIMEOUT_MS. At most SCRAPE_MAX at a time, and a new one takes the
 * place of the oldest: were the new ones to wait in the backlog instead,
 * clients that connect and stay silent would hold every place, one after
 * the other, and keep Prometheus out for good. A real scraper sends its
 * whole request at once, so it is answered long before SCRAPE_MAX newer
 * connections push it out. Never starts a child.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "log.h"
#include "sock.h"
#include "sockd.h"

/*
 * Twice the connections accept.c takes from a listener per wake-up: a
 * scrape is read at the latest on the wake-up after its own, and fewer
 * than two batches come after it until then.
 */
#define SCRAPE_MAX 64
#define SCRAPE_TIMEOUT_MS 5000
/* A scraper's request is a line and a few headers. */
#define SCRAPE_REQUEST_MAX 4096

struct scrape {
	struct scrape *next;	/* an older one */
	struct sockd *sd;
	struct watch w;
	struct timer timer;
	char req[SCRAPE_REQUEST_MAX + 1];
	size_t reqlen;
	char *resp;		/* NULL while the request is being read */
	size_t resplen, sent;
};

static void
scrape_end(struct scrape *s)
{
	struct sockd *sd = s->sd;

	for (struct scrape **p = &sd->scrapes; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	sd->nscrapes--;
	loop_timer_stop(&sd->loop, &s->timer);
	loop_remove(&sd->loop, &s->w);
	close(s->w.fd);
	free(s->resp);
	free(s);
}

static void
on_timeout(struct timer *t)
{
	scrape_end(t->arg);
}

/*
 * The status for a request; *head for HEAD. Only the request line
 * matters: GET or HEAD of /metrics (any query) over HTTP/1.x.
 */
static int
request_status(const char *req, bool *head)
{
	size_t mlen = strcspn(req, " \r\n");
	const char *target = req + mlen;
	size_t tlen, plen;

	if (*target != ' ')
		return 400;
	target++;
	tlen = strcspn(target, " \r\n");
	if (target[tlen] != ' ' || strncmp(target + tlen + 1, "HTTP/1.", 7) != 0)
		return 400;
	*head = mlen == 4 && strncmp(req, "HEAD", 4) == 0;
	if (!*head && !(mlen == 3 && strncmp(req, "GET", 3) == 0))
		return 405;
	plen = strcspn(target, "? \r\n");
	if (plen != 8 || strncmp(target, "/metrics", 8) != 0)
		return 404;
	return 200;
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	default:  return "Internal Server Error";
	}
}

/* The response header's most: the longest status line and headers. */
#define SCRAPE_HEADER_MAX 256

/*
 * The whole response into s->resp, sent from s->sent; false when out of
 * memory. The text is rendered behind room for the header, which goes
 * right in front of it: no copy of the text.
 */
static bool
respond(struct scrape *s, int status, bool head)
{
	char hdr[SCRAPE_HEADER_MAX], err[128];
	char *body = NULL;
	size_t blen = 0;
	int hlen;

	if (status == 200 &&
	    (s->resp = metrics_render(s->sd, SCRAPE_HEADER_MAX, &blen)) == NULL)
		status = 500;
	if (status != 200) {
		blen = snprintf(err, sizeof(err), "%d %s: sockd serves GET /metrics\n",
		    status, status_text(status));
		body = err;
	}
	hlen = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
	    status, status_text(status), status == 200 ?
	    "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8",
	    blen, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (hlen < 0 || (size_t)hlen >= sizeof(hdr))
		return false;	/* cannot be: the longest is 190 bytes */
	if (head)
		blen = 0;
	if (s->resp == NULL) {
		if ((s->resp = malloc(SCRAPE_HEADER_MAX + blen)) == NULL)
			return false;
		memcpy(s->resp + SCRAPE_HEADER_MAX, body, blen);
	}
	memcpy(s->resp + SCRAPE_HEADER_MAX - hlen, hdr, hlen);
	s->sent = SCRAPE_HEADER_MAX - hlen;
	s->resplen = SCRAPE_HEADER_MAX + blen;
	return true;
}

/* Writes what the socket takes; ends the scrape when all is sent. */
static void
send_more(struct scrape *s)
{
	while (s->sent < s->resplen) {
		ssize_t n = send(s->w.fd, s->resp + s->sent, s->resplen - s->sent,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (!s->w.out) {
				loop_remove(&s->sd->loop, &s->w);
				s->w.out = true;
				if (loop_enable(&s->sd->loop, &s->w, true) == -1)
					break;
			}
			return;
		}
		if (n == -1)
			break;
		s->sent += n;
	}
	(void)shutdown(s->w.fd, SHUT_WR);
	scrape_end(s);
}

/* Reads the request; answers once its header is complete. */
static void
read_request(struct scrape *s)
{
	ssize_t n;
	bool head = false;
	int status;

	do
		n = recv(s->w.fd, s->req + s->reqlen, SCRAPE_REQUEST_MAX - s->reqlen,
		    MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0) {
		scrape_end(s);
		return;
	}
	s->reqlen += n;
	s->req[s->reqlen] = '\0';
	if (strstr(s->req, "\r\n\r\n") == NULL && strstr(s->req, "\n\n") == NULL) {
		if (s->reqlen < SCRAPE_REQUEST_MAX)
			return;
		status = 431;
	} else
		status = request_status(s->req, &head);
	if (!respond(s, status, head)) {
		log_warn("metrics: response");
		scrape_end(s);
		return;
	}
	send_more(s);
}

static void
on_scrape(struct watch *w)
{
	struct scrape *s = w->arg;

	if (s->resp == NULL)
		read_request(s);
	else
		send_more(s);
}

/* The scrape that came first (the list's last) goes. */
static void
evict_oldest(struct sockd *sd)
{
	struct scrape *s = sd->scrapes;

	while (s->next)
		s = s->next;
	log_debug("metrics: closed the oldest scrape: %d newer ones came while "
	    "it was open", SCRAPE_MAX);
	scrape_end(s);
}

void
scrape_accept(struct sockd *sd, struct service *svc, int fd)
{
	struct scrape *s;

	if (sd->nscrapes >= SCRAPE_MAX)
		evict_oldest(sd);
	s = calloc(1, sizeof(*s));
	if (s == NULL || sock_set_nonblock(fd, true) == -1) {
		log_warn("service \"%s\": scrape", svc->conf->name);
		free(s);
		close(fd);
		return;
	}
	s->sd = sd;
	s->w = (struct watch){ .fd = fd, .fn = on_scrape, .arg = s };
	s->timer = (struct timer){ .fn = on_timeout, .arg = s };
	s->next = sd->scrapes;
	sd->scrapes = s;
	sd->nscrapes++;
	if (loop_enable(&sd->loop, &s->w, true) == -1 ||
	    loop_timer_set(&sd->loop, &s->timer, SCRAPE_TIMEOUT_MS) == -1) {
		log_warn("service \"%s\": scrape", svc->conf->name);
		scrape_end(s);
		return;
	}
	/* A request already here is answered before newer ones come. */
	read_request(s);
}

void
scrape_close_all(struct sockd *sd)
{
	while (sd->scrapes)
		scrape_end(sd->scrapes);
}
