/*
 * The libconfig 1.5 pre-scan: reads configuration files without ever
 * blocking, checks their raw text, and gives libconfig in-memory copies in
 * which every @include names another copy. Owns those copies and the list
 * of big integer literals; never logs, never parses settings.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfgscan.h"

struct cfgscan_copy {
	char *path;		/* the real file */
	char name[32];		/* what libconfig opens: CFGSCAN_INCLUDE_DIR/fd */
	int fd;
	unsigned read;		/* the cfgscan_file() call it belongs to */
	dev_t dev;
	ino_t ino;
	size_t expanded;	/* its bytes plus those of all it includes */
};

/*
 * An integer literal that libconfig 1.5 would store truncated: it reads a
 * plain literal with atoi(), so "port = 4294967303" arrives as 7.
 */
struct cfgscan_bigint {
	char *file;
	int line;
	char key[CONFIG_NAME_MAX + 1];
	char text[32];
	bool reported;
};

/* The text of one file on its way to a copy. */
struct scanbuf {
	char *p;
	size_t len, cap;
};

static bool
buf_add(struct scanbuf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;
		while (cap < b->len + n)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return false;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return true;
}

static void
bigint_add(struct cfgscan *sc, const char *file, int line, const char *key,
    const char *text, size_t len)
{
	struct cfgscan_bigint *b;

	b = realloc(sc->bigints, (sc->nbigints + 1) * sizeof(*b));
	if (b == NULL)
		return;
	sc->bigints = b;
	b = &b[sc->nbigints];
	memset(b, 0, sizeof(*b));
	if ((b->file = strdup(file)) == NULL)
		return;
	sc->nbigints++;
	b->line = line;
	snprintf(b->key, sizeof(b->key), "%s", key);
	snprintf(b->text, sizeof(b->text), "%.*s%s", (int)(len < 24 ? len : 24),
	    text, len > 24 ? "..." : "");
}

static bool
literal_fits(const char *p, size_t len)
{
	bool l64 = len > 0 && (p[len - 1] == 'L' || p[len - 1] == 'l');
	bool hex;
	char buf[64], *end;

	while (len > 0 && (p[len - 1] == 'L' || p[len - 1] == 'l'))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, p, len);
	buf[len] = '\0';
	hex = strstr(buf, "0x") || strstr(buf, "0X");
	errno = 0;
	if (hex) {
		unsigned long long u = strtoull(buf, &end, 16);
		return *end != '\0' || (errno == 0 && (l64 || u <= 0xffffffffULL));
	}
	long long v = strtoll(buf, &end, 10);
	/* Not wholly digits: a float, which libconfig parses itself. */
	return *end != '\0' || (errno == 0 && (l64 || (v >= INT_MIN && v <= INT_MAX)));
}

static const char *copy_file(struct cfgscan *, const char *path,
    const char *shown, const char *from, int from_line, int depth,
    size_t *expanded);

/* Where libconfig's state is at the start of a line. */
enum lexstate { LEX_CODE, LEX_COMMENT, LEX_STRING };

/* State of the scan of one file. */
struct lexer {
	struct cfgscan *sc;
	const char *file;
	int line, depth;
	enum lexstate state;
	size_t strlen;		/* bytes of the open string so far */
	int strline;		/* where it opened */
	char key[CONFIG_NAME_MAX + 1];	/* the last name seen */
	size_t expanded;	/* bytes libconfig will scan for this file */
	unsigned errors;
};

static void
lex_error(struct lexer *lx, int line, const char *fmt, const char *arg)
{
	cfgerr_add(lx->sc->err, lx->file, line, fmt, arg);
	lx->errors++;
}

/*
 * The quoted name of an @include line (libconfig allows \\ and \"), or
 * NULL after reporting it. *end is set after the closing quote.
 */
static char *
include_name(struct lexer *lx, const char *p, const char *eol,
    const char **end)
{
	char *name = malloc(eol - p + 1), *q = name;

	if (name == NULL)
		return NULL;
	for (; p < eol && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < eol && (p[1] == '\\' || p[1] == '"'))
			p++;
		*q++ = *p;
	}
	*q = '\0';
	if (p == eol) {
		lex_error(lx, lx->line, "@include: %s", "missing closing quote");
		free(name);
		return NULL;
	}
	if (name[0] == '\0') {
		lex_error(lx, lx->line, "@include: %s", "empty file name");
		free(name);
		return NULL;
	}
	*end = p + 1;
	return name;
}

/* Joins a relative @include name to the main file's directory. */
static char *
include_path(const struct cfgscan *sc, const char *name)
{
	char *p;

	if (name[0] == '/')
		return strdup(name);
	if (asprintf(&p, "%s/%s", sc->dir, name) == -1)
		return NULL;
	return p;
}

