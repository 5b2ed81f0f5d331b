/*
 * SIGUSR2 in the old image: check the binary at the path sockd was
 * started as (it must
 * run, accept the configuration file and read a snapshot of the state:
 * "sockd -t", which with SOCKD_UPGRADE_CHECK set names the hand-over
 * format it read), let
 * the scrapes in progress end, write the state (upstate.c) into a memfd,
 * keep the listening sockets, stderr logs and per-peer UDP relays open
 * across the exec, and
 * exec. Same pid: the children stay ours, a supervisor sees no restart.
 * Whatever fails before the exec is logged and sockd goes on as it was.
 * Never touches a child.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "errlog.h"
#include "log.h"
#include "sockd.h"
#include "udppeer.h"
#include "upstate.h"

/*
 * For "sockd -t": the request to name the hand-over format it reads, and
 * a snapshot of the running daemon's state that it must read first
 * (releases before this one set only the request).
 */
#define UPGRADE_ENV_CHECK "SOCKD_UPGRADE_CHECK"
#define UPGRADE_ENV_STATE "SOCKD_UPGRADE_STATE"
/* How long the new binary's check may take. */
#define UPGRADE_CHECK_MS 10000
#define UPGRADE_OUT_MAX 4096

/* What a new binary that can take over prints, among -t's lines. */
#define UPGRADE_FORMAT_LINE "sockd: upgrade format %d\n"
#define UPGRADE_SCRAPE_POLL_MS 50

/* A command name without a slash, as execvp() would find it in PATH. */
static char *
in_path(const char *name)
{
	const char *dir = getenv("PATH");
	char cwd[PATH_MAX], buf[PATH_MAX * 2 + 2];
	const char *here = getcwd(cwd, sizeof(cwd)) ? cwd : ".";

	while (dir && *dir) {
		size_t n = strcspn(dir, ":");
		/* An empty entry, or a relative one, is the working directory's. */
		if (n == 0)
			snprintf(buf, sizeof(buf), "%s/%s", here, name);
		else if (dir[0] != '/')
			snprintf(buf, sizeof(buf), "%s/%.*s/%s", here, (int)n, dir, name);
		else
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, dir, name);
		if (access(buf, X_OK) == 0)
			return strdup(buf);
		dir += n + (dir[n] == ':');
	}
	return NULL;
}

/*
 * The path sockd was started as, made absolute but not resolved through
 * symbolic links: an administrator who points /usr/sbin/sockd at a new
 * release, or replaces the file, upgrades to what the path names now.
 * /proc/self/exe would name the file the old image was loaded from.
 */
static char *
start_path(const char *argv0)
{
	char cwd[PATH_MAX], *p;

	if (argv0 == NULL || *argv0 == '\0')
		return NULL;
	if (argv0[0] == '/')
		return strdup(argv0);
	if (strchr(argv0, '/') == NULL)
		return in_path(argv0);
	if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    asprintf(&p, "%s/%s", cwd, argv0) == -1)
		return NULL;
	return p;
}

/* Whether path names the file this process runs now: argv[0] is only
 * what the caller chose to pass. */
