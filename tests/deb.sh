#!/usr/bin/env bash
# The Debian package (make deb-check; CI runs it as root): built from the
# committed tree with dpkg-buildpackage, lintian with no error or warning;
# then, as root, installed on this machine: the _sockd user made,
# /etc/sockd.conf checked and served by the packaged daemon started by
# hand (no systemd here), a service that update-inetd registers in
# /etc/inetd.conf served after update-inetd's own SIGHUP, then switched
# off with update-inetd --disable; micro-httpd and fingerd installed from
# Debian, registering themselves, answering their protocols; tftpd-hpa's
# in.tftpd (udp, wait) registered with update-inetd, answering tftp-hpa's
# client, disabled and enabled again; and the package purged. Needs debhelper,
# lintian and update-inetd (.ci/run installs them).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
pid=
fail() { echo "deb: FAIL: $*" >&2; [ -f "$out/sockd.log" ] && tail -20 "$out/sockd.log" >&2; exit 1; }
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	[ -z "${rcd:-}" ] || rm -f /usr/sbin/policy-rc.d
	if [ "$(id -u)" = 0 ] && dpkg -s sockd >/dev/null 2>&1; then
		apt-get purge -y sockd >/dev/null 2>&1 || true
	fi
	rm -rf "$out"
}
trap cleanup EXIT

