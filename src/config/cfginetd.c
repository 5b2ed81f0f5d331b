/*
 * inetd_conf: the services of a classic inetd.conf, read beside those of
 * sockd.conf. Each line (inetdconf.c parses it) is written as the service
 * group it stands for and given to cfgservice_parse(), so it obeys every
 * rule and takes the sockd section's defaults as if written in sockd.conf;
 * its errors point at the inetd.conf line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgload.h"
#include "inetdconf.h"

static void
add_string(config_setting_t *grp, const char *key, const char *v)
{
	config_setting_set_string(config_setting_add(grp, key,
	    CONFIG_TYPE_STRING), v);
}

static void
add_int(config_setting_t *grp, const char *key, int v)
{
	config_setting_set_int(config_setting_add(grp, key, CONFIG_TYPE_INT), v);
}

static void
add_bool(config_setting_t *grp, const char *key, bool v)
{
	config_setting_set_bool(config_setting_add(grp, key, CONFIG_TYPE_BOOL), v);
}

/* Where the entry listens: its address, or its protocol's wildcard. */
static void
add_address(config_setting_t *grp, const struct inetdconf_entry *e)
{
	const char *a = e->host;

	if (a == NULL)
		a = e->family == INETDCONF_V4 ? "0.0.0.0" : "::";
	add_string(grp, "address", a);
	/* tcp and udp take both families on one socket; tcp6 and udp6 not. */
	add_bool(grp, "v6only", e->family == INETDCONF_V6);
}

/* The service group an entry stands for, in a scratch configuration. */
static config_setting_t *
entry_group(config_t *lc, const struct inetdconf_entry *e, const char *name)
{
	config_setting_t *grp = config_setting_add(config_root_setting(lc), "s",
	    CONFIG_TYPE_GROUP), *args;
	unsigned rate, burst;

	add_string(grp, "name", name);
	add_string(grp, "protocol", e->udp ? "udp" : "tcp");
	add_int(grp, "port", e->port);
	add_address(grp, e);
	if (e->program == NULL)
		add_string(grp, "builtin", e->service);
	else {
		add_string(grp, "server", e->program);
		args = config_setting_add(grp, "args", CONFIG_TYPE_ARRAY);
		for (int i = 0; e->argv[i]; i++)
			config_setting_set_string_elem(args, -1, e->argv[i]);
		add_bool(grp, "wait", e->wait);
	}
	add_string(grp, "user", e->user);
	if (e->group)
		add_string(grp, "group", e->group);
	if (e->max > 0) {
		inetdconf_rate(e->max, &rate, &burst);
		add_int(grp, "rate", rate);
		add_int(grp, "rate_burst", burst);
	}
	return grp;
}

/* Appends the service of one entry; returns the errors reported. */
static unsigned
add_entry(struct loader *ld, const char *path, int line,
    const struct inetdconf_entry *e)
{
	struct config *cfg = ld->cfg;
	char name[CONFIG_NAME_MAX + 1];
	struct svc_conf *v, *sc;
	unsigned errors;
	config_t lc;

	if (!inetdconf_name(e, name, sizeof(name))) {
		cfgerr_add(ld->err, path, line, "the service's name \"%s...\" "
		    "would be longer than %d characters", name, CONFIG_NAME_MAX);
		return 1;
	}
	if ((v = realloc(cfg->svcs, (cfg->nsvcs + 1) * sizeof(*v))) == NULL) {
		cfgerr_add(ld->err, path, line, "out of memory");
		return 1;
	}
	cfg->svcs = v;
	sc = &cfg->svcs[cfg->nsvcs++];
	config_init(&lc);
	ld->origin_file = path;
	ld->origin_line = line;
	errors = cfgservice_parse(ld, entry_group(&lc, e, name), 0, sc);
	ld->origin_file = NULL;
	config_destroy(&lc);
	free(sc->file);
	sc->file = strdup(path);
	sc->line = line;
	cfg->nenabled++;
	return errors;
}

/* One line; host is the default address an "address:" line set. */
static unsigned
parse_line(struct loader *ld, const char *path, int lineno, const char *line,
    char **host)
{
	struct inetdconf_entry e;
	char err[INETDCONF_ERRLEN];
	unsigned errors = 0;

	switch (inetdconf_parse(line, *host, &e, err)) {
	case INETDCONF_ERROR:
		cfgerr_add(ld->err, path, lineno, "%s", err);
		errors = 1;
		break;
	case INETDCONF_HOST:
		free(*host);
		*host = e.host ? strdup(e.host) : NULL;
		break;
	case INETDCONF_SERVICE:
		errors = add_entry(ld, path, lineno, &e);
		break;
	case INETDCONF_BLANK:
	case INETDCONF_OFF:
		break;
	}
	inetdconf_free(&e);
	return errors;
}

/*
 * Every line of the file. One that cannot be read is an error, as an
 * include_dir that cannot be: a reload must not drop its services.
 */
unsigned
cfginetd_parse(struct loader *ld, const config_setting_t *where)
{
	const char *path = ld->cfg->global.inetd_conf;
	char *line = NULL, *host = NULL;
	unsigned errors = 0;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;
	FILE *f;

	/* A file update-inetd has not made yet holds no services. */
	if ((f = fopen(path, "re")) == NULL && errno == ENOENT)
		return 0;
	if (f == NULL) {
		cfgerr_add(ld->err, cfgkeys_file(ld, where),
		    config_setting_source_line(where), "inetd_conf \"%s\": %s",
		    path, strerror(errno));
		return 1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (strlen(line) != (size_t)n) {
			cfgerr_add(ld->err, path, lineno, "a NUL byte in the line");
			errors++;
			continue;
		}
		errors += parse_line(ld, path, lineno, line, &host);
	}
	if (ferror(f)) {
		cfgerr_add(ld->err, path, lineno, "%s", strerror(errno));
		errors++;
	}
	free(line);
	free(host);
	fclose(f);
	return errors;
}
