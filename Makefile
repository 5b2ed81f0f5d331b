# sockd - an inetd-style super-server.   make | make run | make check | make install
VERSION  = 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR  = $(PREFIX)/sbin
LIBEXECDIR = $(PREFIX)/libexec/sockd
SYSCONFDIR = $(PREFIX)/etc
MANDIR   = $(PREFIX)/share/man

CC      ?= cc
PKGS     = libconfig check
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -MMD -MP \
           -DSOCKD_VERSION='"$(VERSION)"' -DSOCKD_CONF='"$(SYSCONFDIR)/sockd.conf"'
ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
# Evaluated when a recipe runs, that is after the deps check below.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
# libconfig is linked statically when its archive is installed (Debian's
# libconfig-dev ships it): one shared object fewer is five mappings fewer
# for every fork() of the master to copy, about 8 µs per built-in child.
LIBCONFIG_A = $(shell $(CC) -print-file-name=libconfig.a)
LIBCONFIG_STATIC = -Wl,-Bstatic $(shell pkg-config --libs libconfig) -Wl,-Bdynamic
LIBCONFIG_LIBS = $(if $(filter /%,$(LIBCONFIG_A)),$(LIBCONFIG_STATIC),\
           $(shell pkg-config --libs libconfig))
# Built-in children are forked, not exec'd: with lazy binding each of them
# would resolve its own symbols and copy the GOT pages it writes (29 page
# faults per echo connection, 19 with -z now).
DAEMON_LDFLAGS = -Wl,-z,now -Wl,-z,relro
CHECK_LIBS = $(shell pkg-config --libs check)