static bool
running(const char *path)
{
	struct stat a, b;

	return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

void
upgrade_init(struct sockd *sd, const char *argv0)
{
	char path[PATH_MAX];
	ssize_t n;

	sd->up.check = (struct checkchild){ .pid = -1, .pidfd = -1, .fd = -1 };
	sd->up.w.fd = -1;
	if ((sd->up.self = start_path(argv0)) != NULL && running(sd->up.self))
		return;
	free(sd->up.self);
	sd->up.self = NULL;
	free(sd->up.why);
	sd->up.why = NULL;
	/* Only if argv[0] does not name the running binary. */
	if ((n = readlink("/proc/self/exe", path, sizeof(path) - 1)) > 0) {
		path[n] = '\0';
		sd->up.self = strdup(path);
	}
}

/*
 * For "sockd -t" run as the check: the format of the snapshot of the
 * running daemon's state, once this binary has read it whole; or, asked
 * by a release that sends no snapshot, every format it reads. The image
 * that runs the check looks for its own format's line, so an older sockd
 * can upgrade to this one, and a state this one cannot read whole stops
 * the upgrade before the exec: the new image would go on without what it
 * could not read, the old one still has it all.
 */
void
upgrade_print_format(void)
{
	const char *state = getenv(UPGRADE_ENV_STATE);
	struct upstate u;

	if (getenv(UPGRADE_ENV_CHECK) == NULL)
		return;
	if (state == NULL) {
		for (int v = UPSTATE_OLDEST; v <= UPSTATE_VERSION; v++)
			printf(UPGRADE_FORMAT_LINE, v);
		return;
	}
	if (upstate_read(atoi(state), &u) == -1) {
		printf("sockd: cannot read the running sockd's state (this binary "
		    "reads formats %d to %d)\n", UPSTATE_OLDEST, UPSTATE_VERSION);
		return;
	}
	for (size_t i = 0; i < u.ndrops; i++)
		printf("sockd: cannot read the running sockd's state (format %d), "
		    "line %u (%s): %s\n", u.version, u.drops[i].line,
		    u.drops[i].kind, u.drops[i].why);
	if (u.ndrops == 0)
		printf(UPGRADE_FORMAT_LINE, u.version);
	upstate_free(&u);
}

static void
check_end(struct sockd *sd)
{
	struct upgrade *up = &sd->up;

	loop_timer_stop(&sd->loop, &up->timer);
	if (up->w.fd != -1) {
		loop_remove(&sd->loop, &up->w);
		up->w.fd = -1;
	}
	(void)checkchild_end(&up->check);
}

/*
 * What went wrong, for the control clients that wait (control.c): what
 * the check logged (check_done()'s capture), else the reason alone.
 */
static void
give_up(struct sockd *sd, const char *why)
{
	struct upgrade *up = &sd->up;
	char *text;

	log_warnx("upgrade: %s; sockd goes on as it is", why);
	free(up->why);
	if ((text = log_capture_end()) == NULL)
		text = strdup(why);
	up->why = text;
	up->failures++;
	sd->up.exec_pending = false;
	gate_update_all(sd);
	notify_send(&sd->notify, "READY=1");
}

static void
keep_peer(const struct udppeer_state *st, void *keep)
{
	(void)fcntl(st->fd, F_SETFD, *(bool *)keep ? 0 : FD_CLOEXEC);
}

/* The descriptors that must live through the exec: on, off close-on-exec. */
static void
keep_across_exec(const struct sockd *sd, bool keep)
{
	for (size_t i = 0; i < sd->nsvcs; i++)
		udppeer_each(sd->svcs[i], keep_peer, &keep);
	for (size_t i = 0; i < sd->nsvcs; i++)
		for (size_t j = 0; j < sd->svcs[i]->nls; j++)
			if (sd->svcs[i]->ls[j].fd != -1)
				(void)fcntl(sd->svcs[i]->ls[j].fd, F_SETFD,
				    keep ? 0 : FD_CLOEXEC);
	for (size_t i = 0; i < sd->inherited.n; i++)
		if (sd->inherited.s[i].kept)
			(void)fcntl(sd->inherited.s[i].fd, F_SETFD, keep ? 0 : FD_CLOEXEC);
	for (const struct errlog *el = sd->errlogs; el; el = errlog_next(el))
		(void)fcntl(errlog_reader(el), F_SETFD, keep ? 0 : FD_CLOEXEC);
	/* The new image answers the control clients waiting for it. */
	int w[UPSTATE_WAITERS_MAX];
	size_t nw = control_waiters(sd, w, UPSTATE_WAITERS_MAX);
	for (size_t i = 0; i < nw; i++)
		(void)fcntl(w[i], F_SETFD, keep ? 0 : FD_CLOEXEC);
}

/*
 * The command line of the new image: the options of this one, with the
 * files by their absolute paths, as a daemon's working directory is "/"
 * and a relative -f or -p would name other files there.
 */
static void
exec_args(const struct sockd *sd, char *argv[8])
{
	int n = 0;

	argv[n++] = sd->up.self;
	if (sd->foreground)
		argv[n++] = "-F";
	if (sd->cli_log_level == LOG_DEBUG)
		argv[n++] = "-d";
	argv[n++] = "-f";
	argv[n++] = sd->cfg->path;
	if (sd->up.pidfile) {
		argv[n++] = "-p";
		argv[n++] = (char *)sd->up.pidfile;
	}
	argv[n] = NULL;
}

static void
exec_now(struct sockd *sd)
{
	char num[16], *argv[8];
	int fd;

	for (size_t i = 0; i < sd->nsvcs; i++)
		udppeer_settle(sd->svcs[i]);
	if ((fd = memfd_create("sockd-upgrade", 0)) == -1 ||
	    upcollect_write(fd, sd) == -1) {
		log_warn("upgrade: the state");
		if (fd != -1)
			close(fd);
		give_up(sd, "cannot write the state");
		return;
	}
	/* Only once the exec is sure but for execv: a sockd that goes on
	 * would have cut these lines in two. Answers a handler wrote this
	 * batch wait for its end (udppeer.c), which this image never sees. */
	errlog_flush_all(sd->errlogs);
	loop_run_deferred(&sd->loop);
	snprintf(num, sizeof(num), "%d", fd);
	keep_across_exec(sd, true);
	log_info("SIGUSR2: upgrading in place: exec %s with %zu handlers running",
	    sd->up.self, sd->children.count);
	exec_args(sd, argv);
	/* The new image tells the service manager it is ready, too. */
	if (setenv(UPSTATE_ENV_FD, num, 1) == 0 && notify_env(&sd->notify) == 0)
		execv(sd->up.self, argv);
	log_warn("upgrade: exec %s", sd->up.self);
	unsetenv(UPSTATE_ENV_FD);
	unsetenv("NOTIFY_SOCKET");
	keep_across_exec(sd, false);
	close(fd);
	give_up(sd, "the exec failed");
}

/*
 * Scrapes in progress end within their timeout, and no new one starts; so
 * do connections still sending their PROXY header (proxy_timeout) and TLS
 * connections whose child's pid is awaited from a zygote (its deadline);
 * a reload that began meanwhile ends within its check's.
 */
static void
on_scrapes_wait(struct timer *t)
{
	struct sockd *sd = t->arg;

	if (sd->nscrapes > 0 || sd->proxywait.n > 0 || sd->nhanded > 0 ||
	    cfgcheck_running(&sd->check))
		(void)loop_timer_set(&sd->loop, &sd->up.timer, UPGRADE_SCRAPE_POLL_MS);
	else
		exec_now(sd);
}

static void
check_done(struct sockd *sd, bool timed_out)
{
	struct upgrade *up = &sd->up;
	const char *out, *why;
	char want[64];

	check_end(sd);
	log_capture_begin();
	out = up->check.out ? up->check.out : "";
	snprintf(want, sizeof(want), UPGRADE_FORMAT_LINE, UPSTATE_VERSION);
	if (timed_out || strstr(out, ": OK, ") == NULL ||
	    strstr(out, want) == NULL) {
		/* The output may be cut short of its last newline. */
		for (const char *l = out; *l; ) {
			size_t n = strcspn(l, "\n");
			log_warnx("upgrade: %s: %.*s", up->self, (int)n, l);
			l += n + (l[n] == '\n');
		}
		why = timed_out ? "the new binary's check timed out" :
		    strstr(out, ": OK, ") == NULL ?
		    "the new binary failed its check" :
		    strstr(out, "cannot read the running sockd's state") ?
		    "the new binary cannot take over this one's state (it says "
		    "why above)" : "the new binary cannot take over this one's "
		    "state (an older release?); a restart can start it";
		checkchild_free(&up->check);
		give_up(sd, why);
		return;
	}
	free(log_capture_end());
	checkchild_free(&up->check);
	up->exec_pending = true;
	gate_update_all(sd);	/* the metrics services stop taking scrapes */
	up->timer = (struct timer){ .fn = on_scrapes_wait, .arg = sd };
	on_scrapes_wait(&up->timer);
}

static void
on_check_output(struct watch *w)
{
	struct sockd *sd = w->arg;

	if (checkchild_read(&sd->up.check) == 1)
		check_done(sd, false);
}

static void
on_check_timeout(struct timer *t)
{
	check_done(t->arg, true);
}

/* A snapshot of the state, for the check to read; -1 with errno. */
static int
snapshot(const struct sockd *sd)
{
	int fd = memfd_create("sockd-upgrade-check", MFD_CLOEXEC);

	if (fd != -1 && upcollect_write(fd, sd) == -1) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* What the check child needs: the binary, the file, the snapshot. */
struct check_args {
	char *self, *path;
	int state;
};

/* In the check child: "self -t -f config", its output on out. */
static void __attribute__((noreturn))
check_exec(void *arg, int out)
{
	struct check_args *a = arg;
	char *argv[] = { a->self, "-t", "-f", a->path, NULL };
	char num[16];

	snprintf(num, sizeof(num), "%d", a->state);
	if (dup2(out, 1) == -1 || dup2(out, 2) == -1 ||
	    fcntl(a->state, F_SETFD, 0) == -1 ||
	    setenv(UPGRADE_ENV_CHECK, "1", 1) == -1 ||
	    setenv(UPGRADE_ENV_STATE, num, 1) == -1)
		_exit(127);
	execv(a->self, argv);
	fprintf(stderr, "cannot execute: %s\n", strerror(errno));
	_exit(127);
}

/*
 * Runs "self -t -f config" in a checking child (checkchild.h), with a
 * snapshot of the state to read; -1 with errno.
 */
static int
check_spawn(struct sockd *sd)
{
	struct upgrade *up = &sd->up;
	struct check_args a = { up->self, sd->cfg->path, snapshot(sd) };
	int e;

	if (a.state == -1)
		return -1;
	e = checkchild_start(&up->check, UPGRADE_OUT_MAX, check_exec, &a) == -1 ?
	    errno : 0;
	close(a.state);
	if (e)
		return errno = e, -1;
	up->w = (struct watch){ .fd = up->check.fd, .fn = on_check_output,
	    .arg = sd };
	up->timer = (struct timer){ .fn = on_check_timeout, .arg = sd };
	if (loop_enable(&sd->loop, &up->w, true) == -1 ||
	    loop_timer_set(&sd->loop, &up->timer, UPGRADE_CHECK_MS) == -1) {
		check_end(sd);
		checkchild_free(&up->check);
		return -1;
	}
	return 0;
}

/* Why no upgrade can start now, or NULL. */
static const char *
not_now(const struct sockd *sd)
{
	if (sd->up.self == NULL)
		return "the path of sockd's binary is unknown";
	if (sd->up.check.pid > 0 || sd->up.exec_pending)
		return "one is in progress already";
	if (cfgcheck_running(&sd->check) || sd->reload)
		return "a reload is in progress; send SIGUSR2 again after it";
	for (size_t i = 0; i < sd->children.cap; i++) {
		const struct child *ch = sd->children.slots[i];
		size_t j = 0;
		if (ch == NULL)
			continue;
		while (j < sd->nsvcs && sd->svcs[j] != ch->svc)
			j++;
		if (j == sd->nsvcs)
			return "handlers of a service a reload removed are still "
			    "running; send SIGUSR2 again once they have ended";
	}
	return NULL;
}

/* SIGUSR2. */
void
upgrade_start(struct sockd *sd)
{
	const char *why;

	sd->upgrade = false;
	if ((why = not_now(sd)) != NULL) {
		log_warnx("SIGUSR2: no upgrade: %s", why);
		free(sd->up.why);
		sd->up.why = strdup(why);
		sd->up.failures++;
		return;
	}
	log_info("SIGUSR2: checking %s before an upgrade in place", sd->up.self);
	notify_send(&sd->notify, "RELOADING=1");
	if (check_spawn(sd) == -1) {
		log_warn("upgrade: cannot run %s", sd->up.self);
		give_up(sd, "no check");
	}
}

/* On exit: a check still running is killed, and all is freed. Idempotent. */
void
upgrade_cancel(struct sockd *sd)
{
	if (sd->up.check.pid > 0 || sd->up.w.fd != -1)
		check_end(sd);
	checkchild_free(&sd->up.check);
	sd->up.exec_pending = false;
	loop_timer_stop(&sd->loop, &sd->up.timer);
	free(sd->up.self);
	sd->up.self = NULL;
	free(sd->up.why);
	sd->up.why = NULL;
	if (sd->up.from) {
		upstate_free(sd->up.from);
		free(sd->up.from);
		sd->up.from = NULL;
	}
}
