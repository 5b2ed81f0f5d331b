# sockd - an inetd-style super-server.   make | make run | make check | make install
VERSION  = 0.1.0
# Install layout. PREFIX=/usr is a distribution's layout: the configuration
# then goes to /etc, not /usr/etc. SYSCONFDIR and UNITDIR can be set too.
PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR  = $(PREFIX)/sbin
LIBEXECDIR = $(PREFIX)/libexec/sockd
# The TLS module (src/tls/tlsmod.h), a private shared object.
TLSMODDIR = $(PREFIX)/lib/sockd
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR   = $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
# The systemd drop-ins (etc/sockd.service.d), for an administrator to link
# into /etc/systemd/system/sockd.service.d; none is active by itself.
DROPINDIR = $(PREFIX)/share/sockd/sockd.service.d
CONF_PATH = $(SYSCONFDIR)/sockd.conf

CC      ?= cc
PKGS     = libconfig check libseccomp openssl
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -MMD -MP \
           -DSOCKD_VERSION='"$(VERSION)"'
ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
# Short build lines ("  CC src/master/accept.o"); V=1 shows the whole commands.
ifeq ($(V),1)
Q =
SAY = @true
else
Q = @
SAY = @echo
endif
# Evaluated when a recipe runs, that is after the deps check below.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
# STATIC_LIBS=0 links libconfig and libseccomp dynamically, as Debian's
# package does (a security update of either then reaches sockd).
STATIC_LIBS ?= 1
# libconfig is linked statically when its archive is installed (Debian's
# libconfig-dev ships it): one shared object fewer is five mappings fewer
# for every fork() of the master to copy (tests/bench/README.md).
LIBCONFIG_A = $(shell $(CC) -print-file-name=libconfig.a)
LIBCONFIG_STATIC = -Wl,-Bstatic $(shell pkg-config --libs libconfig) -Wl,-Bdynamic
LIBCONFIG_LIBS = $(if $(and $(filter 1,$(STATIC_LIBS)),$(filter /%,$(LIBCONFIG_A))),\
           $(LIBCONFIG_STATIC),$(shell pkg-config --libs libconfig))
# Built-in children are forked, not exec'd: with lazy binding each of them
# would resolve its own symbols and copy the GOT pages it writes, a page
# fault each (tests/bench/README.md).
DAEMON_LDFLAGS = -Wl,-z,now -Wl,-z,relro
CHECK_LIBS = $(shell pkg-config --libs check)
# libseccomp compiles a jail's syscall filter at load time; static for the
# same reason as libconfig.
LIBSECCOMP_A = $(shell $(CC) -print-file-name=libseccomp.a)
SECCOMP_STATIC = -Wl,-Bstatic $(shell pkg-config --libs libseccomp) -Wl,-Bdynamic
SECCOMP_LIBS = $(if $(and $(filter 1,$(STATIC_LIBS)),$(filter /%,$(LIBSECCOMP_A))),\
           $(SECCOMP_STATIC),$(shell pkg-config --libs libseccomp))
