/*
 * The xinetd.conf(5) reader: blocks, attributes and the two inclusions,
 * as words. xinetd's rules for a directory are kept: files whose names
 * hold a '.' or end in '~' are skipped (backups, package leftovers).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xinetd.h"

#define XINETD_DEPTH 8		/* includes within includes */

struct reader {
	struct xinetd_conf *xc;
	struct cfgerr *err;
	const char *file;
	int line;
	struct xinetd_svc *open;	/* the block being read */
	bool want_brace;		/* a block's name was read, '{' is next */
	int depth;
};

static int read_any(struct xinetd_conf *, const char *, struct cfgerr *, int);

static char **
words(char *s, size_t *n)
{
	char **v = calloc(strlen(s) / 2 + 2, sizeof(char *));
	char *save = NULL;

	*n = 0;
	if (v == NULL)
		return NULL;
	for (char *w = strtok_r(s, " \t\r", &save); w;
	    w = strtok_r(NULL, " \t\r", &save))
		v[(*n)++] = strdup(w);
	return v;
}

static void
strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static struct xinetd_svc *
svc_new(struct reader *r, const char *name)
{
	struct xinetd_conf *xc = r->xc;
	struct xinetd_svc *v = realloc(xc->svcs, (xc->nsvcs + 1) * sizeof(*v));

	if (v == NULL)
		return NULL;
	xc->svcs = v;
	v = &xc->svcs[xc->nsvcs++];
	memset(v, 0, sizeof(*v));
	v->name = name ? strdup(name) : NULL;
	v->file = strdup(r->file);
	v->line = r->line;
	return v;
}

/* "key = words", "key += words" or "key -= words" inside a block. */
static void
attr_line(struct reader *r, char *s)
{
	struct xinetd_svc *sv = r->open;
	char *eq = strchr(s, '='), *key = s, *end;
	struct xinetd_attr *a;
	char op = '=';
	size_t n;

	if (eq == NULL) {
		cfgerr_add(r->err, r->file, r->line, "expected \"attribute = value\"");
		return;
	}
	if (eq > s && (eq[-1] == '+' || eq[-1] == '-')) {
		op = eq[-1];
		eq[-1] = ' ';
	}
	*eq = '\0';
	for (end = eq; end > key && isspace((unsigned char)end[-1]); end--)
		end[-1] = '\0';
	if (*key == '\0' || strpbrk(key, " \t")) {
		cfgerr_add(r->err, r->file, r->line, "attribute \"%s\": one word", key);
		return;
	}
	if ((a = realloc(sv->attrs, (sv->nattrs + 1) * sizeof(*a))) == NULL)
		return;
	sv->attrs = a;
	a = &sv->attrs[sv->nattrs++];
	a->key = strdup(key);
	a->op = op;
	a->values = words(eq + 1, &n);
	a->line = r->line;
}

/* A line outside a block: service, defaults, includedir, include. */
static void
top_line(struct reader *r, char *s)
{
	size_t n;
	char **w = words(s, &n);

	if (w == NULL)
		return;
	if (n >= 1 && n <= 3 && strcmp(w[0], "service") == 0 && n >= 2) {
		r->open = svc_new(r, w[1]);
		r->want_brace = !(n == 3 && strcmp(w[2], "{") == 0);
	} else if (n >= 1 && n <= 2 && strcmp(w[0], "defaults") == 0) {
		r->open = svc_new(r, NULL);
		r->want_brace = !(n == 2 && strcmp(w[1], "{") == 0);
	} else if (n == 2 && (strcmp(w[0], "includedir") == 0 ||
	    strcmp(w[0], "include") == 0)) {
		if (r->depth >= XINETD_DEPTH)
			cfgerr_add(r->err, r->file, r->line, "%s: nested too deep", w[0]);
		else
			read_any(r->xc, w[1], r->err, r->depth + 1);
	} else
		cfgerr_add(r->err, r->file, r->line, "expected service, defaults, "
		    "includedir or include");
	strv_free(w);
}

static void
one_line(struct reader *r, char *s)
{
	s += strspn(s, " \t\r");
	if (*s == '#' || *s == '\0')
		return;
	if (r->want_brace) {
		if (strcmp(s, "{") != 0)
			cfgerr_add(r->err, r->file, r->line, "expected '{'");
		r->want_brace = false;
	} else if (r->open == NULL)
		top_line(r, s);
	else if (strncmp(s, "}", 1) == 0)
		r->open = NULL;
	else
		attr_line(r, s);
}

static int
read_file(struct xinetd_conf *xc, const char *path, struct cfgerr *err,
    int depth)
{
	struct reader r = { .xc = xc, .err = err, .file = path, .depth = depth };
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		cfgerr_add(err, path, 0, "%s", strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		r.line++;
		line[strcspn(line, "\n")] = '\0';
		one_line(&r, line);
	}
	if (r.open || r.want_brace)
		cfgerr_add(err, path, r.line, "the block opened at line %d is not "
		    "closed", r.open ? r.open->line : r.line);
	free(line);
	fclose(f);
	return 0;
}

static int
read_dir(struct xinetd_conf *xc, const char *dir, struct cfgerr *err,
    int depth)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	if (n == -1) {
		cfgerr_add(err, dir, 0, "%s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *path;
		if (strchr(name, '.') == NULL && name[strlen(name) - 1] != '~' &&
		    asprintf(&path, "%s/%s", dir, name) != -1) {
			read_file(xc, path, err, depth);
			free(path);
		}
		free(ents[i]);
	}
	free(ents);
	return 0;
}

static int
read_any(struct xinetd_conf *xc, const char *path, struct cfgerr *err,
    int depth)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		cfgerr_add(err, path, 0, "%s", strerror(errno));
		return -1;
	}
	return S_ISDIR(st.st_mode) ? read_dir(xc, path, err, depth) :
	    read_file(xc, path, err, depth);
}

int
xinetd_read(struct xinetd_conf *xc, const char *path, struct cfgerr *err)
{
	return read_any(xc, path, err, 0);
}

const struct xinetd_attr *
xinetd_attr(const struct xinetd_svc *s, const char *key)
{
	const struct xinetd_attr *found = NULL;

	for (size_t i = 0; i < s->nattrs; i++)
		if (strcmp(s->attrs[i].key, key) == 0)
			found = &s->attrs[i];
	return found;
}

void
xinetd_free(struct xinetd_conf *xc)
{
	for (size_t i = 0; i < xc->nsvcs; i++) {
		struct xinetd_svc *s = &xc->svcs[i];
		for (size_t j = 0; j < s->nattrs; j++) {
			free(s->attrs[j].key);
			strv_free(s->attrs[j].values);
		}
		free(s->attrs);
		free(s->name);
		free(s->file);
	}
	free(xc->svcs);
	memset(xc, 0, sizeof(*xc));
}
