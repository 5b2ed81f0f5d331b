/*
 * A handler that speaks a little SMTP with STARTTLS the UCSPI-TLS way, for
 * the tests of a service with tls = { starttls = true; }: plain text on 0
 * and 1 until STARTTLS, then it writes its command (argv[1], "Y" unless
 * given) to $SSLCTLFD, reads the handshake's variables back after "Y", and
 * goes on in plain text on $SSLREADFD and $SSLWRITEFD, which the relay
 * carries over TLS. Commands: EHLO, STARTTLS, ENV (the variables as
 * 250 lines; those of its environment before TLS, those "Y" gave after),
 * FDS (how many descriptors it holds), LISTEN (what sd_listen_fds(3) would
 * find, and what the UCSPI-TLS descriptors are: "250 listen fds=<LISTEN_FDS>
 * pid_ok=<LISTEN_PID is ours> fd3=<conn: the connection, as on 0> ctl=
 * read= write=<socket, pipe-in, pipe-out, or bad>"), QUIT. Input is read
 * a byte at a time: what follows STARTTLS is the client's handshake, which
 * is the relay's to read, not ours.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int in = 0, out = 1;
static char told[4096];		/* "Y"'s answer: VAR=value NUL ... NUL */
static size_t ntold;

static void
say(const char *s)
{
	if (write(out, s, strlen(s)) < 0)
		exit(1);
}

/* A line without its CR LF; false at the end of input. */
static int
line(char *buf, size_t len)
{
	size_t n = 0;
	char c;

	while (read(in, &c, 1) == 1) {
		if (c == '\n') {
			if (n && buf[n - 1] == '\r')
				n--;
			buf[n] = '\0';
			return 1;
		}
		if (n < len - 1)
			buf[n++] = c;
	}
	return 0;
}

static int
fd_of(const char *name)
{
	const char *v = getenv(name);

	return v ? atoi(v) : -1;
}

/* STARTTLS: the command, then "Y"'s answer up to its two NULs. */
static void
starttls(const char *cmd)
{
	int ctl = fd_of("SSLCTLFD");

	say("220 ready to start TLS\r\n");
	if (ctl < 0 || write(ctl, cmd, 1) != 1)
		exit(1);
	if (cmd[0] == 'Y')
		while (ntold < sizeof(told) && read(ctl, told + ntold, 1) == 1)
			if (++ntold >= 2 && told[ntold - 1] == '\0' &&
			    told[ntold - 2] == '\0')
				break;
	in = fd_of("SSLREADFD");
	out = fd_of("SSLWRITEFD");
}

static void
env(void)
{
	char buf[600];
	extern char **environ;

	for (size_t at = 0; at < ntold && told[at]; at += strlen(told + at) + 1) {
		snprintf(buf, sizeof(buf), "250-told %s\r\n", told + at);
		say(buf);
	}
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "SSL", 3) == 0) {
			snprintf(buf, sizeof(buf), "250-env %s\r\n", *e);
			say(buf);
		}
	say("250 end\r\n");
}

static void
fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	char buf[64];
	int n = -1;	/* the directory's own */

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	/* "." and ".." */
	snprintf(buf, sizeof(buf), "250 fds %d\r\n", n - 2);
	say(buf);
}

/* What the descriptor a variable names is: the control socket, the pipe
 * to read, the pipe to write; "bad" if it is none of these, or 0 to 3. */
static const char *
ucspi_kind(const char *name)
{
	int fd = fd_of(name), fl;
	struct stat st;

	if (fd <= 3 || fstat(fd, &st) == -1 || (fl = fcntl(fd, F_GETFL)) == -1)
		return "bad";
	if (S_ISSOCK(st.st_mode))
		return "socket";
	if (S_ISFIFO(st.st_mode))
		return (fl & O_ACCMODE) == O_RDONLY ? "pipe-in" : "pipe-out";
	return "bad";
}

static void
listen_report(void)
{
	const char *pid = getenv("LISTEN_PID");
	struct stat s0, s3;
	char buf[256];

	snprintf(buf, sizeof(buf), "250 listen fds=%s pid_ok=%d fd3=%s ctl=%s "
	    "read=%s write=%s\r\n", getenv("LISTEN_FDS") ? getenv("LISTEN_FDS") :
	    "-", pid && atol(pid) == (long)getpid(), fstat(0, &s0) == 0 &&
	    fstat(3, &s3) == 0 && S_ISSOCK(s3.st_mode) && s0.st_ino == s3.st_ino ?
	    "conn" : "other", ucspi_kind("SSLCTLFD"), ucspi_kind("SSLREADFD"),
	    ucspi_kind("SSLWRITEFD"));
	say(buf);
}

int
main(int argc, char **argv)
{
	char buf[512];

	say("220 sockd test ESMTP\r\n");
	while (line(buf, sizeof(buf))) {
		if (strncmp(buf, "EHLO", 4) == 0)
			say(out == 1 ? "250-sockd\r\n250 STARTTLS\r\n" : "250 sockd\r\n");
		else if (strcmp(buf, "STARTTLS") == 0 && out == 1)
			starttls(argc > 1 ? argv[1] : "Y");
		else if (strcmp(buf, "ENV") == 0)
			env();
		else if (strcmp(buf, "FDS") == 0)
			fds();
		else if (strcmp(buf, "LISTEN") == 0)
			listen_report();
		else if (strcmp(buf, "QUIT") == 0) {
			say("221 bye\r\n");
			return 0;
		} else
			say("500 what?\r\n");
	}
	return 0;
}