# OpenSSL 3 for TLS services, shared: security updates reach it. Only the
# TLS module links it (src/tls/tlsmod.h): sockd itself maps no OpenSSL until a
# configuration names a TLS service.
SSL_LIBS = $(shell pkg-config --libs openssl)
TLSMOD_SRCS = $(wildcard src/tls/*.c)
TLSMOD_OBJS = $(TLSMOD_SRCS:.c=.o)

# The source tree's folders, each with a rule tests/layout.sh checks
# (HACKING.md, "Layout"); src/ itself holds the two programs' main files.
SRC_DIRS = lib config jail tls master
SRC_INC  = $(SRC_DIRS:%=-Isrc/%)
LIB_SRCS = $(wildcard src/lib/*.c src/config/*.c src/jail/*.c src/master/*.c)
LIB_OBJS = $(LIB_SRCS:.c=.o)
SERVICES = $(patsubst %.c,%,$(wildcard services/*.c))
TEST_COMMON = tests/testutil.o
UNIT_OBJS = tests/unit.o $(patsubst %.c,%.o,$(wildcard tests/unit_*.c))
INTEG_OBJS = tests/integration.o $(patsubst %.c,%.o,$(wildcard tests/integ_*.c))
TEST_BINS = tests/unit tests/integration tests/probe tests/escape \
           tests/oldkernel tests/starttls
BENCH_BINS = tests/bench/loadgen tests/bench/ref-fork tests/bench/ref-vfork \
           tests/bench/ref-inline
PEERS   ?= 0
MANPAGES = man/sockd.8 man/sockd.conf.5 man/sockd-handler.7 man/sockctl.8

.PHONY: all run check test-unit test-integration lint-man install uninstall \
        deb deb-check \
        clean deps test-deps bench fuzz FORCE
all: src/sockd src/sockctl src/sockd-tls.so $(SERVICES) services/.built

# A shell command printing $(1) as this user can run it as root: as it is
# for root, through sudo where there is one, else through su.
as_root = if [ "$$(id -u)" = 0 ]; then echo "$(1)"; \
	elif command -v sudo >/dev/null 2>&1; then echo "sudo $(1)"; \
	else echo "su -c '$(1)'"; fi

# Debian 12 package names; installed when root, named otherwise. Only what
# the build needs (no Recommends, so libc6-dev by name), and apt's output
# only if it fails.
deps:
	@missing=; \
	if ! command -v cc >/dev/null 2>&1; then missing=" gcc libc6-dev"; \
	elif ! echo '#include <stdio.h>' | cc -E - >/dev/null 2>&1; then \
	  missing=" libc6-dev"; fi; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	pkg-config --exists libconfig 2>/dev/null || missing="$$missing libconfig-dev"; \
	pkg-config --exists check 2>/dev/null || missing="$$missing check"; \
	pkg-config --exists libseccomp 2>/dev/null || missing="$$missing libseccomp-dev"; \
	pkg-config --exists openssl 2>/dev/null || missing="$$missing libssl-dev"; \
	command -v mandoc >/dev/null 2>&1 || missing="$$missing mandoc"; \
	[ -z "$$missing" ] && exit 0; \
	$(call apt_install,$$missing)

# What some tests drive, for make check alone: the real HAProxy in front
# of sockd, Prometheus' parser of the metrics, and the openssl command that
# makes the TLS tests' certificates. Installed when root;
# otherwise the tests that need them are skipped with the reason.
test-deps:
	@missing=; \
	test -x /usr/sbin/haproxy || missing=" haproxy"; \
	/usr/bin/python3 -c 'import prometheus_client.parser' >/dev/null 2>&1 || \
	  missing="$$missing python3-prometheus-client"; \
	command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	[ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && \
	  command -v apt-get >/dev/null 2>&1 || exit 0; \
	$(call apt_install,$$missing)

# Installs $(1) quietly as root (apt's output only if it fails), or names
# the command that would.
apt_install = \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "make: installing$(1) with apt-get"; \
	  log=$$(mktemp) || exit 1; \
	  if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install \
	      -y --no-install-recommends $(1); } >"$$log" 2>&1 </dev/null; then \
	    cat "$$log" >&2; rm -f "$$log"; \
	    echo "make: apt-get failed (its output is above)" >&2; exit 1; \
	  fi; \
	  rm -f "$$log"; \
	else \
	  echo "make: missing packages; run:" >&2; \
	  { $(call as_root,apt-get install --no-install-recommends$(1)); } >&2; \
	  exit 1; \
	fi

# main.o embeds the configuration path, tlsmod.o the TLS module's and
# cfgjail.o the drop-ins', so they are rebuilt when a path changes
# (another PREFIX or SYSCONFDIR), not only when their sources do.
src/conf.stamp: FORCE
	@printf '%s\n' '$(CONF_PATH)' '$(TLSMODDIR)' '$(DROPINDIR)' | cmp -s - $@ || \
	  printf '%s\n' '$(CONF_PATH)' '$(TLSMODDIR)' '$(DROPINDIR)' > $@
src/main.o src/master/tlsmod.o src/config/cfgjail.o: src/conf.stamp
src/main.o: ALL_CFLAGS += -DSOCKD_CONF='"$(CONF_PATH)"'
src/master/tlsmod.o: ALL_CFLAGS += -DSOCKD_TLSMOD='"$(TLSMODDIR)/sockd-tls.so"'
src/config/cfgjail.o: ALL_CFLAGS += -DSOCKD_DROPINS='"$(DROPINDIR)"'
# The module's table and the structs it passes, as a checksum of the
# headers that define them: a module of another build with the same
# version but another layout is refused (tlsmod.h). Both objects include
# these headers, so a change to one rebuilds them.
TLSMOD_IFACE = $(shell cat src/tls/tlsmod.h src/tls/tls.h src/config/config.h src/master/connenv.h | cksum | cut -d' ' -f1)
src/master/tlsmod.o src/tls/tlsmodule.o: ALL_CFLAGS += -DTLSMOD_IFACE='"$(TLSMOD_IFACE)"'
$(TLSMOD_OBJS): ALL_CFLAGS += -fPIC -fvisibility=hidden

%.o: %.c | deps
	$(SAY) "  CC $@"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(PKG_CFLAGS) $(SRC_INC) -c -o $@ $<

# sockctl(8) speaks the control protocol (ctlreq.c) and nothing else.
src/sockctl: src/sockctl.o src/lib/ctlreq.o
	$(SAY) "  LD $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

src/libsockd.a: $(LIB_OBJS)
	$(SAY) "  AR $@"
	$(Q)$(AR) rcs $@ $^

src/sockd: src/main.o src/libsockd.a
	$(SAY) "  LD $@"
	$(Q)$(CC) $(LDFLAGS) $(DAEMON_LDFLAGS) -o $@ $^ $(LIBCONFIG_LIBS) $(SECCOMP_LIBS)

# dlopen()ed by sockd (src/master/tlsmod.c); no undefined symbol but OpenSSL's
# and libc's: it calls nothing of sockd's.
src/sockd-tls.so: $(TLSMOD_OBJS)
	$(SAY) "  LD $@"
	$(Q)$(CC) $(LDFLAGS) $(DAEMON_LDFLAGS) -shared -Wl,--no-undefined -o $@ \
	  $^ $(SSL_LIBS)

# Handlers are plain libc programs, built straight from their one source.
# They are exec'd once per connection, so their start-up is on the measured
# path. A static one skips the dynamic loader. glibc's start-up also asks
# the CPU about its caches with CPUID, and in a virtual machine each CPUID
# is a trap to the hypervisor, which makes glibc's start-up slow there
# however it is linked. So the handlers are built with
# musl-gcc (Debian's musl-tools) when it is installed; tests/bench/README.md
# has the figures.
# STATIC_SERVICES=0 links them dynamically with $(CC) (sanitizer builds
# always do); SERVICES_CC=cc keeps them static but on glibc. A CC given on
# the command line or in the environment (a cross compiler, clang) is used
# for the handlers too.
STATIC_SERVICES ?= 1
ifeq ($(SANITIZE),1)
override STATIC_SERVICES = 0
endif
MUSL_WANTED = $(if $(and $(filter 1,$(STATIC_SERVICES)),$(filter default,$(origin CC)),\
           $(filter undefined,$(SERVICES_CC_ORIGIN))),1)
SERVICES_CC_ORIGIN := $(origin SERVICES_CC)
MUSL_GCC := $(shell command -v musl-gcc 2>/dev/null)
SERVICES_CC ?= $(if $(MUSL_WANTED),$(or $(MUSL_GCC),$(CC)),$(CC))
SERVICES_LDFLAGS = $(if $(filter 1,$(STATIC_SERVICES)),-static)

services/%: services/%.c services/msgframe.h services/handler.h | deps
	$(SAY) "  LD $@"
	$(Q)$(SERVICES_CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(CFLAGS) \
	  $(filter -f%,$(ALL_CFLAGS)) \
	  $(LDFLAGS) $(SERVICES_LDFLAGS) -o $@ $<

# Once the handlers are (re)built: if musl would have been used, say how
# to get it. Optional, so a note after the build, never before an error.
services/.built: $(SERVICES)
	@if [ "$(MUSL_WANTED)" = 1 ] && [ -z "$(MUSL_GCC)" ]; then \
	  echo "note: the handlers start 2-3 times faster built with musl" \
	    "(optional): $$($(call as_root,apt-get install musl-tools)), then make clean all"; \
	fi
	@touch $@

# The unit suite tlsfuzz replays the TLS fuzz target's corpus through the
# module's code, linked in.
tests/unit: $(UNIT_OBJS) $(TEST_COMMON) tests/fuzz/fuzz_tls.o $(TLSMOD_OBJS) \
    src/libsockd.a
	$(SAY) "  LD $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBCONFIG_LIBS) $(SECCOMP_LIBS) $(SSL_LIBS) \
	  $(CHECK_LIBS)

tests/integration: $(INTEG_OBJS) $(TEST_COMMON) src/libsockd.a
	$(SAY) "  LD $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBCONFIG_LIBS) $(SECCOMP_LIBS) $(CHECK_LIBS)

tests/probe: tests/probe.c | deps
	$(SAY) "  LD $@"
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

tests/starttls: tests/starttls.c | deps
	$(SAY) "  LD $@"
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

tests/escape: tests/escape.c | deps
	$(SAY) "  LD $@"
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

tests/oldkernel: tests/oldkernel.c | deps
	$(SAY) "  LD $@"
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

tests/bench/%: tests/bench/%.c tests/bench/ref-common.h | deps
	$(SAY) "  LD $@"
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) -O2 -o $@ $<

# The load generator links OpenSSL for its TLS client modes.
tests/bench/loadgen: tests/bench/loadgen.c | deps
	$(SAY) "  LD $@"
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) -O2 $(shell pkg-config --cflags openssl) \
	  -o $@ $< $(SSL_LIBS)

# Prints a table and writes tests/bench/results.md; PEERS=1 adds xinetd and
# tcpserver. The TLS cases compare with stunnel4, which run.sh installs
# when missing (as root), as it does the peers. Loopback only, a few
# minutes; no part of `make check`.
bench: all $(BENCH_BINS)
	PEERS=$(PEERS) tests/bench/run.sh

# FUZZ_SEED fixes libFuzzer's random seed (CI's .ci/run does, so that a
# run is repeatable: the same inputs in the same order); unset, each run
# starts from a new one.
FUZZ_SEED ?=
FUZZ_RUN = $(if $(FUZZ_SEED),-seed=$(FUZZ_SEED))

# The loader under libFuzzer (clang, Debian's libclang-rt-14-dev), seeded
# with tests/fuzz/corpus, which `make check` replays. New inputs go to
# tests/fuzz/found, findings to tests/fuzz/crash-*. libconfig 1.5 leaks on
# syntax errors (contained in sockd by the checking child), so leaks are
# not findings here.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
           -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
           -DSOCKD_VERSION='"$(VERSION)"'
tests/fuzz/fuzz_config: tests/fuzz/fuzz_config.c $(LIB_SRCS) | deps
	$(FUZZ_CC) $(FUZZ_FLAGS) $(PKG_CFLAGS) $(SRC_INC) -o $@ $^ $(LIBCONFIG_LIBS) \
	  $(SECCOMP_LIBS)

# The PROXY protocol parser (tests/fuzz/fuzz_proxyproto.c) runs after it,
# for FUZZ_PROXY_SECONDS, seeded with tests/fuzz/corpus-proxy.
FUZZ_PROXY_SECONDS ?= 20
tests/fuzz/fuzz_proxyproto: tests/fuzz/fuzz_proxyproto.c src/lib/proxyproto.c | deps
	$(FUZZ_CC) $(FUZZ_FLAGS) $(SRC_INC) -o $@ $^

# The control socket's request parser (tests/fuzz/fuzz_ctlreq.c) last, for
# FUZZ_CTL_SECONDS, seeded with tests/fuzz/corpus-ctl.
FUZZ_CTL_SECONDS ?= 20
tests/fuzz/fuzz_ctlreq: tests/fuzz/fuzz_ctlreq.c src/lib/ctlreq.c | deps
	$(FUZZ_CC) $(FUZZ_FLAGS) $(SRC_INC) -o $@ $^

# Then what a TLS client sends before its handshake is done, read by a
# real context of the TLS module (tests/fuzz/fuzz_tls.c), for
# FUZZ_TLS_SECONDS, seeded with tests/fuzz/corpus-tls (replayed by the unit
# suite tlsfuzz), new inputs to tests/fuzz/found-tls.
FUZZ_TLS_SECONDS ?= 20
tests/fuzz/fuzz_tls: tests/fuzz/fuzz_tls.c $(TLSMOD_SRCS) | deps
	$(FUZZ_CC) $(FUZZ_FLAGS) $(PKG_CFLAGS) $(SRC_INC) -o $@ $^ $(SSL_LIBS)

# The inetd.conf line parser (tests/fuzz/fuzz_inetdconf.c) and the xinetd
# reader with sockd --convert (tests/fuzz/fuzz_xinetd.c), for
# FUZZ_INETD_SECONDS each, seeded with tests/fuzz/corpus-inetd and
# tests/fuzz/corpus-xinetd (replayed by the unit suite convert). Both link
# the library as the loader's target does; --convert's output is checked
# with libconfig, whose leaks on syntax errors are not findings.
FUZZ_INETD_SECONDS ?= 20
tests/fuzz/fuzz_inetdconf tests/fuzz/fuzz_xinetd: tests/fuzz/%: tests/fuzz/%.c \
    $(LIB_SRCS) | deps
	$(FUZZ_CC) $(FUZZ_FLAGS) $(PKG_CFLAGS) $(SRC_INC) -o $@ $^ $(LIBCONFIG_LIBS) \
	  $(SECCOMP_LIBS) $(SSL_LIBS)

fuzz: tests/fuzz/fuzz_config tests/fuzz/fuzz_proxyproto tests/fuzz/fuzz_ctlreq \
    tests/fuzz/fuzz_tls tests/fuzz/fuzz_inetdconf tests/fuzz/fuzz_xinetd
	@mkdir -p tests/fuzz/found tests/fuzz/found-proxy tests/fuzz/found-ctl \
	  tests/fuzz/found-tls tests/fuzz/found-inetd tests/fuzz/found-xinetd
	ASAN_OPTIONS=detect_leaks=0 tests/fuzz/fuzz_config -detect_leaks=0 $(FUZZ_RUN) \
	  -max_total_time=$(FUZZ_SECONDS) -timeout=5 -max_len=65536 \
	  -artifact_prefix=tests/fuzz/ tests/fuzz/found tests/fuzz/corpus
	tests/fuzz/fuzz_proxyproto $(FUZZ_RUN) -max_total_time=$(FUZZ_PROXY_SECONDS) \
	  -timeout=5 -max_len=2048 -artifact_prefix=tests/fuzz/ \
	  tests/fuzz/found-proxy tests/fuzz/corpus-proxy
	tests/fuzz/fuzz_ctlreq $(FUZZ_RUN) -max_total_time=$(FUZZ_CTL_SECONDS) \
	  -timeout=5 -max_len=4096 -artifact_prefix=tests/fuzz/ \
	  tests/fuzz/found-ctl tests/fuzz/corpus-ctl
	tests/fuzz/fuzz_tls $(FUZZ_RUN) -max_total_time=$(FUZZ_TLS_SECONDS) \
	  -timeout=5 -max_len=16384 -artifact_prefix=tests/fuzz/ \
	  tests/fuzz/found-tls tests/fuzz/corpus-tls
	tests/fuzz/fuzz_inetdconf $(FUZZ_RUN) -max_total_time=$(FUZZ_INETD_SECONDS) \
	  -timeout=5 -max_len=4096 -artifact_prefix=tests/fuzz/ \
	  tests/fuzz/found-inetd tests/fuzz/corpus-inetd
	ASAN_OPTIONS=detect_leaks=0 tests/fuzz/fuzz_xinetd -detect_leaks=0 \
	  $(FUZZ_RUN) -max_total_time=$(FUZZ_INETD_SECONDS) -timeout=5 -max_len=16384 \
	  -artifact_prefix=tests/fuzz/ tests/fuzz/found-xinetd tests/fuzz/corpus-xinetd

# sockd.pid lets README's reload example (kill -HUP) find this sockd.
run: all
	src/sockd -F -f etc/sockd.conf -p sockd.pid

check: all $(TEST_BINS) test-deps
	@rc=0; \
	$(MAKE) -s lint-man || rc=1; \
	tests/keys-documented.sh || rc=1; \
	tests/layout.sh || rc=1; \
	tests/unit || rc=1; \
	tests/integration || rc=1; \
	tests/install.sh || rc=1; \
	exit $$rc

lint-man: | deps
	@out=$$(mandoc -T lint -W warning $(MANPAGES) 2>&1); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	echo "man pages: mandoc -T lint clean"

# The Debian package (debian/, dh): ../sockd_VERSION_ARCH.deb, from this
# tree as it is. deb-check builds it from the committed tree, runs lintian
# and, as root, installs, serves, registers a service with update-inetd and
# purges it (tests/deb.sh). They need debhelper, lintian and update-inetd.
deb:
	dpkg-buildpackage -b -us -uc

deb-check:
	tests/deb.sh

# The sources name the /usr/local layout; installed copies name this one.
INSTALL_PATHS = sed -e 's|/usr/local/etc/sockd\.conf|$(CONF_PATH)|g' \
	-e 's|/usr/local/libexec/sockd|$(LIBEXECDIR)|g' \
	-e 's|/usr/local/lib/sockd|$(TLSMODDIR)|g' \
	-e 's|/usr/local/sbin/|$(SBINDIR)/|g' \
	-e 's|/usr/local/share/sockd/|$(PREFIX)/share/sockd/|g'

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(TLSMODDIR) \
	  $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	  $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	install -m 755 src/sockd $(DESTDIR)$(SBINDIR)/sockd
	install -m 755 src/sockctl $(DESTDIR)$(SBINDIR)/sockctl
	install -m 644 src/sockd-tls.so $(DESTDIR)$(TLSMODDIR)/sockd-tls.so
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 etc/bash-completion/sockctl $(DESTDIR)$(COMPLETIONDIR)/sockctl
	install -m 755 $(SERVICES) $(DESTDIR)$(LIBEXECDIR)/
	install -d $(DESTDIR)$(DROPINDIR)
	install -m 644 etc/sockd.service.d/strict.conf etc/sockd.service.d/jails.conf \
	  $(DESTDIR)$(DROPINDIR)/
	sed -e 's|"\.\./services/|"$(LIBEXECDIR)/|' \
	  -e 's|control = "sockd\.control"|control = "/run/sockd/control"|' etc/sockd.conf \
	  > $(DESTDIR)$(SYSCONFDIR)/sockd.conf.new
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/sockd.conf ]; then \
	  echo "keeping $(DESTDIR)$(SYSCONFDIR)/sockd.conf; new one is sockd.conf.new"; \
	else mv $(DESTDIR)$(SYSCONFDIR)/sockd.conf.new $(DESTDIR)$(SYSCONFDIR)/sockd.conf; fi
	$(INSTALL_PATHS) man/sockd.8 > $(DESTDIR)$(MANDIR)/man8/sockd.8
	$(INSTALL_PATHS) man/sockd.conf.5 > $(DESTDIR)$(MANDIR)/man5/sockd.conf.5
	$(INSTALL_PATHS) man/sockd-handler.7 > $(DESTDIR)$(MANDIR)/man7/sockd-handler.7
	$(INSTALL_PATHS) man/sockctl.8 > $(DESTDIR)$(MANDIR)/man8/sockctl.8
	$(INSTALL_PATHS) etc/sockd.service > $(DESTDIR)$(UNITDIR)/sockd.service
	chmod 644 $(DESTDIR)$(MANDIR)/man8/sockd.8 $(DESTDIR)$(MANDIR)/man5/sockd.conf.5 \
	  $(DESTDIR)$(MANDIR)/man8/sockctl.8 \
	  $(DESTDIR)$(MANDIR)/man7/sockd-handler.7 $(DESTDIR)$(UNITDIR)/sockd.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/sockd $(DESTDIR)$(MANDIR)/man8/sockd.8 \
	  $(DESTDIR)$(SBINDIR)/sockctl $(DESTDIR)$(MANDIR)/man8/sockctl.8 \
	  $(DESTDIR)$(COMPLETIONDIR)/sockctl \
	  $(DESTDIR)$(MANDIR)/man5/sockd.conf.5 $(DESTDIR)$(MANDIR)/man7/sockd-handler.7 \
	  $(DESTDIR)$(UNITDIR)/sockd.service $(addprefix $(DESTDIR)$(LIBEXECDIR)/,$(notdir $(SERVICES))) \
	  $(DESTDIR)$(TLSMODDIR)/sockd-tls.so \
	  $(DESTDIR)$(DROPINDIR)/strict.conf $(DESTDIR)$(DROPINDIR)/jails.conf
	-rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(TLSMODDIR) $(DESTDIR)$(DROPINDIR) \
	  $(DESTDIR)$(PREFIX)/share/sockd 2>/dev/null
	@echo "left $(DESTDIR)$(SYSCONFDIR)/sockd.conf in place (remove it by hand)"

clean:
	rm -f src/*.o src/*.d src/*/*.o src/*/*.d src/*.a src/sockd src/sockctl src/sockd-tls.so src/conf.stamp \
	  tests/*.o tests/*.d \
	  $(TEST_BINS) $(SERVICES) services/.built $(BENCH_BINS) tests/fuzz/fuzz_config \
	  tests/fuzz/fuzz_proxyproto tests/fuzz/fuzz_ctlreq tests/fuzz/fuzz_tls \
	  tests/fuzz/fuzz_inetdconf tests/fuzz/fuzz_xinetd tests/fuzz/*.o tests/fuzz/*.d

-include $(wildcard src/*.d src/*/*.d tests/*.d tests/fuzz/*.d)
