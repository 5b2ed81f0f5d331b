/*
 * The loader's entry point, config_load(): reads the main file and the
 * files of include_dir through cfgscan, walks the top level, and hands
 * each section to its cfg*.c file. Owns struct config's lifetime (the
 * reference count). Never logs, binds or exits; libconfig stays behind
 * cfgload.h.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgload.h"

static const struct keyspec top_keys[] = {
	{ KEY("sockd", K_GROUP) },
	{ KEY("services", K_LIST) },
	{ .name = NULL }
};

/* Files in include_dir may only add services. */
static const struct keyspec include_keys[] = {
	{ KEY("services", K_LIST) },
	{ .name = NULL }
};

const char *
svc_proto_name(enum svc_proto p)
{
	return p == PROTO_TCP ? "tcp" : p == PROTO_UDP ? "udp" : "unix";
}

static char *
abs_dir(const char *path)
{
	char *copy = strdup(path), *slash, *dir;

	if (copy == NULL)
		return NULL;
	slash = strrchr(copy, '/');
	if (slash == NULL)
		dir = realpath(".", NULL);
	else {
		*(slash == copy ? slash + 1 : slash) = '\0';
		dir = realpath(copy, NULL);
	}
	free(copy);
	return dir;
}

/* Appends the services of one list; returns the errors reported. */
static unsigned
add_services(struct loader *ld, const config_setting_t *list)
{
	struct config *cfg = ld->cfg;
	size_t n = config_setting_length(list), base = cfg->nsvcs;
	struct svc_conf *v;
	unsigned errors = 0;

	if ((v = realloc(cfg->svcs, (base + n + 1) * sizeof(*v))) == NULL)
		return 1;
	cfg->svcs = v;
	for (size_t i = 0; i < n; i++) {
		errors += cfgservice_parse(ld, config_setting_get_elem(list, i), i,
		    &cfg->svcs[base + i]);
		cfg->nsvcs++;
		if (!cfg->svcs[base + i].disabled)
			cfg->nenabled++;
	}
	return errors;
}

/*
 * Reads one file into lc: cfgscan checks it and what it includes, and
 * libconfig reads only the checked copies. Undone by close_file().
 */
static unsigned
read_file(struct loader *ld, config_t *lc, const char *path)
{
	const char *copy = cfgscan_file(&ld->scan, path);

	if (copy == NULL)
		return 1;
	config_init(lc);
	config_set_include_dir(lc, CFGSCAN_INCLUDE_DIR);
	if (config_read_file(lc, copy) != CONFIG_TRUE) {
		const char *f = cfgscan_name(&ld->scan, config_error_file(lc));
		cfgerr_add(ld->err, f ? f : path, config_error_line(lc), "%s",
		    config_error_text(lc));
		config_destroy(lc);
		cfgscan_release(&ld->scan);
		return 1;
	}
	return 0;
}

static void
close_file(struct loader *ld, config_t *lc)
{
	config_destroy(lc);
	cfgscan_release(&ld->scan);
}

static unsigned
parse_include(struct loader *ld, const char *path)
{
	config_setting_t *root, *list;
	config_t lc;
	unsigned errors = read_file(ld, &lc, path);

	if (errors > 0)
		return errors;
	root = config_root_setting(&lc);
	errors = cfgkeys_check(ld, root, include_keys, NULL, NULL);
	list = config_setting_get_member(root, "services");
	if (list && config_setting_type(list) == CONFIG_TYPE_LIST)
		errors += add_services(ld, list);
	close_file(ld, &lc);
	return errors;
}

/*
 * Hidden files are never read: editors and package managers leave them
 * (Emacs' ".#x.conf" lock is a dangling symlink), and run-parts(8) and
 * systemd's drop-in directories skip them too.
 */
static bool
is_conf_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/*
 * Every *.conf in include_dir, in lexical order; other names are noted
 * for the debug log. A directory or a *.conf that cannot be read is an
 * error: a reload must not silently drop the services it holds.
 */
static unsigned
parse_include_dir(struct loader *ld, const config_setting_t *where)
{
	struct config *cfg = ld->cfg;
	const char *dir = cfg->global.include_dir;
	struct dirent **ents;
	unsigned errors = 0;
	size_t nskipped = 0;
	int n;

	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		cfgerr_add(ld->err, cfgkeys_file(ld, where),
		    config_setting_source_line(where), "include_dir \"%s\": %s",
		    dir, strerror(errno));
		return 1;
	}
	cfg->skipped = calloc(n + 1, sizeof(char *));
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *path;

		if (asprintf(&path, "%s/%s", dir, name) == -1) {
			cfgerr_add(ld->err, dir, 0, "%s", strerror(errno));
			errors++;
			path = NULL;
		} else if (is_conf_name(name))
			errors += parse_include(ld, path);
		else if (name[0] != '.' && cfg->skipped) {
			cfg->skipped[nskipped++] = path;
			path = NULL;
		}
		free(path);
		free(ents[i]);
	}
	free(ents);
	return errors;
}

