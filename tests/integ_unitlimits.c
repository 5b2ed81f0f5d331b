/*
 * Integration: jails under the limits of the shipped systemd unit. No
 * systemd runs here, so the test process takes on what etc/sockd.service
 * (and, where asked, etc/sockd.service.d/jails.conf) says, read from the
 * files themselves: its CapabilityBoundingSet= dropped from the bounding
 * set (so the sockd it starts as root has no other capability, as under
 * systemd), and its RestrictNamespaces= as a seccomp filter built as
 * systemd builds it. Under the unit alone `sockd -t` names the service,
 * the key and the drop-in; with the drop-in a jailed handler serves.
 */
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "integ_util.h"

static char buf[65536];

#define CAP(n) { #n, n }
static const struct {
	const char *name;
	int cap;
} caps[] = { CAP(CAP_CHOWN), CAP(CAP_DAC_OVERRIDE), CAP(CAP_DAC_READ_SEARCH),
    CAP(CAP_FOWNER), CAP(CAP_FSETID), CAP(CAP_KILL), CAP(CAP_SETGID),
    CAP(CAP_SETUID), CAP(CAP_SETPCAP), CAP(CAP_NET_BIND_SERVICE),
    CAP(CAP_NET_ADMIN), CAP(CAP_NET_RAW), CAP(CAP_SYS_CHROOT),
    CAP(CAP_SYS_PTRACE), CAP(CAP_SYS_ADMIN), CAP(CAP_SYS_NICE),
    CAP(CAP_SYS_RESOURCE), CAP(CAP_MKNOD), CAP(CAP_AUDIT_WRITE) };

static const struct {
	const char *name;
	int flag;
} nss[] = { { "mnt", CLONE_NEWNS }, { "pid", CLONE_NEWPID },
    { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET },
    { "user", CLONE_NEWUSER }, { "cgroup", CLONE_NEWCGROUP } };
#define ALL_NS (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | \
    CLONE_NEWNET | CLONE_NEWUSER | CLONE_NEWCGROUP)

/* What the unit files say, merged as systemd merges repeated lines. */
struct limits {
	uint64_t bounding;	/* 0 and !bounded: not set */
	bool bounded;
	int namespaces;		/* allowed; -1: no restriction */
};

static int
cap_number(const char *name)
{
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (strcmp(caps[i].name, name) == 0)
			return caps[i].cap;
	ck_abort_msg("capability %s: add it to the test's table", name);
	return -1;
}

static int
ns_flag(const char *name)
{
	for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++)
		if (strcmp(nss[i].name, name) == 0)
			return nss[i].flag;
	ck_abort_msg("namespace type %s unknown to the test", name);
	return 0;
}

/* One "Key=value" line of a unit file into l. */
static void
limits_line(struct limits *l, char *key, char *value)
{
	char *tok, *save;

	if (strcmp(key, "CapabilityBoundingSet") == 0) {
		if (*value == '\0')
			l->bounding = 0;
		l->bounded = true;
		for (tok = strtok_r(value, " ", &save); tok;
		    tok = strtok_r(NULL, " ", &save))
			l->bounding |= 1ULL << cap_number(tok);
	} else if (strcmp(key, "RestrictNamespaces") == 0) {
		int flags = 0;
		ck_assert_msg(*value != '~', "RestrictNamespaces=~: not in the test");
		if (*value == '\0' || strcmp(value, "no") == 0) {
			l->namespaces = -1;
			return;
		}
		if (strcmp(value, "yes") == 0) {
			l->namespaces = 0;
			return;
		}
		for (tok = strtok_r(value, " ", &save); tok;
		    tok = strtok_r(NULL, " ", &save))
			flags |= ns_flag(tok);
		l->namespaces = l->namespaces == -1 ? flags : l->namespaces | flags;
	}
}

/* The [Service] lines of the tree's file rel into l. */
static void
limits_read(struct limits *l, const char *rel)
{
	FILE *f = fopen(it_path(rel), "re");
	char line[1024], *eq;

	ck_assert_msg(f != NULL, "%s: %s", rel, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		limits_line(l, line, eq + 1);
	}
	fclose(f);
}

/*
 * RestrictNamespaces= as systemd's seccomp_restrict_namespaces() makes
 * it: clone, unshare and setns of a type not allowed fail with EPERM,
 * setns of no named type too unless all are allowed, and clone3 (whose
 * flags a filter cannot see) with ENOSYS.
 */
