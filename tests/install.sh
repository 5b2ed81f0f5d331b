#!/bin/sh
# Run by `make check`: `make install DESTDIR=... PREFIX=/usr` in a copy of
# the tree (so the tree's own build keeps its PREFIX) must lay out Debian's
# paths, and every installed file must name the installed paths. A real
# start of the installed daemon on /etc/sockd.conf is in
# tests/fresh-debian.sh, which can write to /etc.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/sockd-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
fail() { echo "install: FAIL: $*"; fails=$((fails + 1)); }

mkdir "$tmp/src" "$tmp/dest"
cp -R "$top/Makefile" "$top/src" "$top/services" "$top/etc" "$top/man" "$tmp/src/"
rm -f "$tmp"/src/src/*.o "$tmp"/src/src/*.d "$tmp"/src/src/*/*.o "$tmp"/src/src/*/*.d "$tmp"/src/src/*.a \
    "$tmp"/src/src/sockd "$tmp"/src/src/sockctl "$tmp"/src/src/sockd-tls.so \
    "$tmp"/src/src/conf.stamp
if ! make -s -C "$tmp/src" -j"$(nproc)" CFLAGS=-O0 install \
    DESTDIR="$tmp/dest" PREFIX=/usr >"$tmp/log" 2>&1; then
	cat "$tmp/log"
	echo "install: FAIL: make install"
	exit 1
fi

d=$tmp/dest
for f in usr/sbin/sockd usr/sbin/sockctl usr/libexec/sockd/hello-tcp usr/libexec/sockd/echo-udp \
    usr/libexec/sockd/timestamp; do
	[ -f "$d/$f" ] && [ -x "$d/$f" ] || fail "no executable /$f"
done
for f in etc/sockd.conf usr/lib/systemd/system/sockd.service \
    usr/share/man/man8/sockd.8 usr/share/man/man5/sockd.conf.5 \
    usr/share/man/man7/sockd-handler.7 usr/share/man/man8/sockctl.8 \
    usr/share/bash-completion/completions/sockctl \
    usr/share/sockd/sockd.service.d/jails.conf \
    usr/share/sockd/sockd.service.d/strict.conf; do
	[ -f "$d/$f" ] || fail "no /$f"
done
[ ! -e "$d/usr/etc" ] || fail "PREFIX=/usr installed into /usr/etc"
# The TLS module, where the installed sockd looks for it (src/master/tlsmod.c).
[ -f "$d/usr/lib/sockd/sockd-tls.so" ] || fail "no /usr/lib/sockd/sockd-tls.so"
grep -q /usr/lib/sockd/sockd-tls.so "$d/usr/sbin/sockd" ||
    fail "sockd does not look for /usr/lib/sockd/sockd-tls.so"

# No installed file names the /usr/local layout (/usr/local/bin is the
# handlers' PATH, not an install path).
hits=$(grep -l '/usr/local/\(etc\|sbin\|libexec\|lib/sockd\|share/sockd\)' "$d/etc/sockd.conf" \
    "$d/usr/lib/systemd/system/sockd.service" "$d/usr/share/man/man8/sockd.8" \
    "$d/usr/share/man/man5/sockd.conf.5" "$d/usr/share/man/man8/sockctl.8" \
    2>/dev/null || true)
[ -z "$hits" ] || fail "/usr/local paths left in: $hits"
grep -qx 'ExecStart=/usr/sbin/sockd -F -f /etc/sockd.conf' \
    "$d/usr/lib/systemd/system/sockd.service" || fail "unit: wrong ExecStart"
grep -q 'exec /usr/sbin/sockctl reload' \
    "$d/usr/lib/systemd/system/sockd.service" || fail "unit: reload not by sockctl"
grep -q '^ *control = "/run/sockd/control";' "$d/etc/sockd.conf" ||
    fail "sockd.conf does not set control = \"/run/sockd/control\""
"$d/usr/sbin/sockctl" -h | grep -q '/run/sockd/control' ||
    fail "sockctl -h does not name /run/sockd/control"
grep -q '^\.Pa /etc/sockd\.conf' "$d/usr/share/man/man8/sockd.8" ||
    fail "sockd(8) does not name /etc/sockd.conf"
for h in hello-tcp echo-udp timestamp; do
	grep -q "\"/usr/libexec/sockd/$h\"" "$d/etc/sockd.conf" ||
	    fail "sockd.conf does not run /usr/libexec/sockd/$h"
done

# A jail refused by the unit's limits names the installed drop-in.
grep -qa '/usr/share/sockd/sockd.service.d/jails.conf' "$d/usr/sbin/sockd" ||
    fail "sockd does not name /usr/share/sockd/sockd.service.d/jails.conf"
# The binary looks for /etc/sockd.conf when no -f is given.
"$d/usr/sbin/sockd" -h | grep -q '(default /etc/sockd\.conf)' ||
    fail "sockd -h does not name /etc/sockd.conf"
# The installed configuration is valid once its handlers are where it says
# (here: under DESTDIR).
sed "s|\"/usr/libexec/sockd/|\"$d/usr/libexec/sockd/|" "$d/etc/sockd.conf" \
    >"$tmp/check.conf"
out=$("$d/usr/sbin/sockd" -t -f "$tmp/check.conf" 2>&1) ||
    fail "installed sockd.conf does not pass -t: $out"

if [ "$fails" -gt 0 ]; then
	echo "install: $fails failures"
	exit 1
fi
echo "install: make install PREFIX=/usr layout and paths OK"
