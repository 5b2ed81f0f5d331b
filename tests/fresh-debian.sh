#!/usr/bin/env bash
# A newcomer on a fresh minimal Debian 12: README's quick start, literally.
#
#   sudo tests/fresh-debian.sh          (root; several minutes; not in make check)
#
# Builds a minbase bookworm root with debootstrap (kept in $CACHE/base and
# copied for each run; FRESH=1 builds it again), clones the committed tree
# into it, and inside a chroot, twice:
#   as root, clone in /root/sockd (mode 700), and
#   as an ordinary user, clone in /home/newcomer/sockd:
# runs README's line that installs make, then `make run` until `ready`
# (as the user, the first `make run` stops and prints the command to run as
# root; it is run, as su would), asks the default services with README's
# clients, stops sockd with SIGINT (Ctrl-C), and runs `make check`.
# Then, as root, `make install PREFIX=/usr` and /usr/sbin/sockd started on
# /etc/sockd.conf. Last, the package path: the .deb built here from the
# committed tree (dpkg-buildpackage; its build dependencies installed on
# this machine if missing), then in a third fresh root `apt-get install
# ./sockd_*.deb micro-httpd`, sockd started by hand as its unit starts it
# (no systemd runs in a chroot), and micro-httpd's page, which its package
# registered in /etc/inetd.conf with update-inetd, fetched through sockd.
# STEPS="root newcomer package" (the default) picks the parts. Only apt
# and debootstrap use the network. Prints one line per step and a summary;
# exit status 0 when every step passed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${CACHE:-/var/tmp/sockd-fresh-debian}
SUITE=bookworm
if [ "$(id -u)" != 0 ]; then
	echo "fresh-debian: run as root (debootstrap, chroot, mount)" >&2
	exit 2
fi

# The mirror this machine's apt uses, else Debian's.
mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* |
    grep -v security | grep -oE 'https?://[^ ]+' | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}

quiet() {	# runs "$@", showing its output only if it fails
	local log rc
	log=$(mktemp)
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	[ $rc = 0 ] || cat "$log" >&2
	rm -f "$log"
	return $rc
}

if ! command -v debootstrap >/dev/null; then
	echo "fresh-debian: installing debootstrap"
	quiet apt-get update || exit 1
	quiet env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends debootstrap || exit 1
fi
mkdir -p "$CACHE"
if [ "${FRESH:-0}" = 1 ]; then
	rm -rf "$CACHE/base"
fi
if [ ! -d "$CACHE/base" ]; then
	echo "fresh-debian: debootstrap --variant=minbase $SUITE from $mirror"
	rm -rf "$CACHE/base.tmp"
	quiet debootstrap --variant=minbase "$SUITE" "$CACHE/base.tmp" "$mirror" ||
	    exit 1
	mv "$CACHE/base.tmp" "$CACHE/base"
else
	echo "fresh-debian: minbase $SUITE root from $CACHE/base (FRESH=1 rebuilds it)"
fi

branch=$(git -C "$top" rev-parse --abbrev-ref HEAD)
commit=$(git -C "$top" rev-parse --short HEAD)
echo "fresh-debian: testing $branch at $commit (committed files only)"

results=()
failed=0
root=
run_pgid=

step() {	# step NAME OK|FAIL [detail]
	results+=("$2 $1${3:+: $3}")
	echo "fresh-debian: $2 $1${3:+: $3}"
	[ "$2" = OK ] || failed=$((failed + 1))
}

unmount_all() {
	[ -n "$root" ] || return 0
	for m in dev/pts dev sys proc; do
		if mountpoint -q "$root/$m"; then
			umount "$root/$m" || umount -l "$root/$m"
		fi
	done
}

cleanup() {
	if [ -n "$run_pgid" ]; then
		kill -KILL -- "-$run_pgid" 2>/dev/null
		run_pgid=
	fi
	unmount_all
	# Never remove a tree that still has something mounted in it.
	if [ -n "$root" ] && ! grep -q " $root/" /proc/mounts; then
		rm -rf "$root"
	fi
	root=
}
trap 'cleanup; exit 130' INT TERM
trap cleanup EXIT

new_root() {
	root=$(mktemp -d "$CACHE/root.XXXXXX")
	cp -a "$CACHE/base/." "$root/"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount --bind /dev "$root/dev"
	mount -t devpts -o newinstance devpts "$root/dev/pts" 2>/dev/null || true
}

# in_root USER CMD: runs CMD with bash in the chroot as USER, in its home.
in_root() {
	local user=$1 home
	shift
	home=$(chroot "$root" getent passwd "$user" | cut -d: -f6)
	chroot --userspec="$user:$user" "$root" /usr/bin/env -i HOME="$home" \
	    USER="$user" LOGNAME="$user" SHELL=/bin/bash TERM=dumb \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    /bin/bash -c "cd ~ && $*"
}

# The one line README gives to install make.
make_line=$(grep -m1 -F "apt-get install -y make" "$top/README.md")