/* Past the spaces and tabs at p, never past eol (the text has no NUL). */
static const char *
skip_blanks(const char *p, const char *eol)
{
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * An @include line that libconfig would act on (it matches
 * ^[ \t]*@include[ \t]+" whatever the state). In code it is replaced by
 * the copy of the file it names; in a comment its '@' is blanked, so that
 * libconfig can never open a file this scan did not check; in a string
 * it is refused. Returns false if the line was not an @include line.
 */
static bool
lex_include(struct lexer *lx, const char *line, const char *eol,
    struct scanbuf *out)
{
	const char *p = skip_blanks(line, eol), *q, *end;
	const char *copy;
	char *name, *path;
	size_t n;

	if ((size_t)(eol - p) < 9 || memcmp(p, "@include", 8) != 0)
		return false;
	q = p + 8;
	if (q == eol || (*q != ' ' && *q != '\t'))
		return false;
	q = skip_blanks(q, eol);
	if (q >= eol || *q != '"')
		return false;
	if (lx->state == LEX_STRING) {
		lex_error(lx, lx->line, "%s", "@include inside a string");
		return true;
	}
	if (lx->state == LEX_COMMENT) {
		buf_add(out, line, p - line);
		buf_add(out, " ", 1);
		buf_add(out, p + 1, eol - p - 1);
		return true;
	}
	if ((name = include_name(lx, q + 1, eol, &end)) == NULL)
		return true;
	if (lx->depth >= CFGSCAN_DEPTH_MAX) {
		cfgerr_add(lx->sc->err, lx->file, lx->line,
		    "@include \"%s\": nested too deeply (a loop?)", name);
		lx->errors++;
	} else if ((path = include_path(lx->sc, name)) == NULL) {
		lex_error(lx, lx->line, "@include \"%s\": out of memory", name);
	} else {
		copy = copy_file(lx->sc, path, name, lx->file, lx->line,
		    lx->depth + 1, &n);
		if (copy == NULL)
			lx->errors++;
		else {
			/* Only the name changes: lines stay where they were. */
			buf_add(out, line, q + 1 - line);
			buf_add(out, copy, strlen(copy));
			buf_add(out, end - 1, eol - end + 1);
			/* Repeated includes multiply what libconfig scans. */
			if ((lx->expanded += n) > CFGSCAN_TOTAL_MAX)
				lex_error(lx, lx->line, "@include \"%s\": too much "
				    "configuration text in all", name);
		}
		free(path);
	}
	free(name);
	return true;
}

/* A string literal runs on; too long a token is slow for libconfig. */
static void
lex_string(struct lexer *lx, const char **pp, const char *eol)
{
	const char *p = *pp;

	for (; p < eol && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < eol) {
			if (p[1] == 'x' && eol - p >= 4 && p[2] == '0' && p[3] == '0')
				lex_error(lx, lx->line, "%s",
				    "\\x00 in a string: a string cannot hold a NUL");
			p++;
			lx->strlen++;
		}
		lx->strlen++;
	}
	if (lx->strlen > CFGSCAN_STRING_MAX && lx->strline > 0) {
		char what[64];
		snprintf(what, sizeof(what), "%d", CFGSCAN_STRING_MAX / 1024);
		lex_error(lx, lx->strline, "a string longer than %s KiB", what);
		lx->strline = 0;	/* once per string */
	}
	if (p < eol) {
		lx->state = LEX_CODE;
		p++;
	}
	*pp = p;
}

/* The code on one line: comments, strings, names and number literals. */
static void
lex_code(struct lexer *lx, const char *p, const char *eol)
{
	static const char namechars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-*";

	while (p < eol) {
		if (lx->state == LEX_COMMENT) {
			const char *e = memmem(p, eol - p, "*/", 2);
			if (e == NULL)
				return;
			lx->state = LEX_CODE;
			p = e + 2;
		} else if (lx->state == LEX_STRING) {
			lex_string(lx, &p, eol);
		} else if (*p == '#' || (*p == '/' && p + 1 < eol && p[1] == '/')) {
			return;
		} else if (*p == '/' && p + 1 < eol && p[1] == '*') {
			lx->state = LEX_COMMENT;
			p += 2;
		} else if (*p == '"') {
			lx->state = LEX_STRING;
			lx->strlen = 0;
			lx->strline = lx->line;
			p++;
		} else if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    *p == '*') {
			size_t n = 0;
			while (p + n < eol && p[n] && strchr(namechars, p[n]))
				n++;
			snprintf(lx->key, sizeof(lx->key), "%.*s", (int)n, p);
			p += n;
		} else if ((*p >= '0' && *p <= '9') || ((*p == '-' || *p == '+') &&
		    p + 1 < eol && p[1] >= '0' && p[1] <= '9')) {
			size_t n = 1;
			while (p + n < eol && p[n] && strchr("0123456789abcdefABCDEFxXlL.+-", p[n]))
				n++;
			if (!literal_fits(p, n))
				bigint_add(lx->sc, lx->file, lx->line, lx->key, p, n);
			p += n;
		} else
			p++;
	}
}

