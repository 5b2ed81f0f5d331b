/*
 * Users and groups, files first (usersdb.h). fgetpwent() and fgetgrent()
 * parse a file without NSS; only what they do not find goes to
 * getpwnam() and friends.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usersdb.h"

static const char *passwd_file = "/etc/passwd", *group_file = "/etc/group";

void
usersdb_files(const char *passwd, const char *group)
{
	passwd_file = passwd ? passwd : "/etc/passwd";
	group_file = group ? group : "/etc/group";
}

/* s as a uid or gid number; false if it is not all digits or too big. */
static bool
number(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return *s >= '0' && *s <= '9' && *end == '\0' && errno == 0 &&
	    *v < (unsigned)-1;
}

static bool
take_user(const struct passwd *pw, struct usersdb_user *u, bool files)
{
	if (strlen(pw->pw_name) >= sizeof(u->name))
		return false;
	strcpy(u->name, pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->from_files = files;
	return true;
}

/* The first entry of the passwd file that is s, by name or number. */
static bool
file_user(const char *s, bool by_number, unsigned long v,
    struct usersdb_user *u)
{
	FILE *f = fopen(passwd_file, "re");
	struct passwd *pw;
	bool found = false;

	while (f && !found && (pw = fgetpwent(f)) != NULL)
		if (by_number ? pw->pw_uid == (uid_t)v : strcmp(pw->pw_name, s) == 0)
			found = take_user(pw, u, true);
	if (f)
		fclose(f);
	return found;
}

bool
usersdb_user(const char *s, struct usersdb_user *u)
{
	struct passwd *pw;
	unsigned long v;

	if (file_user(s, false, 0, u))
		return true;
	if ((pw = getpwnam(s)) != NULL)
		return take_user(pw, u, false);
	if (!number(s, &v))
		return false;
	if (file_user(s, true, v, u))
		return true;
	return (pw = getpwuid((uid_t)v)) != NULL && take_user(pw, u, false);
}

static bool
take_group(const struct group *gr, struct usersdb_group *g)
{
	if (strlen(gr->gr_name) >= sizeof(g->name))
		return false;
	strcpy(g->name, gr->gr_name);
	g->gid = gr->gr_gid;
	return true;
}

static bool
file_group(const char *s, bool by_number, unsigned long v,
    struct usersdb_group *g)
{
	FILE *f = fopen(group_file, "re");
	struct group *gr;
	bool found = false;

	while (f && !found && (gr = fgetgrent(f)) != NULL)
		if (by_number ? gr->gr_gid == (gid_t)v : strcmp(gr->gr_name, s) == 0)
			found = take_group(gr, g);
	if (f)
		fclose(f);
	return found;
}

bool
usersdb_group(const char *s, struct usersdb_group *g)
{
	struct group *gr;
	unsigned long v;

	if (file_group(s, false, 0, g))
		return true;
	if ((gr = getgrnam(s)) != NULL)
		return take_group(gr, g);
	if (!number(s, &v))
		return false;
	if (file_group(s, true, v, g))
		return true;
	return (gr = getgrgid((gid_t)v)) != NULL && take_group(gr, g);
}

/* Adds gid to groups unless it is there; counts what would not fit. */
static void
add_gid(gid_t gid, gid_t *groups, int room, int *n)
{
	for (int i = 0; i < *n && i < room; i++)
		if (groups[i] == gid)
			return;
	if (*n < room)
		groups[*n] = gid;
	(*n)++;
}

int
usersdb_groups(const struct usersdb_user *u, gid_t *groups, int *n)
{
	int room = *n, count = 0;
	struct group *gr;
	FILE *f;

	if (!u->from_files)
		return getgrouplist(u->name, u->gid, groups, n);
	add_gid(u->gid, groups, room, &count);
	if ((f = fopen(group_file, "re")) != NULL) {
		while ((gr = fgetgrent(f)) != NULL)
			for (char **m = gr->gr_mem; m && *m; m++)
				if (strcmp(*m, u->name) == 0) {
					add_gid(gr->gr_gid, groups, room, &count);
					break;
				}
		fclose(f);
	}
	*n = count;
	return count > room ? -1 : count;
}