# Waits up to $2 seconds for text $1 in file $3.
wait_for() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		grep -qF -- "$1" "$3" && return 0
		# make run ended: it will not come.
		[ -n "$run_pgid" ] && ! kill -0 "$run_pgid" 2>/dev/null && break
		sleep 0.5
	done
	grep -qF -- "$1" "$3"
}

# make_run USER LOG: starts `make run` in its own process group.
make_run() {
	# Background jobs of a script ignore SIGINT; make run gets it back.
	setsid env --default-signal=INT bash -c "$(declare -f in_root); root='$root'; in_root $1 'cd sockd && make run'" \
	    >"$2" 2>&1 </dev/null &
	run_pgid=$!
}

stop_run() {	# Ctrl-C: SIGINT to make run's process group
	local end=$((SECONDS + 15))
	kill -INT -- "-$run_pgid" 2>/dev/null
	while kill -0 "$run_pgid" 2>/dev/null && [ $SECONDS -lt $end ]; do
		sleep 0.2
	done
	kill -0 "$run_pgid" 2>/dev/null && kill -KILL -- "-$run_pgid"
	wait "$run_pgid" 2>/dev/null
	run_pgid=
}

# README's clients, from inside the chroot, as USER.
ask_services() {
	local who=$1 out
	out=$(in_root "$who" "timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9999; printf \"Michael\\nexit\\n\" >&3; cat <&3; exec 3<&-'")
	[ "$out" = $'Welcome!\nHello, Michael!' ] && step "$who: hello-tcp" OK ||
	    step "$who: hello-tcp" FAIL "got '$out'"
	out=$(in_root "$who" "timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8009; echo hello >&3; head -n1 <&3; exec 3<&-'")
	[[ $out =~ ^\[.*\]\ hello$ ]] && step "$who: timestamp" OK ||
	    step "$who: timestamp" FAIL "got '$out'"
	out=$(in_root "$who" "timeout 10 cat </dev/tcp/127.0.0.1/13013")
	[[ $out =~ [0-9]{2}:[0-9]{2}:[0-9]{2} ]] && step "$who: daytime" OK ||
	    step "$who: daytime" FAIL "got '$out'"
	out=$(in_root "$who" "printf Michael | timeout 10 nc -u -w1 127.0.0.1 9999")
	[ "$out" = "Echo: Michael!" ] && step "$who: echo-udp (nc -u)" OK ||
	    step "$who: echo-udp (nc -u)" FAIL "got '$out'"
}

