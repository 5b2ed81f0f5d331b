/*
 * Users and groups for the loader: /etc/passwd and /etc/group first, read
 * as plain files, then the system's databases (NSS) for what the files do
 * not hold. The files answer most configurations (nobody, www-data, a
 * service's own user) without the master loading NSS modules, which on
 * Debian 12 (passwd: files systemd) map libnss_systemd and, with it, libm
 * and libcap: about 600 kB of a master's resident memory for the life of
 * the daemon. The order is NSS's own for "files" first. Results are
 * copied into the caller's struct; nothing is kept.
 */
#ifndef SOCKD_USERSDB_H
#define SOCKD_USERSDB_H

#include <stdbool.h>
#include <sys/types.h>

#define USERSDB_NAME_MAX 64

struct usersdb_user {
	char name[USERSDB_NAME_MAX];
	uid_t uid;
	gid_t gid;		/* primary group */
	bool from_files;	/* found in /etc/passwd */
};

struct usersdb_group {
	char name[USERSDB_NAME_MAX];
	gid_t gid;
};

/* A user by name, else by number; false if neither database has one. */
bool usersdb_user(const char *s, struct usersdb_user *);
/* A group by name, else by number; false if neither database has one. */
bool usersdb_group(const char *s, struct usersdb_group *);
/*
 * The groups of u, its primary one first, into groups (room for *n);
 * -1 with *n the number needed when there is not room. From /etc/group
 * for a user the files hold, else getgrouplist().
 */
int usersdb_groups(const struct usersdb_user *, gid_t *groups, int *n);
/* The files to read, for tests; NULL restores /etc's. */
void usersdb_files(const char *passwd, const char *group);

#endif