/* Checks text line by line and writes what libconfig is to read to out. */
static void
lex_text(struct lexer *lx, const char *text, size_t len, struct scanbuf *out)
{
	const char *p = text, *end = text + len;

	for (; p < end && lx->errors == 0; lx->line++) {
		const char *nl = memchr(p, '\n', end - p);
		const char *eol = nl ? nl + 1 : end;

		if (memchr(p, '\0', eol - p) != NULL) {
			lex_error(lx, lx->line, "%s",
			    "a NUL byte: not a text file");
			return;
		}
		if ((size_t)(eol - p) > CFGSCAN_LINE_MAX) {
			char what[64];
			snprintf(what, sizeof(what), "%d", CFGSCAN_LINE_MAX / 1024);
			lex_error(lx, lx->line, "a line longer than %s KiB", what);
			return;
		}
		if (!lex_include(lx, p, eol, out)) {
			buf_add(out, p, eol - p);
			lex_code(lx, p, eol);
		}
		p = eol;
	}
}

/*
 * Reads a regular file without blocking: a FIFO, a device or a directory
 * is refused before open() could wait or libconfig could exit on it.
 */
static char *
read_text(struct cfgscan *sc, const char *path, const char *shown,
    const char *from, int from_line, size_t *lenp, struct stat *st)
{
	const char *who = from ? from : path;
	int line = from ? from_line : 0, fd = -1;
	char *text = NULL, pfx[4200] = "";
	ssize_t n;
	size_t len = 0;

	if (from)
		snprintf(pfx, sizeof(pfx), "@include \"%s\": ", shown);
	if (stat(path, st) == -1 || (S_ISREG(st->st_mode) &&
	    (fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) == -1)) {
		cfgerr_add(sc->err, who, line, "%s%s", pfx, strerror(errno));
		return NULL;
	}
	/* Checked again on what was opened, in case the path changed. */
	if (!S_ISREG(st->st_mode) || fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		cfgerr_add(sc->err, who, line, "%s%s", pfx,
		    "not a regular file");
		goto fail;
	}
	if (st->st_size > CFGSCAN_FILE_MAX)
		goto too_big;
	if ((text = malloc(st->st_size + 1)) == NULL) {
		cfgerr_add(sc->err, who, line, "%s%s", pfx, strerror(errno));
		goto fail;
	}
	/* One byte more than fstat said, to notice a file that grew. */
	while ((n = read(fd, text + len, st->st_size + 1 - len)) > 0)
		if ((len += n) > (size_t)st->st_size)
			goto too_big;
	if (n == -1) {
		cfgerr_add(sc->err, who, line, "%s%s", pfx, strerror(errno));
		goto fail;
	}
	close(fd);
	text[len] = '\0';	/* room for it: len <= st_size */
	*lenp = len;
	return text;
too_big:
	cfgerr_add(sc->err, who, line, "%slarger than %d KiB", pfx,
	    CFGSCAN_FILE_MAX / 1024);
fail:
	free(text);
	if (fd != -1)
		close(fd);
	return NULL;
}

/* The in-memory copy libconfig reads instead of the file. */
static int
copy_write(const struct scanbuf *b)
{
	int fd = memfd_create("sockd.conf", MFD_CLOEXEC);
	size_t off = 0;
	ssize_t n;

	if (fd == -1)
		return -1;
	while (off < b->len && (n = write(fd, b->p + off, b->len - off)) > 0)
		off += n;
	if (off < b->len) {
		close(fd);
		errno = errno ? errno : EIO;
		return -1;
	}
	return fd;
}

static struct cfgscan_copy *
copy_find(const struct cfgscan *sc, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < sc->ncopies; i++)
		if (sc->copies[i].dev == dev && sc->copies[i].ino == ino)
			return &sc->copies[i];
	return NULL;
}

/*
 * Copies path and, first, what it includes. A file included twice is
 * copied once (relative names always start at the main file's directory,
 * so its copy is the same), but counted each time libconfig will read it.
 */
