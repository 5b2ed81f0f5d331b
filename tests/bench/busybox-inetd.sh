#!/usr/bin/env bash
# tests/bench/busybox-inetd.sh DIR - prints the path of a busybox with the
# inetd applet, for `make bench PEERS=1`.
#
# Debian's busybox packages leave inetd out, so unless one is on PATH this
# builds Debian's own busybox source package into DIR with only inetd and
# its built-in services configured (about 10 s). The source comes from the
# Debian archive through apt, with a private source list: the machine's
# apt configuration is not changed.
set -euo pipefail
dir=$1
mkdir -p "$dir"

if command -v busybox >/dev/null && busybox inetd --help >/dev/null 2>&1; then
	command -v busybox
	exit 0
fi
if [ -x "$dir/bin/busybox" ]; then
	echo "$dir/bin/busybox"
	exit 0
fi

# The source is unpacked with tar alone: dpkg-source is not needed.
if ! command -v bzip2 >/dev/null; then
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq bzip2) >&2
fi

suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
apt_opts=(-o "Dir::Etc::SourceList=$dir/sources.list"
    -o "Dir::Etc::SourceParts=$dir/none" -o "Dir::State::Lists=$dir/lists"
    -o "Dir::Cache::archives=$dir/cache")
echo "deb-src http://deb.debian.org/debian $suite main" > "$dir/sources.list"
mkdir -p "$dir/lists/partial" "$dir/cache/partial" "$dir/none"
(
	cd "$dir"
	apt-get "${apt_opts[@]}" update -qq
	apt-get "${apt_opts[@]}" source --download-only -qq busybox
	rm -rf src && mkdir src
	tar -xjf busybox_*.orig.tar.bz2 -C src --strip-components=1
	cd src
	make allnoconfig
	for opt in INETD FEATURE_INETD_SUPPORT_BUILTIN_ECHO \
	    FEATURE_INETD_SUPPORT_BUILTIN_DISCARD FEATURE_INETD_SUPPORT_BUILTIN_TIME \
	    FEATURE_INETD_SUPPORT_BUILTIN_DAYTIME FEATURE_INETD_SUPPORT_BUILTIN_CHARGEN \
	    FEATURE_IPV6; do
		sed -i "s/^# CONFIG_$opt is not set/CONFIG_$opt=y/" .config
	done
	yes "" | make oldconfig
	make -j"$(nproc)"
	mkdir -p ../bin
	cp busybox ../bin/busybox
) > "$dir/build.log" 2>&1 || { tail -20 "$dir/build.log" >&2; exit 1; }
"$dir/bin/busybox" inetd --help >/dev/null 2>&1 || { echo "busybox-inetd: built without inetd" >&2; exit 1; }
echo "$dir/bin/busybox"