mkdir "$out/sockd"
git -C "$top" archive HEAD | tar -x -C "$out/sockd"
(cd "$out/sockd" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1 ||
    { tail -30 "$out/build.log" >&2; fail "dpkg-buildpackage"; }
lintian --fail-on error,warning "$out"/sockd_*.changes ||
    fail "lintian (above)"
echo "deb: built $(basename "$out"/sockd_*_*.deb); lintian: no error or warning"

if [ "$(id -u)" != 0 ]; then
	echo "deb: SKIP install: needs root"
	exit 0
fi
if dpkg -s sockd >/dev/null 2>&1 || [ -e /etc/inetd.conf ]; then
	echo "deb: SKIP install: a sockd package or an /etc/inetd.conf is there"
	exit 0
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y "$out"/sockd_*_*.deb \
    >"$out/install.log" 2>&1 || { cat "$out/install.log" >&2; fail "install"; }
getent passwd _sockd >/dev/null || fail "no _sockd user"
/usr/sbin/sockd -t -f /etc/sockd.conf >/dev/null || fail "sockd -t /etc/sockd.conf"
# The TLS module where the packaged sockd looks for it, OpenSSL a
# dependency of the package (through the module), loaded by -t on a TLS
# service.
dpkg -L sockd | grep -qx /usr/lib/sockd/sockd-tls.so || fail "no /usr/lib/sockd/sockd-tls.so"
dpkg-deb -f "$out"/sockd_*_*.deb Depends | grep -q libssl3 || fail "no libssl3 in Depends"
if command -v openssl >/dev/null 2>&1; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$out/tls.key" -out "$out/tls.pem" -days 30 -subj /CN=deb \
	    >/dev/null 2>&1 || fail "openssl req"
	chmod 600 "$out/tls.key"
	printf 'services = ( { name = "t"; protocol = "tcp"; port = 47392; server = "/bin/cat";\n  tls = { certificate = "%s"; key = "%s"; }; } );\n' \
	    "$out/tls.pem" "$out/tls.key" >"$out/tls.conf"
	/usr/sbin/sockd -t -f "$out/tls.conf" >"$out/tls.log" 2>&1 ||
	    { cat "$out/tls.log" >&2; fail "sockd -t on a TLS service"; }
fi

# A jail under the installed unit's capability bounding set (setpriv
# plays systemd): refused by -t, which names the installed drop-in; with
# the drop-in's capabilities added, it passes.
bounding() {	# the CapabilityBoundingSet= lines of the files, for setpriv
	sed -n 's/^CapabilityBoundingSet=//p' "$@" | tr ' ' '\n' | grep . |
	    sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd,
}
unit=/usr/lib/systemd/system/sockd.service
dropin=/usr/share/sockd/sockd.service.d/jails.conf
[ -f "$dropin" ] || fail "no $dropin"
printf 'services = ({ name = "j"; protocol = "tcp"; port = 7; address = "127.0.0.1";\n  server = "/usr/libexec/sockd/hello-tcp"; jail = { }; });\n' >"$out/jail.conf"
if setpriv --bounding-set "-all,$(bounding "$unit")" -- /usr/sbin/sockd -t \
    -f "$out/jail.conf" >"$out/jail.log" 2>&1; then
	fail "a jail passed -t under the unit's bounding set"
fi
grep -q "jail: sockd lacks .*$dropin allows jails" "$out/jail.log" ||
    { cat "$out/jail.log" >&2; fail "-t did not name the drop-in"; }
setpriv --bounding-set "-all,$(bounding "$unit" "$dropin")" -- /usr/sbin/sockd \
    -t -f "$out/jail.conf" >"$out/jail.log" 2>&1 ||
    { cat "$out/jail.log" >&2; fail "a jail under the unit and its drop-in"; }
echo "deb: a jail under the unit's limits: -t names $dropin; with it, -t passes"

# The daemon as the unit starts it, by hand: its link named inetd.
/usr/libexec/sockd/inetd -F -f /etc/sockd.conf >"$out/sockd.log" 2>&1 &
pid=$!
n=0
until grep -q "ready:" "$out/sockd.log"; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "not ready"; sleep 0.1
done
[ "$(cat /run/inetd.pid)" = "$pid" ] || fail "/run/inetd.pid"
! grep -qE 'libssl|libcrypto|sockd-tls' "/proc/$pid/maps" ||
    fail "a daemon without a TLS service maps OpenSSL"
exec 3<>/dev/tcp/127.0.0.1/9430
printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
grep -q '^sockd_' <&3 || fail "no metrics"
exec 3<&-

# A package registering its service as Debian's do.
port=47391
update-inetd --add "$port	stream	tcp	nowait	nobody	/usr/libexec/sockd/hello-tcp	hello-tcp"
n=0
until grep -q "reloaded" "$out/sockd.log"; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "update-inetd woke nothing"; sleep 0.1
done
exec 3<>/dev/tcp/127.0.0.1/$port
printf 'Debian\nexit\n' >&3
grep -q 'Hello, Debian!' <&3 || fail "the registered service did not answer"
exec 3<&-
update-inetd --disable "$port"
n=0
until [ "$(grep -c "reloaded" "$out/sockd.log")" -ge 2 ]; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "--disable woke nothing"; sleep 0.1
done
if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
	fail "a disabled service still answers"
fi
echo "deb: installed; /etc/sockd.conf served; update-inetd --add and --disable reached sockd"

# A real inetd handler of Debian's: micro-httpd registers itself on port 80
# with update-inetd (through tcpd) when installed beside an inet-superserver.
if ! (exec 3<>/dev/tcp/127.0.0.1/80) 2>/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    tcpd micro-httpd >"$out/micro.log" 2>&1 || { cat "$out/micro.log" >&2; fail "micro-httpd"; }
	n=0
	until [ "$(grep -c "reloaded" "$out/sockd.log")" -ge 3 ]; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "micro-httpd woke nothing"; sleep 0.1
	done
	exec 3<>/dev/tcp/127.0.0.1/80
	printf 'GET / HTTP/1.0\r\n\r\n' >&3
	head -n1 <&3 | grep -q '^HTTP/1\.[01] ' || fail "micro-httpd did not answer"
	exec 3<&-
	apt-get purge -y micro-httpd >/dev/null 2>&1 || true
	echo "deb: micro-httpd, registered by its package, served through tcpd"
else
	echo "deb: SKIP micro-httpd: port 80 is taken here"
fi

# fingerd: the finger protocol on port 79, a question about a user
# (in.fingerd runs the finger client to answer it).
if ! (exec 3<>/dev/tcp/127.0.0.1/79) 2>/dev/null; then
	before=$(grep -c "reloaded" "$out/sockd.log")
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    finger fingerd >"$out/finger.log" 2>&1 || { cat "$out/finger.log" >&2; fail "fingerd"; }
	n=0
	until [ "$(grep -c "reloaded" "$out/sockd.log")" -gt "$before" ]; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "fingerd woke nothing"; sleep 0.1
	done
	exec 3<>/dev/tcp/127.0.0.1/79
	printf 'root\r\n' >&3
	grep -q 'Login: *root' <&3 || fail "fingerd did not answer"
	exec 3<&-
	apt-get purge -y fingerd >/dev/null 2>&1 || true
	echo "deb: fingerd, registered by its package, answered finger root"
else
	echo "deb: SKIP fingerd: port 79 is taken here"
fi
# tftpd-hpa's in.tftpd as inetd runs it (UDP, wait: it takes the socket
# and serves requests until -t seconds pass without one), registered with
# update-inetd as its README.Debian says, fetched with tftp-hpa's client;
# then switched off and on again with update-inetd, each time through
# sockd's SIGHUP.
tport=47369
tdir=$out/tftp
reloads() { grep -c "reloaded" "$out/sockd.log"; }
wait_reload() {
	n=0
	until [ "$(reloads)" -gt "$1" ]; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "$2 woke nothing"; sleep 0.1
	done
}
# The standalone daemon the package would start is kept from starting.
rcd=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d; rcd=1
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    tftpd-hpa tftp-hpa >"$out/tftp.log" 2>&1 || { cat "$out/tftp.log" >&2; fail "tftpd-hpa"; }
[ -z "$rcd" ] || rm -f /usr/sbin/policy-rc.d
mkdir "$tdir"
chmod 755 "$out"
echo "served by in.tftpd under sockd" >"$tdir/hello.txt"
chmod 644 "$tdir/hello.txt"
# One get with the client's own commands (a 3 s timeout): true if the
# file came whole.
tftp_get() {
	rm -f "$out/got.txt"
	printf 'mode octet\ntimeout 3\nget hello.txt %s\nquit\n' "$out/got.txt" |
	    tftp 127.0.0.1 "$tport" >"$out/tftp-client.log" 2>&1
	cmp -s "$tdir/hello.txt" "$out/got.txt"
}
# Waits until sockd has no in.tftpd running (-t 1: a second after its last
# request), which holds the socket while it runs.
tftpd_gone() {
	n=0
	while pgrep -P "$pid" -x in.tftpd >/dev/null; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "in.tftpd did not end"; sleep 0.1
	done
}
before=$(reloads)
update-inetd --add "$tport	dgram	udp	wait	root	/usr/sbin/in.tftpd	/usr/sbin/in.tftpd -s -t 1 -u tftp $tdir"
wait_reload "$before" "update-inetd --add"
tftp_get || { cat "$out/tftp-client.log" >&2; fail "in.tftpd did not serve"; }
tftpd_gone
before=$(reloads)
update-inetd --disable "$tport"
wait_reload "$before" "update-inetd --disable"
! tftp_get || fail "a disabled in.tftpd still serves"
grep -q "timed out" "$out/tftp-client.log" ||
    { cat "$out/tftp-client.log" >&2; fail "tftp failed, but not for want of an answer"; }
before=$(reloads)
update-inetd --enable "$tport"
wait_reload "$before" "update-inetd --enable"
tftp_get || { cat "$out/tftp-client.log" >&2; fail "--enable did not bring in.tftpd back"; }
tftpd_gone
update-inetd --remove "$tport"
apt-get purge -y tftpd-hpa tftp-hpa >/dev/null 2>&1 || true
echo "deb: in.tftpd (udp, wait) registered with update-inetd served tftp;" \
    "--disable stopped it, --enable brought it back"

kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
rm -f /etc/inetd.conf
apt-get purge -y sockd >/dev/null 2>&1 || fail "purge"
! getent passwd _sockd >/dev/null || fail "_sockd left after purge"
echo "deb: purged"