LIB_SRCS = $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS = $(LIB_SRCS:.c=.o)
SERVICES = $(patsubst %.c,%,$(wildcard services/*.c))
TEST_COMMON = tests/testutil.o
UNIT_OBJS = tests/unit.o $(patsubst %.c,%.o,$(wildcard tests/unit_*.c))
INTEG_OBJS = tests/integration.o $(patsubst %.c,%.o,$(wildcard tests/integ_*.c))
TEST_BINS = tests/unit tests/integration tests/probe tests/oldkernel
BENCH_BINS = tests/bench/loadgen tests/bench/ref-fork tests/bench/ref-vfork \
           tests/bench/ref-inline
PEERS   ?= 0
MANPAGES = man/sockd.8 man/sockd.conf.5

.PHONY: all run check test-unit test-integration lint-man install uninstall \
        clean deps bench fuzz
all: src/sockd $(SERVICES)

# Debian 12 package names; installed when root, named otherwise. musl-tools
# is optional (see the handlers below), so it is only named, once per make
# and only when the handlers would be built with it.
DEB_PKGS = gcc make pkg-config libconfig-dev check mandoc
deps:
	@missing=; \
	command -v cc >/dev/null 2>&1 || missing="$$missing gcc"; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	pkg-config --exists libconfig 2>/dev/null || missing="$$missing libconfig-dev"; \
	pkg-config --exists check 2>/dev/null || missing="$$missing check"; \
	command -v mandoc >/dev/null 2>&1 || missing="$$missing mandoc"; \
	if [ "$(MUSL_WANTED)" = 1 ] && [ "$(MAKELEVEL)" = 0 ] && \
	    ! command -v musl-gcc >/dev/null 2>&1; then \
	  echo "make: handlers start 2-3 times faster built with musl:" \
	    "sudo apt-get install musl-tools (optional)" >&2; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: installing$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq $$missing) >&2 || exit 1; \
	  else \
	    echo "make: missing packages; run: sudo apt-get install$$missing" >&2; \
	    exit 1; \
	  fi; \
	fi

%.o: %.c | deps
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -Isrc -c -o $@ $<

src/libsockd.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

src/sockd: src/main.o src/libsockd.a
	$(CC) $(LDFLAGS) $(DAEMON_LDFLAGS) -o $@ $^ $(LIBCONFIG_LIBS)

# Handlers are plain libc programs, built straight from their one source.
# They are exec'd once per connection, so their start-up is on the measured
# path. A static one skips the dynamic loader. glibc's start-up also asks
# the CPU about its caches with CPUID, and in a virtual machine each CPUID
# is a trap to the hypervisor (4.3 us here): an empty static glibc program
# took 470 us from spawn to exit, a static musl one 126 us. So the handlers
# are built with musl-gcc (Debian's musl-tools) when it is installed: 2.0
# to 2.4 times the connections per second of a static glibc build in
# `make bench`, 2.5 to 3 times a dynamic one.
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

services/%: services/%.c services/msgframe.h | deps
	$(SERVICES_CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(filter -f%,$(ALL_CFLAGS)) \
	  $(LDFLAGS) $(SERVICES_LDFLAGS) -o $@ $<

tests/unit: $(UNIT_OBJS) $(TEST_COMMON) src/libsockd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBCONFIG_LIBS) $(CHECK_LIBS)

tests/integration: $(INTEG_OBJS) $(TEST_COMMON) src/libsockd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBCONFIG_LIBS) $(CHECK_LIBS)

tests/probe: tests/probe.c | deps
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

tests/oldkernel: tests/oldkernel.c | deps
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

tests/bench/%: tests/bench/%.c tests/bench/ref-common.h | deps
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) -O2 -o $@ $<

# Prints a table and writes tests/bench/results.md; PEERS=1 adds xinetd and
# tcpserver. Loopback only, a few minutes; no part of `make check`.
bench: all $(BENCH_BINS)
	PEERS=$(PEERS) tests/bench/run.sh

# The loader under libFuzzer (clang, Debian's libclang-rt-14-dev), seeded
# with tests/fuzz/corpus, which `make check` replays. New inputs go to
# tests/fuzz/found, findings to tests/fuzz/crash-*. libconfig 1.5 leaks on
# syntax errors (contained in sockd by the checking child), so leaks are
# not findings here.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
           -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
tests/fuzz/fuzz_config: tests/fuzz/fuzz_config.c $(LIB_SRCS) | deps
	$(FUZZ_CC) $(FUZZ_FLAGS) $(PKG_CFLAGS) -Isrc -o $@ $^ $(LIBCONFIG_LIBS)

fuzz: tests/fuzz/fuzz_config
	@mkdir -p tests/fuzz/found
	ASAN_OPTIONS=detect_leaks=0 tests/fuzz/fuzz_config -detect_leaks=0 \
	  -max_total_time=$(FUZZ_SECONDS) -timeout=5 -max_len=65536 \
	  -artifact_prefix=tests/fuzz/ tests/fuzz/found tests/fuzz/corpus

run: all
	src/sockd -F -f etc/sockd.conf

check: all $(TEST_BINS)
	@rc=0; \
	$(MAKE) -s lint-man || rc=1; \
	tests/unit || rc=1; \
	tests/integration || rc=1; \
	exit $$rc

lint-man: | deps
	@out=$$(mandoc -T lint -W warning $(MANPAGES) 2>&1); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	echo "man pages: mandoc -T lint clean"

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) \
	  $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 755 src/sockd $(DESTDIR)$(SBINDIR)/sockd
	install -m 755 $(SERVICES) $(DESTDIR)$(LIBEXECDIR)/
	sed 's|"\.\./services/|"$(LIBEXECDIR)/|' etc/sockd.conf \
	  > $(DESTDIR)$(SYSCONFDIR)/sockd.conf.new
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/sockd.conf ]; then \
	  echo "keeping $(DESTDIR)$(SYSCONFDIR)/sockd.conf; new one is sockd.conf.new"; \
	else mv $(DESTDIR)$(SYSCONFDIR)/sockd.conf.new $(DESTDIR)$(SYSCONFDIR)/sockd.conf; fi
	install -m 644 man/sockd.8 $(DESTDIR)$(MANDIR)/man8/sockd.8
	install -m 644 man/sockd.conf.5 $(DESTDIR)$(MANDIR)/man5/sockd.conf.5

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/sockd $(DESTDIR)$(MANDIR)/man8/sockd.8 \
	  $(DESTDIR)$(MANDIR)/man5/sockd.conf.5 \
	  $(addprefix $(DESTDIR)$(LIBEXECDIR)/,$(notdir $(SERVICES)))
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null
	@echo "left $(DESTDIR)$(SYSCONFDIR)/sockd.conf in place (remove it by hand)"

clean:
	rm -f src/*.o src/*.d src/*.a src/sockd tests/*.o tests/*.d $(TEST_BINS) \
	  $(SERVICES) $(BENCH_BINS) tests/fuzz/fuzz_config

-include $(wildcard src/*.d tests/*.d)
