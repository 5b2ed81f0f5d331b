/*
 * Loading the TLS module (tlsmod.h). A build tree's sockd finds the module
 * it was built with beside itself (src/sockd-tls.so); an installed one,
 * from SOCKD_TLSMOD, where `make install` put it. The search is only these
 * two places, both as trusted as the binary (the first only when no one
 * who could not write the binary could have put the module there): no
 * environment variable, as a root daemon must not load code a caller
 * names.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tlsmod.h"

#ifndef SOCKD_TLSMOD
#define SOCKD_TLSMOD "/usr/local/lib/sockd/" TLSMOD_FILE
#endif

static const struct tlsmod *loaded;

const struct tlsmod *
tlsmod(void)
{
	return loaded;
}

/*
 * Whether st may be trusted as much as the binary: owned by root, by us or
 * by the binary's owner, writable by no other, and by its group only
 * where that group may write the binary too (a build tree made with
 * umask 002). A sticky directory writable by all (/tmp) is not: anyone
 * may add the file that is missing.
 */
static bool
as_trusted(const struct stat *st, const struct stat *bin)
{
	return (st->st_uid == 0 || st->st_uid == geteuid() ||
	    st->st_uid == bin->st_uid) && (st->st_mode & S_IWOTH) == 0 &&
	    ((st->st_mode & S_IWGRP) == 0 || (st->st_gid == bin->st_gid &&
	    (bin->st_mode & S_IWGRP)));
}

/*
 * The module beside the running executable, if there is one there that
 * only those who could replace the binary could have put there: a root
 * daemon run from a directory others write to loads the installed one.
 */
static bool
beside_exe(char *path, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat bin, dir, mod;
	char *slash;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	/* The binary itself, even replaced since it started ("(deleted)"). */
	if (stat("/proc/self/exe", &bin) == -1 ||
	    (slash = strrchr(exe, '/')) == NULL)
		return false;
	*slash = '\0';
	return (size_t)snprintf(path, len, "%s/%s", exe, TLSMOD_FILE) < len &&
	    stat(exe[0] ? exe : "/", &dir) == 0 && as_trusted(&dir, &bin) &&
	    lstat(path, &mod) == 0 && S_ISREG(mod.st_mode) &&
	    as_trusted(&mod, &bin);
}

static const struct tlsmod *
open_module(const char *path, char *why, size_t len)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	const struct tlsmod *m;
	const char *e;

	if (h == NULL) {
		e = dlerror();
		/* dlerror() names the path already. */
		snprintf(why, len, "%s", e ? e : path);
		return NULL;
	}
	if ((m = dlsym(h, "sockd_tlsmod")) == NULL)
		snprintf(why, len, "%s: no sockd_tlsmod: not sockd's "
		    "TLS module", path);
	else if (m->abi == NULL || strcmp(m->abi, TLSMOD_ABI) != 0)
		snprintf(why, len, "%s: \"%s\", not \"%s\": a TLS "
		    "module of another build", path, m->abi ? m->abi : "?",
		    TLSMOD_ABI);
	else
		return m;
	dlclose(h);
	return NULL;
}

/* A failure is not remembered: with the module installed since, the next
 * reload finds it. */
const struct tlsmod *
tlsmod_load(char *why, size_t len)
{
	char path[PATH_MAX];

	if (loaded == NULL)
		loaded = open_module(beside_exe(path, sizeof(path)) ? path :
		    SOCKD_TLSMOD, why, len);
	return loaded;
}