static unsigned
parse_root(struct loader *ld, config_t *lc)
{
	config_setting_t *root = config_root_setting(lc), *list, *g;
	unsigned errors = cfgkeys_check(ld, root, top_keys, NULL, NULL);
	struct config *cfg = ld->cfg;

	if ((g = config_setting_get_member(root, "sockd")) != NULL &&
	    config_setting_type(g) == CONFIG_TYPE_GROUP) {
		ld->global = g;
		errors += cfgglobal_parse(ld, g);
	}

	list = config_setting_get_member(root, "services");
	if (list == NULL && cfg->global.include_dir == NULL &&
	    cfg->global.inetd_conf == NULL) {
		cfgerr_add(ld->err, cfg->path, 1, "missing 'services' list");
		return errors + 1;
	}
	if (list && config_setting_type(list) == CONFIG_TYPE_LIST)
		errors += add_services(ld, list);
	if (cfg->global.include_dir)
		errors += parse_include_dir(ld, config_setting_get_member(g,
		    "include_dir"));
	if (cfg->global.inetd_conf)
		errors += cfginetd_parse(ld, config_setting_get_member(g,
		    "inetd_conf"));
	errors += cfgservice_check_unique(ld);
	errors += cfgunix_check_unique(ld);
	if (errors == 0 && cfg->nenabled == 0) {
		cfgerr_add(ld->err, list ? cfgkeys_file(ld, list) : cfg->path,
		    list ? config_setting_source_line(list) : 1, "no enabled service");
		errors++;
	}
	return errors;
}

static struct config *
load(const char *path, struct cfgerr *err, bool checked)
{
	struct loader ld = { .err = err, .scan = { .err = err },
	    .checked = checked };
	struct config *cfg;
	config_t lc;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (cfg->path = strdup(path)) == NULL) {
		free(cfg);
		cfgerr_add(err, path, 0, "out of memory");
		return NULL;
	}
	cfg->refs = 1;
	cfg->global.max_children = CONFIG_DEFAULT_MAX_CHILDREN;
	cfg->global.shutdown_grace = CONFIG_DEFAULT_SHUTDOWN_GRACE;
	cfg->global.fail_limit = CONFIG_DEFAULT_FAIL_LIMIT;
	cfg->global.log_level = -1;
	cfg->global.jail_ids_first = CONFIG_DEFAULT_JAIL_IDS_FIRST;
	cfg->global.jail_ids_last = CONFIG_DEFAULT_JAIL_IDS_FIRST +
	    CONFIG_DEFAULT_JAIL_IDS_COUNT - 1;
	ld.cfg = cfg;

	if ((ld.dir = abs_dir(path)) == NULL)
		cfgerr_add(err, path, 0, "cannot resolve its directory: %s",
		    strerror(errno));
	else {
		ld.scan.dir = ld.dir;
		if (read_file(&ld, &lc, path) == 0) {
			parse_root(&ld, &lc);
			close_file(&ld, &lc);
			cfgscan_leftovers(&ld.scan);
		}
	}
	cfgscan_free(&ld.scan);
	free(ld.dir);
	if (err->count > 0) {
		config_unref(cfg);
		return NULL;
	}
	return cfg;
}

struct config *
config_load(const char *path, struct cfgerr *err)
{
	return load(path, err, false);
}

struct config *
config_load_checked(const char *path, struct cfgerr *err)
{
	return load(path, err, true);
}

struct config *
config_ref(struct config *cfg)
{
	cfg->refs++;
	return cfg;
}

void
config_unref(struct config *cfg)
{
	if (cfg == NULL || --cfg->refs > 0)
		return;
	for (char **p = cfg->skipped; p && *p; p++)
		free(*p);
	free(cfg->skipped);
	free(cfg->global.include_dir);
	free(cfg->global.inetd_conf);
	for (size_t i = 0; i < cfg->nsvcs; i++)
		cfgservice_free(&cfg->svcs[i]);
	free(cfg->svcs);
	free(cfg->global.pidfile);
	free(cfg->global.control);
	free(cfg->path);
	cfgerr_free(&cfg->warnings);
	free(cfg);
}
