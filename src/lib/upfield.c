/*
 * The words of a hand-over line (upfield.h): escaping on the way out,
 * splitting and typed lookups on the way in.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "upfield.h"

/* A byte that would end a word or a line, or start an escape. */
static bool
needs_escape(unsigned char c)
{
	return c <= ' ' || c == 0x7f || c == '\\';
}

void
upfield_put(FILE *f, const char *key, const char *val)
{
	fprintf(f, " %s=", key);
	for (const unsigned char *p = (const unsigned char *)val; *p; p++)
		if (needs_escape(*p))
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
}

void
upfield_put_ll(FILE *f, const char *key, long long v)
{
	fprintf(f, " %s=%lld", key, v);
}

void
upfield_put_ull(FILE *f, const char *key, unsigned long long v)
{
	fprintf(f, " %s=%llu", key, v);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescapes s in place; -1 on a bad escape or an escaped NUL. */
static int
unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*out++ = *s;
			continue;
		}
		int hi, lo;
		if (s[1] != 'x' || (hi = hexval(s[2])) < 0 || (lo = hexval(s[3])) < 0 ||
		    (hi | lo) == 0)
			return -1;
		*out++ = (char)(hi << 4 | lo);
		s += 3;
	}
	*out = '\0';
	return 0;
}

bool
upfield_add(struct upfields *r, const char *key, const char *val)
{
	if (r->n == UPFIELD_MAX)
		return false;
	r->key[r->n] = key;
	r->val[r->n++] = val;
	return true;
}

const char *
upfield_split(char *line, struct upfields *r)
{
	char *save = NULL, *w, *eq;

	memset(r, 0, sizeof(*r));
	line[strcspn(line, "\n")] = '\0';
	if ((r->kind = strtok_r(line, " ", &save)) == NULL)
		return "an empty line";
	while ((w = strtok_r(NULL, " ", &save)) != NULL) {
		if ((eq = strchr(w, '=')) == NULL || eq == w)
			return "a word that is not key=value";
		*eq = '\0';
		if (unescape(eq + 1) == -1)
			return "a bad escape";
		if (!upfield_add(r, w, eq + 1))
			return "too many fields";
	}
	return NULL;
}

const char *
upfield_get(const struct upfields *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->key[i], key) == 0)
			return r->val[i];
	return NULL;
}

int
upfield_ll(const struct upfields *r, const char *key, long long min,
    long long max, long long *v)
{
	const char *s = upfield_get(r, key);
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return *end || errno || *v < min || *v > max ? -1 : 0;
}

int
upfield_ull(const struct upfields *r, const char *key, unsigned long long max,
    unsigned long long *v)
{
	const char *s = upfield_get(r, key);
	char *end;

	/* strtoull() would take "-1" as a huge number. */
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return *end || errno || *v > max ? -1 : 0;
}

int
upfield_str(const struct upfields *r, const char *key, char *buf, size_t size)
{
	const char *s = upfield_get(r, key);
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n >= size)
		return -1;
	memcpy(buf, s, n + 1);
	return 0;
}