static const char *
copy_file(struct cfgscan *sc, const char *path, const char *shown,
    const char *from, int from_line, int depth, size_t *expanded)
{
	struct lexer lx = { .sc = sc, .file = path, .line = 1, .depth = depth };
	struct scanbuf out = { 0 };
	struct cfgscan_copy *c;
	struct stat st;
	size_t len;
	char *text;

	if (stat(path, &st) == 0 && (c = copy_find(sc, st.st_dev, st.st_ino))) {
		*expanded = c->expanded;
		return c->name;
	}
	if (sc->ncopies >= CFGSCAN_FILES_MAX) {
		cfgerr_add(sc->err, from, from_line, "@include \"%s\": more than %d files",
		    shown, CFGSCAN_FILES_MAX);
		return NULL;
	}
	if ((text = read_text(sc, path, shown, from, from_line, &len, &st)) == NULL)
		return NULL;
	lx.expanded = len;
	lex_text(&lx, text, len, &out);
	free(text);
	if (lx.errors > 0)
		goto fail;
	if ((c = realloc(sc->copies, (sc->ncopies + 1) * sizeof(*c))) == NULL)
		goto fail;
	sc->copies = c;
	c = &c[sc->ncopies];
	memset(c, 0, sizeof(*c));
	c->read = sc->reads;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->expanded = lx.expanded;
	if ((c->path = strdup(path)) == NULL || (c->fd = copy_write(&out)) == -1) {
		cfgerr_add(sc->err, path, 0, "cannot copy: %s", strerror(errno));
		free(c->path);
		goto fail;
	}
	snprintf(c->name, sizeof(c->name), "%d", c->fd);
	sc->ncopies++;
	free(out.p);
	*expanded = lx.expanded;
	return c->name;
fail:
	free(out.p);
	return NULL;
}

const char *
cfgscan_file(struct cfgscan *sc, const char *path)
{
	static char name[64];
	const char *copy;
	size_t n;

	sc->reads++;
	if ((copy = copy_file(sc, path, path, NULL, 0, 0, &n)) == NULL) {
		cfgscan_release(sc);
		return NULL;
	}
	if ((sc->total += n) > CFGSCAN_TOTAL_MAX) {
		cfgerr_add(sc->err, path, 0,
		    "with what it includes, more than %d MiB of configuration",
		    CFGSCAN_TOTAL_MAX / (1024 * 1024));
		cfgscan_release(sc);
		return NULL;
	}
	snprintf(name, sizeof(name), "%s/%s", CFGSCAN_INCLUDE_DIR, copy);
	return name;
}

/* libconfig names an included file as it appeared in the @include. */
const char *
cfgscan_name(const struct cfgscan *sc, const char *name)
{
	size_t n = strlen(CFGSCAN_INCLUDE_DIR);
	const char *fd = name;

	if (name == NULL)
		return NULL;
	if (strncmp(name, CFGSCAN_INCLUDE_DIR, n) == 0 && name[n] == '/')
		fd = name + n + 1;
	for (size_t i = 0; i < sc->ncopies; i++)
		if (strcmp(fd, sc->copies[i].name) == 0)
			return sc->copies[i].path;
	return name;
}

void
cfgscan_release(struct cfgscan *sc)
{
	size_t kept = 0;

	for (size_t i = 0; i < sc->ncopies; i++) {
		if (sc->copies[i].read < sc->reads) {
			sc->copies[kept++] = sc->copies[i];
			continue;
		}
		close(sc->copies[i].fd);
		free(sc->copies[i].path);
	}
	sc->ncopies = kept;
	if (kept == 0) {
		free(sc->copies);
		sc->copies = NULL;
	}
	if (sc->reads > 0)
		sc->reads--;
}

bool
cfgscan_bigint(struct cfgscan *sc, const char *file, int line, const char *key,
    const char **text)
{
	for (size_t i = 0; i < sc->nbigints; i++) {
		struct cfgscan_bigint *b = &sc->bigints[i];
		if (b->line == line && strcmp(b->key, key) == 0 &&
		    strcmp(b->file, file) == 0) {
			b->reported = true;
			*text = b->text;
			return true;
		}
	}
	return false;
}

unsigned
cfgscan_leftovers(struct cfgscan *sc)
{
	unsigned errors = 0;

	for (size_t i = 0; i < sc->nbigints; i++) {
		struct cfgscan_bigint *b = &sc->bigints[i];
		if (!b->reported) {
			cfgerr_add(sc->err, b->file, b->line,
			    "%s: %s does not fit in a 32-bit integer", b->key, b->text);
			errors++;
		}
	}
	return errors;
}

void
cfgscan_free(struct cfgscan *sc)
{
	while (sc->reads > 0)
		cfgscan_release(sc);
	for (size_t i = 0; i < sc->nbigints; i++)
		free(sc->bigints[i].file);
	free(sc->bigints);
	sc->bigints = NULL;
	sc->nbigints = 0;
}
