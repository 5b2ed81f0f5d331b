/*
 * sockd's command line: the options, -t (check the file in a child and
 * say OK or every error), and the start of the master (master.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cfgcheck.h"
#include "convert.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "master.h"
#include "sig.h"

#ifndef SOCKD_CONF
#define SOCKD_CONF "/usr/local/etc/sockd.conf"
#endif
#ifndef SOCKD_VERSION
#define SOCKD_VERSION "unknown"
#endif

#define EXIT_USAGE 2

struct options {
	const char *conf;
	const char *pidfile;
	bool foreground, debug, test;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: sockd [-dFhtV] [-f file] [-p pidfile]\n"
	    "       sockd --convert PATH\n");
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	/* The GNU spellings, which people type first. */
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "convert", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*o = (struct options){ .conf = SOCKD_CONF };
	while ((ch = getopt_long(argc, argv, "dFf:hp:tV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->debug = true; break;
		case 'F': o->foreground = true; break;
		case 'f': o->conf = optarg; break;
		case 'p': o->pidfile = optarg; break;
		case 't': o->test = true; break;
		case 'C': exit(convert_run(optarg, stdout, stderr));
		case 'h':
			usage(stdout);
			printf("  -d             debug logging (connections, children)\n"
			    "  -F             stay in the foreground, log to stderr\n"
			    "  -f file        configuration file (default %s)\n"
			    "  -h, --help     this help\n"
			    "  -p pidfile     write the daemon's pid there\n"
			    "  -t             check the configuration and exit\n"
			    "  -V, --version  print the version\n"
			    "  --convert PATH print PATH (xinetd.conf, xinetd.d or inetd.conf)\n"
			    "                 as a sockd.conf\n", SOCKD_CONF);
			exit(0);
		case 'V':
			printf("sockd %s\n", SOCKD_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sockd: unexpected argument \"%s\" (options only)\n",
		    argv[optind]);
		usage(stderr);
		exit(EXIT_USAGE);
	}
}

static struct config *
load(const char *path)
{
	struct cfgerr err = { 0 };
	struct config *cfg = NULL;

	if (cfgcheck_run(path, CFGCHECK_TIMEOUT_MS, &err) == 0)
		cfg = config_load_checked(path, &err);
	if (cfg == NULL)
		fputs(err.text ? err.text : "sockd: cannot load the configuration\n",
		    stderr);
	/* Before detaching, and with -t: the terminal or the unit's log. */
	else if (cfg->warnings.text)
		fputs(cfg->warnings.text, stderr);
	cfgerr_free(&err);
	return cfg;
}

/* -t: the summary, and the hand-over format an upgrade checks for. */
static int
test_only(struct config *cfg)
{
	printf("sockd: %s: OK, %zu services (%zu enabled)\n", cfg->path,
	    cfg->nsvcs, cfg->nenabled);
	upgrade_print_format();
	config_unref(cfg);
	return 0;
}

static int
open_pidfile(struct pidfile *pf, const char *path)
{
	pid_t holder;

	if (pidfile_open(pf, path, &holder) == 0)
		return 0;
	if (holder > 0)
		log_warnx("pidfile %s is locked by pid %ld: already running?",
		    path, (long)holder);
	else
		log_warn("pidfile %s", path);
	return -1;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct config *cfg;
	struct sockd sd = { .cli_log_level = -1 };
	struct pidfile pf = { .fd = -1 };
	const char *pidpath;
	int rc = 1, upgraded;

	parse_options(argc, argv, &o);
	sd.foreground = o.foreground;
	if (o.debug)
		sd.cli_log_level = LOG_DEBUG;
	/* Before daemon_stdio() makes what an upgrade handed over close-on-exec. */
	adopt_scan(&sd);
	if (daemon_stdio() == -1)
		return 1;
	/* Absolute, so a reload still finds it after the chdir("/") of -F-less runs. */
	char *conf = realpath(o.conf, NULL);
	cfg = load(conf ? conf : o.conf);
	free(conf);
	if (cfg == NULL) {
		free(sd.up.fds.fd);
		return 1;
	}
	if (o.test)
		return test_only(cfg);
	log_init(true, o.debug ? LOG_DEBUG : LOG_INFO);
	upgrade_init(&sd, argv[0]);
	/* The new image of an upgrade in place (SIGUSR2): already a daemon. */
	upgraded = adopt_begin(&sd);

	pidpath = o.pidfile ? o.pidfile : cfg->global.pidfile;
	if (pidpath && open_pidfile(&pf, pidpath) == -1)
		goto out;
	/* Every socket is bound while errors can still reach the terminal. */
	if (master_open(&sd, cfg) == -1)
		goto out_master;
	if (!o.foreground && !upgraded &&
	    daemon_detach(cfg->global.log == LOG_DEST_STDERR) == -1) {
		log_warn("daemonize");
		goto out_master;
	}
	if (master_start(&sd) == -1)
		goto out_master;
	adopt_finish(&sd);
	reload_log_config(&sd);
	if (pidpath && pidfile_write(&pf) == -1)
		log_warn("pidfile %s", pidpath);
	sd.up.pidfile = o.pidfile ? pf.path : NULL;
	sig_fatal_pidfile(pf.path);
	log_event_always(LOG_INFO, "ready", &KV_I("services", (long long)sd.nsvcs), 1,
	    "ready: %zu services", sd.nsvcs);
	rc = master_run(&sd);
	log_event(LOG_INFO, "exit", NULL, 0, "exiting");
out_master:
	cfg = sd.cfg;		/* a reload may have replaced it */
	master_close(&sd);
	pidfile_remove(&pf);
out:
	upgrade_cancel(&sd);	/* done by master_close() if it ran */
	config_unref(cfg);
	return rc;
}