static void
restrict_namespaces(int allowed)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r = 0;

	ck_assert_ptr_nonnull(ctx);
	r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (allowed == 0)
		r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setns), 0);
	else
		r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setns), 1,
		    SCMP_A1(SCMP_CMP_EQ, 0));
	for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++) {
		int f = nss[i].flag;
		if (allowed & f)
			continue;
		r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
		r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare),
		    1, SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
		if (allowed != 0)
			r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
			    SCMP_SYS(setns), 1, SCMP_A1(SCMP_CMP_EQ, f));
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(seccomp_load(ctx), 0);
	seccomp_release(ctx);
}

/*
 * The test process takes on the unit's limits, and the drop-in's when
 * dropin, for the sockd it starts next (Check runs each test in a process
 * of its own, which ends with it).
 */
static void
under_unit(bool dropin)
{
	struct limits l = { 0, false, -1 };

	limits_read(&l, "etc/sockd.service");
	if (dropin)
		limits_read(&l, "etc/sockd.service.d/jails.conf");
	ck_assert(l.bounded);
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (!(l.bounding & (1ULL << cap)))
			ck_assert_int_eq(prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), 0);
	if (l.namespaces != -1)
		restrict_namespaces(l.namespaces);
}

static const char *
jail_conf(uint16_t port)
{
	return tu_write("sockd.conf",
	    "services = ({ name = \"j\"; protocol = \"tcp\"; port = %u;\n"
	    "  address = \"127.0.0.1\"; server = \"%s\";\n"
	    "  args = [\"probe\", \"env\"];\n"
	    "  jail = { };\n});\n", port, it_jail_prog("tests/probe"));
}

static void
expect(const char *text)
{
	ck_assert_msg(strstr(buf, text), "no \"%s\" in:\n%s", text, buf);
}

/* The unit's bounding set: -t names what sockd lacks and the drop-in. */
START_TEST(unit_capabilities_named)
{
	const char *conf = jail_conf(7);

	under_unit(false);
	ck_assert_int_ne(tu_run(buf, sizeof(buf), "-t", "-f", conf, NULL), 0);
	expect("sockd.conf:4: service \"j\": jail: sockd lacks CAP_SETPCAP, "
	    "CAP_SYS_CHROOT, CAP_SYS_ADMIN, CAP_MKNOD, which the jail needs");
	expect("CapabilityBoundingSet=");
	expect("/share/sockd/sockd.service.d/jails.conf allows jails");
}
END_TEST

/*
 * The unit's RestrictNamespaces= alone refusing: the capabilities are
 * there (the drop-in's), the namespaces are not.
 */
START_TEST(unit_namespaces_named)
{
	const char *conf = jail_conf(7);
	struct limits l = { 0, false, -1 };

	limits_read(&l, "etc/sockd.service");
	ck_assert_int_eq(l.namespaces, 0);
	under_unit(true);
	restrict_namespaces(0);
	ck_assert_int_ne(tu_run(buf, sizeof(buf), "-t", "-f", conf, NULL), 0);
	expect("sockd.conf:4: service \"j\": jail: namespaces: the kernel refuses "
	    "a new ");
	expect("Operation not permitted; sockd runs under a seccomp filter, which "
	    "refuses it (sockd.service's RestrictNamespaces=, likely): the drop-in ");
	expect("/jails.conf allows jails");
}
END_TEST

/* The unit with the drop-in: -t passes and a jailed handler serves. */
START_TEST(dropin_allows_jails)
{
	uint16_t port = tu_free_port();
	const char *conf = jail_conf(port);
	struct daemon *d;

	under_unit(true);
	ck_assert_msg(tu_run(buf, sizeof(buf), "-t", "-f", conf, NULL) == 0, "%s",
	    buf);
	d = it_start(conf);
	ck_assert_msg(it_has_line(it_report(d, port, buf, sizeof(buf), IT_WAIT),
	    "pid=1"), "%s", buf);
	it_stop(d);
}
END_TEST

Suite *
unitlimits_suite(void)
{
	Suite *s = suite_create("unit-limits");
	TCase *tc = tcase_create("jails");
	const char *why = it_jail_skip();

	(void)it_jail_prog("tests/probe");	/* copied before the tests fork */
	tcase_set_timeout(tc, IT_TIMEOUT);
	tcase_add_checked_fixture(tc, it_setup, it_teardown);
	tu_add_test(tc, unit_capabilities_named, why);
	tu_add_test(tc, unit_namespaces_named, why);
	tu_add_test(tc, dropin_allows_jails, why);
	suite_add_tcase(s, tc);
	return s;
}
