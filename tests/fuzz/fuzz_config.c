/*
 * libFuzzer target for the loader: each input is written as a main
 * configuration file next to bait (a FIFO, a directory, an included file)
 * and loaded in this process. A hang, a crash, a sanitizer report or an
 * exit() from libconfig is a finding. libconfig 1.5's own leaks on syntax
 * errors are known and contained by the checking child (cfgcheck.c), so
 * `make fuzz` runs with -detect_leaks=0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char dir[] = "/tmp/sockd-fuzz.XXXXXX";
static char conf[sizeof(dir) + 16];

static void
unbait(void)
{
	static const char *const names[] = { "fifo", "dir", "inc.conf",
	    "sockd.conf" };
	char p[sizeof(dir) + 16];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		if (unlink(p) == -1)
			rmdir(p);
	}
	rmdir(dir);
}

static void
bait(void)
{
	char p[sizeof(dir) + 16];
	FILE *fp;

	if (mkdtemp(dir) == NULL)
		abort();
	atexit(unbait);
	snprintf(conf, sizeof(conf), "%s/sockd.conf", dir);
	snprintf(p, sizeof(p), "%s/fifo", dir);
	mkfifo(p, 0600);
	snprintf(p, sizeof(p), "%s/dir", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/inc.conf", dir);
	if ((fp = fopen(p, "w")) != NULL) {
		fputs("services = ( { name = \"i\"; protocol = \"udp\"; port = 7;"
		    " builtin = \"echo\"; } );\n", fp);
		fclose(fp);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct cfgerr err = { 0 };
	struct config *cfg;
	FILE *fp;

	/*
	 * A flag, not a look at the template: mkdtemp() may well choose a
	 * name that ends in 'X', and a second bait() would then abort.
	 */
	static int baited;

	if (!baited) {
		bait();
		baited = 1;
	}
	if ((fp = fopen(conf, "w")) == NULL)
		abort();
	fwrite(data, 1, len, fp);
	fclose(fp);
	cfg = config_load(conf, &err);
	/* Either a configuration or at least one error, never neither. */
	if (cfg == NULL && err.count == 0)
		abort();
	config_unref(cfg);
	cfgerr_free(&err);
	return 0;
}