# newcomer USER: the whole quick start in a fresh root.
newcomer() {
	local who=$1 home log line
	new_root
	log=$CACHE/$who.log
	: >"$log"
	if [ "$who" != root ]; then
		chroot "$root" useradd -m -s /bin/bash "$who"
	fi
	home=$(chroot "$root" getent passwd "$who" | cut -d: -f6)
	git clone -q --branch "$branch" "$top" "$root$home/sockd"
	chroot "$root" chown -R "$who:$who" "$home/sockd"
	[ "$who" = root ] && chmod 700 "$root/root"

	# README: the one prerequisite, as root (a user would use su or sudo).
	if in_root root "$make_line" >>"$log" 2>&1; then
		step "$who: README's make line" OK
	else
		step "$who: README's make line" FAIL "see $log"
		cleanup
		return
	fi
	# nc for README's UDP example: netcat-openbsd, as README says.
	quiet chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install \
	    -y --no-install-recommends netcat-openbsd

	make_run "$who" "$CACHE/$who.run1.log"
	if [ "$who" != root ]; then
		wait "$run_pgid"
		run_pgid=
		line=$(grep -A1 'missing packages; run:' "$CACHE/$who.run1.log" | tail -n1)
		if [[ $line == "su -c '"*"'" ]]; then
			step "$who: make run names the root command" OK "$line"
			cmd=${line#su -c \'}
			cmd=${cmd%\'}
			# apt asks before it installs; the newcomer says yes.
			{ yes || :; } | in_root root "$cmd" >>"$log" 2>&1 ||
			    step "$who: the named command" FAIL "see $log"
		else
			step "$who: make run names the root command" FAIL \
			    "$(tail -n3 "$CACHE/$who.run1.log")"
		fi
		make_run "$who" "$CACHE/$who.run2.log"
		runlog=$CACHE/$who.run2.log
	else
		runlog=$CACHE/$who.run1.log
	fi
	if wait_for "ready: 5 services" 900 "$runlog"; then
		step "$who: make run reaches ready" OK \
		    "$(grep -c '' "$runlog") lines of output, $(grep -c '^Unpacking\|^Setting up' "$runlog") of them dpkg's"
		ask_services "$who"
		stop_run
	else
		step "$who: make run reaches ready" FAIL "$(tail -n5 "$runlog")"
		stop_run
	fi

	if in_root "$who" 'cd sockd && make check' >"$CACHE/$who.check.log" 2>&1; then
		step "$who: make check" OK "$(grep -E 'Checks:|skipped$|^install:' \
		    "$CACHE/$who.check.log" | tr '\n' ';')"
	else
		step "$who: make check" FAIL "$(grep -E 'Checks:|FAIL|:[0-9]+:[EF]:' \
		    "$CACHE/$who.check.log" | head -n8 | tr '\n' ';')"
	fi
	grep '^SKIP' "$CACHE/$who.check.log" | sed "s/^/fresh-debian: $who: /"

	if [ "$who" = root ]; then
		installed "$who"
	fi
	cleanup
}

# As root, after make check: install for Debian and start the result.
installed() {
	local out
	if in_root root 'cd sockd && make install PREFIX=/usr' >"$CACHE/install.log" 2>&1; then
		step "root: make install PREFIX=/usr" OK
	else
		step "root: make install PREFIX=/usr" FAIL "see $CACHE/install.log"
		return
	fi
	setsid chroot "$root" /usr/sbin/sockd -F >"$CACHE/installed.log" 2>&1 </dev/null &
	run_pgid=$!
	if wait_for "ready: 5 services" 20 "$CACHE/installed.log"; then
		out=$(in_root root "timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9999; printf \"Michael\\nexit\\n\" >&3; cat <&3'")
		[ "$out" = $'Welcome!\nHello, Michael!' ] &&
		    step "root: /usr/sbin/sockd on /etc/sockd.conf serves hello-tcp" OK ||
		    step "root: /usr/sbin/sockd on /etc/sockd.conf serves hello-tcp" FAIL "got '$out'"
	else
		step "root: /usr/sbin/sockd starts on /etc/sockd.conf" FAIL \
		    "$(tail -n3 "$CACHE/installed.log")"
	fi
	kill -TERM "$run_pgid" 2>/dev/null
	wait "$run_pgid" 2>/dev/null
	run_pgid=
}

# The package, built from the committed tree on this machine.
build_deb() {
	local src=$CACHE/pkg
	rm -rf "$src"
	mkdir -p "$src/sockd"
	git -C "$top" archive HEAD | tar -x -C "$src/sockd"
	if ! (cd "$src/sockd" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
		echo "fresh-debian: installing the package's build dependencies"
		quiet env DEBIAN_FRONTEND=noninteractive apt-get install -y \
		    --no-install-recommends debhelper dpkg-dev pkg-config \
		    libconfig-dev libseccomp-dev libssl-dev mandoc || return 1
	fi
	(cd "$src/sockd" && quiet dpkg-buildpackage -b -us -uc) || return 1
	deb=$(ls "$src"/sockd_*.deb)
}

# A fresh root, the package and micro-httpd from apt, the page through sockd.
package() {
	local log=$CACHE/package.log out
	if build_deb; then
		step "package: dpkg-buildpackage" OK "$(basename "$deb")"
	else
		step "package: dpkg-buildpackage" FAIL
		return
	fi
	new_root
	cp "$deb" "$root/root/"
	: >"$log"
	if in_root root 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ./sockd_*.deb micro-httpd' \
	    >>"$log" 2>&1; then
		step "package: apt-get install ./sockd_*.deb micro-httpd" OK
	else
		step "package: apt-get install ./sockd_*.deb micro-httpd" FAIL "see $log"
		cleanup
		return
	fi
	grep -q '^www[[:space:]].*micro-httpd' "$root/etc/inetd.conf" &&
	    step "package: micro-httpd registered in /etc/inetd.conf" OK ||
	    step "package: micro-httpd registered in /etc/inetd.conf" FAIL
	echo "sockd fresh-debian $commit" >"$root/var/www/html/index.html"
	# As sockd.service runs it: through the link named inetd.
	setsid chroot "$root" /usr/libexec/sockd/inetd -F -f /etc/sockd.conf \
	    >"$CACHE/package.run.log" 2>&1 </dev/null &
	run_pgid=$!
	if wait_for "ready:" 20 "$CACHE/package.run.log"; then
		out=$(in_root root "timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/80; printf \"GET / HTTP/1.0\r\n\r\n\" >&3; cat <&3'")
		[[ $out == "HTTP/1."*"sockd fresh-debian $commit"* ]] &&
		    step "package: micro-httpd's page served through sockd" OK ||
		    step "package: micro-httpd's page served through sockd" FAIL "got '${out:0:200}'"
	else
		step "package: sockd starts on /etc/sockd.conf" FAIL \
		    "$(tail -n3 "$CACHE/package.run.log")"
	fi
	stop_run
	cleanup
}

for part in ${STEPS:-root newcomer package}; do
	case $part in
	root|newcomer) newcomer "$part" ;;
	package) package ;;
	*) echo "fresh-debian: unknown step $part" >&2; exit 2 ;;
	esac
done

echo "fresh-debian: summary ($branch $commit, mirror $mirror)"
printf '  %s\n' "${results[@]}"
if [ $failed -gt 0 ]; then
	echo "fresh-debian: $failed steps failed; logs in $CACHE"
	exit 1
fi
echo "fresh-debian: all ${#results[@]} steps passed; logs in $CACHE"
