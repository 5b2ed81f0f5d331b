#!/usr/bin/env bash
# tests/bench/run.sh - the sockd dispatch benchmark, run by `make bench`.
#
# Starts src/sockd (a generated config on free loopback ports) and the
# reference servers side by side, runs every case against each of them in
# turn (A B A B ...), and prints a table of rates, latencies, master CPU per
# connection and ratios to the reference; the same table goes to
# tests/bench/results.md. Loopback only. Every process started here is
# killed by PID on exit.
#
# Jailed cases (as root): hello in a jail against the same hello exec'd
# under bwrap (Debian's bubblewrap) with the same isolation, and what each
# namespace and the syscall filter cost on their own.
#
# TLS cases (TLS 1.3, X25519, an ECDSA P-256 certificate made here with the
# openssl command): hello through sockd's tls group against Debian's stunnel4
# exec'ing the same handler, stunnel relaying to sockd's plain hello, and
# the plain hello itself; the same with resumed sessions; BULK MiB (256)
# through one connection each way. stunnel4 is installed with apt-get when
# missing (as root), else its runs are left out.
#
# Environment: ROUNDS (3), SECS per run (2), IDLE idle clients (5000),
# CASES an extended regular expression: only the cases whose names match
# it run (e.g. CASES='hello-c16|hello-unix'), the idle clients only if
# "idle" or "idle-N" does (CASES=idle: that case alone), and the table
# goes to OUT only if OUT is given;
# PEERS=1 to add xinetd and tcpserver (installed with apt-get if missing)
# and busybox inetd (built from Debian's source by busybox-inetd.sh, and
# kept in BUSYBOX_DIR, ~/.cache/sockd-bench/busybox by default). busybox
# names its built-in services, so they only run on ports 7 and 13: as root,
# and when nothing else holds those ports on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
bench=$top/tests/bench
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-2}
IDLE=${IDLE:-5000}
PEERS=${PEERS:-0}
CASES=${CASES:-}
BULK=${BULK:-256}
if [ -z "$CASES" ]; then OUT=${OUT:-$bench/results.md}; else OUT=${OUT:-}; fi
BIG=100000000

tmp=$(mktemp -d /tmp/sockd-bench.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
	sysctl_restore
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bench: $*" >&2; exit 1; }

# --- limits: how many idle clients this machine can hold -----------------
# Each idle client is one handler process (hello-tcp, exec'd by the master
# itself: no helper process), a descriptor in loadgen and, past 256
# children, a pidfd in sockd. As root the bench raises what would stop
# IDLE clients, for this run only: the old values go back at exit. As an
# ordinary user it names the limit that caps IDLE. Not limits here:
# loadgen connects from 250 source addresses (its bind with
# IP_BIND_ADDRESS_NO_PORT picks a port per 4-tuple), so the ephemeral
# range holds far more than IDLE; it keeps at most 128 clients waiting
# for a handler, so the listen backlog (somaxconn) never fills; no
# process maps anything per child (vm.max_map_count).
root=0
[ "$(id -u)" = 0 ] && root=1
declare -A sysctl_old
# sysctl_raise KEY VALUE: as root, KEY to at least VALUE until exit.
sysctl_raise() {
	local f=/proc/sys/${1//.//} old
	old=$(cat "$f")
	[ "$root" = 1 ] && [ "$old" -lt "$2" ] || return 0
	echo "$2" > "$f" || return 0
	sysctl_old[$1]=$old
	echo "bench: $1 raised from $old to $2 for this run (put back at exit)" >&2
}
sysctl_restore() {
	local k
	for k in "${!sysctl_old[@]}"; do
		echo "${sysctl_old[$k]}" > "/proc/sys/${k//.//}" &&
			echo "bench: $k put back to ${sysctl_old[$k]}" >&2
	done
	sysctl_old=()
}
# Processes and threads: the children, what runs now, and room for the
# hello runs' handlers beside them.
want_procs=$(( IDLE + $(ps -e --no-headers -L | wc -l) + 4096 ))
sysctl_raise kernel.pid_max "$want_procs"
sysctl_raise kernel.threads-max "$want_procs"
if [ "$root" = 1 ] && [ "$(ulimit -Hu)" != unlimited ] &&
    [ "$(ulimit -Hu)" -lt "$want_procs" ]; then
	ulimit -Hu "$want_procs" 2>/dev/null || true
fi
ulimit -Su "$(ulimit -Hu)" 2>/dev/null || true
want_nofile=$(( IDLE + 2000 ))
sysctl_raise fs.nr_open "$want_nofile"
# Open files machine-wide: loadgen's end, the child's end and sockd's
# pidfd for each client.
sysctl_raise fs.file-max $(( $(cut -f1 /proc/sys/fs/file-nr) + 3 * IDLE + 10000 ))
nofile_why="ulimit -n"
if [ "$root" = 1 ] && [ "$(ulimit -Hn)" != unlimited ] &&
    [ "$(ulimit -Hn)" -lt "$want_nofile" ]; then
	ulimit -Hn "$want_nofile" 2>/dev/null ||
		nofile_why="ulimit -n (hard $(ulimit -Hn); root here cannot raise it: no CAP_SYS_RESOURCE)"
fi
mem_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
cap=$IDLE capped_by=
# lower N NAME: IDLE is at most N, because of NAME.
lower() {
	if [ "$1" != unlimited ] && [ "$1" -lt "$cap" ]; then
		cap=$1 capped_by=$2
	fi
}
used_procs=$(( want_procs - IDLE ))
lower $(( $(cat /proc/sys/kernel/pid_max) - used_procs )) "kernel.pid_max"
lower $(( $(cat /proc/sys/kernel/threads-max) - used_procs )) "kernel.threads-max"
[ "$(ulimit -Hu)" = unlimited ] || [ "$root" = 1 ] ||
	lower $(( $(ulimit -Hu) - used_procs )) "ulimit -u"
# sockd's own descriptors (listeners, the log, the control socket) and
# the hello runs' 16 pidfds and connections take about 100 beside IDLE.
[ "$(ulimit -Hn)" = unlimited ] || lower $(( $(ulimit -Hn) - 200 )) "$nofile_why"
# An idle hello-tcp child costs the machine about 120 kB (MemAvailable
# with 19,800 of them, README.md's run S); allow 256 kB each, half of
# what is available.
lower $(( mem_kb / 256 / 2 )) "MemAvailable"
if [ "$IDLE" -gt "$cap" ]; then
	echo "bench: $capped_by allows about $cap idle clients; using that, not $IDLE" >&2
	IDLE=$cap
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

lg=$bench/loadgen
hello=$top/services/hello-tcp
mapfile -t P < <("$lg" freeport 49)
[ "${#P[@]}" -eq 49 ] || die "no free ports"
p_hello=${P[0]} p_echo=${P[1]} p_day=${P[2]} p_udp=${P[3]} p_eudp=${P[4]}
p_hold=${P[5]} p_rfork=${P[6]} p_rvfork=${P[7]} p_rhello=${P[8]}
p_recho=${P[9]} p_rday=${P[10]} p_rudp=${P[11]} p_rstat=${P[12]}
p_xi=${P[13]} p_ts=${P[14]} p_rdyn=${P[15]} p_bb=${P[16]} p_rmusl=${P[17]}
p_metrics=${P[18]}
p_epeer=${P[19]} unix_hello=$tmp/hello.sock
p_proxy=${P[20]} p_rp=${P[21]} p_rp1=${P[22]}
bb_builtins=0
# The jailed cases: name, then the jail group (all with the default root /,
# /tmp, /dev, no capabilities and no_new_privs). The jail-* cases, one
# namespace at a time, run as nobody (a jailed handler without "pid" must
# name a user); the jailed ones as an id of their own per connection. A
# user namespace is no case: as root, sockd refuses it (it would map root).
jails=(
	"jail-none|namespaces = []; seccomp = { defaults = false; };"
	"jail-filter|namespaces = [];"
	"jail-pid|namespaces = [\"pid\"]; seccomp = { defaults = false; };"
	"jail-mount|namespaces = [\"mount\"]; seccomp = { defaults = false; };"
	"jail-ipc|namespaces = [\"ipc\"]; seccomp = { defaults = false; };"
	"jail-uts|namespaces = [\"uts\"]; seccomp = { defaults = false; };"
	"jail-net|namespaces = [\"net\"]; seccomp = { defaults = false; };"
	"jail-cgroup|namespaces = [\"cgroup\"]; seccomp = { defaults = false; };"
	"jailed|namespaces = [\"pid\", \"mount\", \"ipc\", \"uts\"];"
	"jailed-net|namespaces = [\"pid\", \"mount\", \"ipc\", \"uts\", \"net\"];"
	"jailed-nosock|no_sockets = true;"
)
declare -A jport
jail_conf=
jail=0
[ "$(id -u)" = 0 ] && jail=1
bwrap=0
if [ "$jail" = 1 ]; then
	for i in "${!jails[@]}"; do
		name=${jails[$i]%%|*}
		jport[$name]=${P[$(( 23 + i ))]}
		who=
		[[ $name == jail-* ]] && who='user = "nobody";'
		jail_conf="$jail_conf,
  { name = \"$name\"; protocol = \"tcp\"; port = ${jport[$name]}; address = \"127.0.0.1\";
    server = \"$hello\"; $who
    jail = { ${jails[$i]#*|} }; }"
	done
	command -v bwrap >/dev/null && bwrap=1 ||
		echo "bench: bwrap cases skipped (apt-get install bubblewrap)" >&2
else
	echo "bench: jailed cases skipped (they need root)" >&2
fi
p_bw=${P[35]} p_bwnet=${P[36]}

# selected NAME: whether CASES selects the case (all without it); the
# tls-bulk-up and -down cases are also selected by "tls-bulk".
selected() {
	[ -z "$CASES" ] || [[ "$1" =~ ^($CASES)$ ]] ||
	    { [[ $1 == tls-bulk-* ]] && [[ tls-bulk =~ ^($CASES)$ ]]; }
}

# TLS: the certificate, sockd's TLS services and plain bulk ones, stunnel's.
p_tls=${P[37]} p_tup=${P[38]} p_tdown=${P[39]} p_up=${P[40]} p_down=${P[41]}
p_sx=${P[42]} p_sr=${P[43]} p_sxup=${P[44]} p_sxdown=${P[45]}
p_srup=${P[46]} p_srdown=${P[47]} p_epown=${P[48]}
tls=0 stunnel=0 tls_conf=
for c in tls-hello tls-resumed tls-bulk-up tls-bulk-down; do
	selected "$c" && tls=1
done
if [ "$tls" = 1 ] && ! command -v openssl >/dev/null; then
	echo "bench: TLS cases skipped (apt-get install openssl)" >&2
	tls=0
fi
if [ "$tls" = 1 ]; then
	if ! command -v stunnel4 >/dev/null && [ "$(id -u)" = 0 ] &&
	    command -v apt-get >/dev/null; then
		echo "bench: installing stunnel4" >&2
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq stunnel4) >/dev/null || die "cannot install stunnel4"
	fi
	command -v stunnel4 >/dev/null && stunnel=1 ||
	    echo "bench: stunnel runs skipped (apt-get install stunnel4)" >&2
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$tmp/tls.key" -out "$tmp/tls.pem" -days 30 -subj /CN=localhost \
	    > "$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log" >&2; die "openssl req failed"; }
	chmod 600 "$tmp/tls.key"
	t="tls = { certificate = \"$tmp/tls.pem\"; key = \"$tmp/tls.key\"; min_protocol = \"TLSv1.3\"; };"
	sink="server = \"$lg\"; args = ( \"loadgen\", \"sink\" );"
	source="server = \"$lg\"; args = ( \"loadgen\", \"source\", \"$BULK\" );"
	# The TLS services have a daemon of their own: the first TLS service
	# loads OpenSSL into its master, and the main daemon's memory after the
	# run is a plain master's.
	cat > "$tmp/sockd-tls.conf" <<EOF
sockd = { max_children = 2000; log_level = "warning"; };
services = (
  { name = "hello-tls"; protocol = "tcp"; port = $p_tls; address = "127.0.0.1";
    server = "$hello"; $t },
  { name = "up-tls"; protocol = "tcp"; port = $p_tup; address = "127.0.0.1"; $sink $t },
  { name = "down-tls"; protocol = "tcp"; port = $p_tdown; address = "127.0.0.1"; $source $t }
);
EOF
	tls_conf=",
  { name = \"up\"; protocol = \"tcp\"; port = $p_up; address = \"127.0.0.1\"; $sink },
  { name = \"down\"; protocol = \"tcp\"; port = $p_down; address = \"127.0.0.1\"; $source }"
fi
# The jailed case's isolation under bwrap, exec'd per connection.
bw=(bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts
	--ro-bind / / --tmpfs /tmp --proc /proc --dev /dev)

# The link variants of the hello handler, for the handler-link case:
# glibc dynamic and static, and static musl when musl-gcc is installed.
cc=${CC:-cc}
$cc -std=gnu11 -D_GNU_SOURCE -O2 -o "$tmp/hello-dynamic" "$top/services/hello-tcp.c"
$cc -std=gnu11 -D_GNU_SOURCE -O2 -static -o "$tmp/hello-static" "$top/services/hello-tcp.c"
# What the Makefile built: static glibc names itself in its messages, musl never.
if ! readelf -l "$hello" | grep -q 'program interpreter'; then
	grep -q glibc "$hello" && shipped="static glibc" || shipped="static musl"
else
	shipped="dynamic glibc"
fi
musl=0
if command -v musl-gcc > /dev/null; then
	musl-gcc -std=gnu11 -D_GNU_SOURCE -O2 -static -o "$tmp/hello-musl" \
	    "$top/services/hello-tcp.c"
	musl=1
fi

# --- servers ----------------------------------------------------------------
cat > "$tmp/sockd.conf" <<EOF
# Per-connection lines (info) would measure the log, not the dispatch.
sockd = { max_children = $(( IDLE + 2000 )); log_level = "warning"; };
services = (
  { name = "hello"; protocol = "tcp"; port = $p_hello; address = "127.0.0.1";
    server = "$hello"; },
  { name = "hello-proxy"; protocol = "tcp"; port = $p_proxy; address = "127.0.0.1";
    server = "$hello"; proxy_protocol = "v2"; proxy_from = "127.0.0.0/8"; },
  { name = "hold"; protocol = "tcp"; port = $p_hold; address = "127.0.0.1";
    server = "$hello"; },
  { name = "echo"; protocol = "tcp"; port = $p_echo; address = "127.0.0.1";
    builtin = "echo"; },
  { name = "daytime"; protocol = "tcp"; port = $p_day; address = "127.0.0.1";
    builtin = "daytime"; },
  { name = "echo-u"; protocol = "udp"; port = $p_udp; address = "127.0.0.1";
    builtin = "echo"; },
  { name = "echo-udp"; protocol = "udp"; port = $p_eudp; address = "127.0.0.1";
    server = "$top/services/echo-udp"; args = ( "echo-udp", "5" ); wait = true; },
  { name = "metrics"; protocol = "tcp"; port = $p_metrics; address = "127.0.0.1";
    builtin = "metrics"; },
  { name = "hello-unix"; protocol = "unix"; address = "$unix_hello";
    server = "$hello"; },
  { name = "echo-peer"; protocol = "udp"; port = $p_epeer; address = "127.0.0.1";
    server = "$top/services/echo-peer"; wait = false; idle_timeout = 30; },
  { name = "echo-peer-own"; protocol = "udp"; port = $p_epown; address = "127.0.0.1";
    server = "$top/services/echo-peer"; wait = false; idle_timeout = 30;
    peer_socket = true; }$jail_conf$tls_conf
);
EOF

# start NAME READY-TEXT LOGFILE COMMAND...: runs it, waits for READY-TEXT.
declare -A spid
start() {
	local name=$1 ready=$2 log=$3
	shift 3
	"$@" > "$log" 2>&1 &
	spid[$name]=$!
	pids+=("$!")
	for _ in $(seq 100); do
		grep -q "$ready" "$log" 2>/dev/null && return 0
		kill -0 "${spid[$name]}" 2>/dev/null || { cat "$log" >&2; die "$name died"; }
		sleep 0.05
	done
	die "$name: not ready"
}

start sockd "ready:" "$tmp/sockd.log" "$top/src/sockd" -F -f "$tmp/sockd.conf"
[ "$tls" = 0 ] ||
	start sockd-tls "ready:" "$tmp/sockd-tls.log" "$top/src/sockd" -F -f "$tmp/sockd-tls.conf"
# reuseport: two daemons on one port, and one alone on another. They log
# each connection (log_level info), alike, so the spread can be counted.
for n in 2 1; do
	port=$p_rp
	[ "$n" = 2 ] || port=$p_rp1
	cat > "$tmp/rp$n.conf" <<EOF
sockd = { max_children = 2000; };
services = (
  { name = "hello"; protocol = "tcp"; port = $port; address = "127.0.0.1";
    server = "$hello"; reuseport = true; }
);
EOF
done
start rp-a "ready:" "$tmp/rp-a.log" "$top/src/sockd" -F -f "$tmp/rp2.conf"
start rp-b "ready:" "$tmp/rp-b.log" "$top/src/sockd" -F -f "$tmp/rp2.conf"
start rp-one "ready:" "$tmp/rp-one.log" "$top/src/sockd" -F -f "$tmp/rp1.conf"
start ref-fork ready "$tmp/rf.log" "$bench/ref-fork" "$p_rfork" "$hello"
start ref-vfork ready "$tmp/rv.log" "$bench/ref-vfork" "$p_rvfork" "$hello"
start ref-inline-hello ready "$tmp/rh.log" "$bench/ref-inline" "$p_rhello" hello
start ref-inline-echo ready "$tmp/re.log" "$bench/ref-inline" "$p_recho" echo
start ref-inline-daytime ready "$tmp/rd.log" "$bench/ref-inline" "$p_rday" daytime
start ref-inline-udp ready "$tmp/ru.log" "$bench/ref-inline" "$p_rudp" udp
start ref-vfork-static ready "$tmp/rs.log" "$bench/ref-vfork" "$p_rstat" "$tmp/hello-static"
start ref-vfork-dynamic ready "$tmp/rdy.log" "$bench/ref-vfork" "$p_rdyn" "$tmp/hello-dynamic"
[ "$musl" = 0 ] ||
	start ref-vfork-musl ready "$tmp/rmu.log" "$bench/ref-vfork" "$p_rmusl" "$tmp/hello-musl"
if [ "$bwrap" = 1 ]; then
	start bwrap ready "$tmp/bw.log" "$bench/ref-vfork" "$p_bw" "$(command -v bwrap)" \
	    "${bw[@]:1}" "$hello"
	start bwrap-net ready "$tmp/bwn.log" "$bench/ref-vfork" "$p_bwnet" \
	    "$(command -v bwrap)" "${bw[@]:1}" --unshare-net "$hello"
fi

# wait_hello PORT [MODE]: until a hello exchange on PORT succeeds (up to 5 s).
wait_hello() {
	for _ in $(seq 100); do
		"$lg" 127.0.0.1 "$1" tcp 1 1 1 "${2:-hello}" 2>/dev/null | grep -q ' ok=1 ' && return
		sleep 0.05
	done
	return 1
}

if [ "$PEERS" = 1 ]; then
	need=
	command -v xinetd >/dev/null || need="$need xinetd"
	command -v tcpserver >/dev/null || need="$need ucspi-tcp"
	if [ -n "$need" ]; then
		echo "bench: installing$need" >&2
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq $need) >/dev/null || die "cannot install$need"
	fi
	cat > "$tmp/xinetd.conf" <<EOF
defaults
{
	instances = UNLIMITED
	per_source = UNLIMITED
	cps = 1000000 1
	log_type = FILE $tmp/xinetd.svc.log
}
service hello
{
	type = UNLISTED
	socket_type = stream
	protocol = tcp
	port = $p_xi
	bind = 127.0.0.1
	wait = no
	user = root
	server = $hello
}
EOF
	start xinetd "Started working" "$tmp/xinetd.log" \
	    xinetd -dontfork -stayalive -filelog "$tmp/xinetd.log" -f "$tmp/xinetd.conf"
	# -H -R -l 0: no DNS, no ident, nothing leaves loopback.
	"$(command -v tcpserver)" -H -R -l 0 -c 20000 -b 4096 127.0.0.1 "$p_ts" "$hello" \
	    > "$tmp/ts.log" 2>&1 &
	spid[tcpserver]=$!
	pids+=("$!")
	wait_hello "$p_ts" || die "tcpserver is not answering"

	bb=$("$bench/busybox-inetd.sh" "${BUSYBOX_DIR:-$HOME/.cache/sockd-bench/busybox}") ||
	    die "cannot build busybox inetd"
	echo "127.0.0.1:$p_bb stream tcp nowait $(id -un) $hello hello-tcp" > "$tmp/bb.conf"
	if [ "$(id -u)" = 0 ] &&
	    "$lg" 127.0.0.1 7 tcp 1 1 1 eof | grep -q ' refused=1 ' &&
	    "$lg" 127.0.0.1 13 tcp 1 1 1 eof | grep -q ' refused=1 '; then
		bb_builtins=1
		printf '127.0.0.1:%s %s %s %s root internal\n' \
		    echo stream tcp nowait echo dgram udp wait \
		    daytime stream tcp nowait >> "$tmp/bb.conf"
	else
		echo "bench: busybox built-ins skipped (need root and free ports 7 and 13)" >&2
	fi
	"$bb" inetd -f -e -q 4096 "$tmp/bb.conf" > "$tmp/bb.log" 2>&1 &
	spid[busybox]=$!
	pids+=("$!")
	wait_hello "$p_bb" || die "busybox inetd is not answering"
fi

# stunnel: exec'ing the handlers per connection, and relaying to sockd's
# plain services; its defaults otherwise (TCP_NODELAY on both sides, a
# thread per connection), errors only in its log.
if [ "$stunnel" = 1 ]; then
	{
		echo "foreground = yes"
		echo "pid ="
		echo "syslog = no"
		echo "output = $tmp/stunnel.log"
		echo "debug = err"
		# name port exec-or-connect
		while read -r name port how; do
			echo "[$name]"
			echo "accept = 127.0.0.1:$port"
			case $how in
			*:*) echo "connect = $how" ;;
			*) echo "exec = ${how%%|*}"; echo "execArgs = ${how#*|}" | tr '|' ' ' ;;
			esac
			echo "cert = $tmp/tls.pem"
			echo "key = $tmp/tls.key"
			echo "sslVersionMin = TLSv1.3"
			echo "curves = X25519"
		done <<-EOF
		hello-exec $p_sx $hello|hello-tcp
		hello-relay $p_sr 127.0.0.1:$p_hello
		up-exec $p_sxup $lg|loadgen|sink
		down-exec $p_sxdown $lg|loadgen|source|$BULK
		up-relay $p_srup 127.0.0.1:$p_up
		down-relay $p_srdown 127.0.0.1:$p_down
		EOF
	} > "$tmp/stunnel.conf"
	stunnel4 "$tmp/stunnel.conf" > "$tmp/stunnel.out" 2>&1 &
	spid[stunnel]=$!
	pids+=("$!")
	wait_hello "$p_sx" tlshello || { cat "$tmp/stunnel.out" "$tmp/stunnel.log" >&2; die "stunnel is not answering"; }
fi
[ "$tls" = 0 ] || wait_hello "$p_tls" tlshello || die "sockd's TLS hello is not answering"

# --- measuring --------------------------------------------------------------
# Nanoseconds the process has run on a CPU: exact, where utime+stime in
# /proc/PID/stat count clock ticks, the fallback for kernels built without
# schedstat. Every server measured is single-threaded.
hz=$(getconf CLK_TCK)
cpu_ns() {
	if [ -r "/proc/$1/schedstat" ]; then
		cut -d' ' -f1 "/proc/$1/schedstat"
	else
		awk -v hz="$hz" '{ sub(/.*\) /, ""); printf "%.0f\n", ($12 + $13) * 1e9 / hz }' "/proc/$1/stat"
	fi
}
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# Nanoseconds run by the processes PID,PID...: every thread of each and the
# children it has waited for (utime, stime, cutime and cstime; clock ticks),
# and its TLS zygotes (children named sockd-tls, alive for the whole run:
# the master waits for them only when they end).
cpu_all_ns() {
	local p z t=0
	for p in ${1//,/ }; do
		for z in $p $(cat "/proc/$p/task/$p/children"); do
			[ "$z" = "$p" ] || [ "$(cat "/proc/$z/comm" 2>/dev/null)" = sockd-tls ] || continue
			t=$(( t + $(awk -v hz="$hz" '{ sub(/.*\) /, ""); printf "%.0f\n", ($12 + $13 + $14 + $15) * 1e9 / hz }' "/proc/$z/stat" 2>/dev/null || echo 0) ))
		done
	done
	echo "$t"
}

raw=$tmp/raw
: > "$raw"
# One GET /metrics, read to the end by cat (bash's read would take the
# socket a byte at a time): for the size and the cost of one scrape.
scrape() {
	exec 3<>"/dev/tcp/127.0.0.1/$p_metrics" || return 1
	printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
	cat <&3 >/dev/null
	exec 3<&-
}
# run CASE SERVER PID PORT PROTO CONC MODE [CLIENT-PROCESSES]
# A PORT that is a path is a UNIX-domain socket. PID is the master's, or
# PID,PID... whose first is the master and all make up the server (their
# whole CPU is all_ns): stunnel relaying to sockd. A multi-threaded master
# (stunnel) is measured whole, every thread.
run() {
	local c=$1 s=$2 pids_=$3 port=$4 proto=$5 conc=$6 mode=$7 procs=${8:-1} t0 t1 a0 a1 m0 line
	local pid=${3%%,*} total=$BIG
	local scr=
	# hello-scraped: the hello-c16 load, with /metrics polled ten times a
	# second by loadgen's scraper, a C loop that costs the machine what a
	# remote Prometheus would: next to nothing (a shell loop forking cat and
	# sleep took 3.5% of a core from the load on two cores).
	if [ "$c" = hello-scraped ]; then
		"$lg" scrape 127.0.0.1 "$p_metrics" 100 > "$tmp/scraper.out" &
		scr=$!
	fi
	local host=127.0.0.1
	case $port in /*) host=$port port=0 ;; esac
	# The bulk modes move BULK MiB per connection, within 60 s.
	case $mode in up|down|tlsup|tlsdown) total=$BULK ;; esac
	local secs=$SECS
	[ "$total" = "$BIG" ] || secs=60
	a0=$(cpu_all_ns "$pids_")
	m0=$(cpu_all_ns "$pid")
	t0=$(cpu_ns "$pid")
	line=$("$lg" "$host" "$port" "$proto" "$conc" "$total" "$secs" "$mode" "$procs")
	t1=$(cpu_ns "$pid")
	a1=$(cpu_all_ns "$pids_")
	# stunnel's threads do its work: /proc/PID/schedstat has the first alone.
	[[ $s != stunnel* ]] || { t0=$m0; t1=$(cpu_all_ns "$pid"); }
	if [ -n "$scr" ]; then
		kill "$scr"
		wait "$scr" || die "the scraper failed: $(cat "$tmp/scraper.out")"
		line="$line $(cat "$tmp/scraper.out")"
	fi
	# Let the last children exit before the next server's turn.
	sleep 0.2
	echo "$c $s $line cpu_ns=$(( t1 - t0 )) all_ns=$(( a1 - a0 ))" >> "$raw"
	printf '  %-14s %-18s %s\n' "$c" "$s" "$line" >&2
}

# Warm caches (page cache, dynamic loader) once for every server.
for port in "$p_hello" "$p_rfork" "$p_rvfork" "$p_rstat" "$p_rdyn"; do
	"$lg" 127.0.0.1 "$port" tcp 4 200 2 hello > /dev/null
done
[ "$musl" = 0 ] || "$lg" 127.0.0.1 "$p_rmusl" tcp 4 200 2 hello > /dev/null
[ "$bwrap" = 0 ] || "$lg" 127.0.0.1 "$p_bw" tcp 4 200 2 hello > /dev/null
[ "$tls" = 0 ] || "$lg" 127.0.0.1 "$p_tls" tcp 4 200 2 tlshello > /dev/null
[ "$stunnel" = 0 ] || "$lg" 127.0.0.1 "$p_sx" tcp 4 200 2 tlshello > /dev/null

# One round's runs, one per line, as arguments to run(). Each sockd case
# sits next to its reference, so the two see the same machine.
round_cases() {
	local conc
	for conc in 1 16 128; do
		echo "hello-c$conc sockd ${spid[sockd]} $p_hello tcp $conc hello"
		# The scraped run between two plain ones: hello-rerun (the same
		# as hello-c16) shows how far two runs of one thing differ.
		if [ "$conc" = 16 ]; then
			echo "hello-scraped sockd ${spid[sockd]} $p_hello tcp 16 hello"
			echo "hello-rerun sockd ${spid[sockd]} $p_hello tcp 16 hello"
		fi
		echo "hello-c$conc ref-vfork ${spid[ref-vfork]} $p_rvfork tcp $conc hello"
		echo "hello-c$conc ref-fork ${spid[ref-fork]} $p_rfork tcp $conc hello"
		if [ "$PEERS" = 1 ]; then
			echo "hello-c$conc xinetd ${spid[xinetd]} $p_xi tcp $conc hello"
			echo "hello-c$conc tcpserver ${spid[tcpserver]} $p_ts tcp $conc hello"
			echo "hello-c$conc busybox ${spid[busybox]} $p_bb tcp $conc hello"
		fi
	done
	echo "hello-inline ref-inline ${spid[ref-inline-hello]} $p_rhello tcp 16 hello"
	echo "handler-link ref-vfork-static ${spid[ref-vfork-static]} $p_rstat tcp 16 hello"
	echo "handler-link ref-vfork-dynamic ${spid[ref-vfork-dynamic]} $p_rdyn tcp 16 hello"
	[ "$musl" = 0 ] ||
		echo "handler-link ref-vfork-musl ${spid[ref-vfork-musl]} $p_rmusl tcp 16 hello"
	echo "tcp-echo sockd ${spid[sockd]} $p_echo tcp 16 echo"
	echo "tcp-echo ref-inline ${spid[ref-inline-echo]} $p_recho tcp 16 echo"
	[ "$bb_builtins" = 0 ] || echo "tcp-echo busybox ${spid[busybox]} 7 tcp 16 echo"
	# Two client processes: one cannot keep up with a daytime answered in
	# the master. UDP stays at one; a second would take the server's core.
	echo "tcp-daytime sockd ${spid[sockd]} $p_day tcp 64 eof 2"
	echo "tcp-daytime ref-inline ${spid[ref-inline-daytime]} $p_rday tcp 64 eof 2"
	[ "$bb_builtins" = 0 ] || echo "tcp-daytime busybox ${spid[busybox]} 13 tcp 64 eof 2"
	echo "udp-echo sockd ${spid[sockd]} $p_udp udp 64 udp"
	echo "udp-echo ref-inline ${spid[ref-inline-udp]} $p_rudp udp 64 udp"
	[ "$bb_builtins" = 0 ] || echo "udp-echo busybox ${spid[busybox]} 7 udp 64 udp"
	echo "echo-udp-wait sockd ${spid[sockd]} $p_eudp udp 16 udp"
	# The same hello handler over a UNIX-domain socket, against hello-c16.
	echo "hello-unix sockd ${spid[sockd]} $unix_hello tcp 16 hello"
	# 16 peers (a client process each), one datagram in flight each: a
	# process per peer (echo-peer) against the wait-mode echo-udp.
	echo "udp-peer16 sockd ${spid[sockd]} $p_epeer udp 16 udp 16"
	echo "udp-peer16-own sockd ${spid[sockd]} $p_epown udp 16 udp 16"
	echo "udp-wait16 sockd ${spid[sockd]} $p_eudp udp 16 udp 16"
	# The same hello service and handler with a PROXY v2 header in front.
	echo "hello-proxy sockd ${spid[sockd]} $p_hello tcp 16 hello"
	echo "hello-proxy sockd-proxy-v2 ${spid[sockd]} $p_proxy tcp 16 proxyhello"
	# Master CPU of sockd-2 is one daemon's over both daemons' connections.
	echo "reuseport sockd-1 ${spid[rp-one]} $p_rp1 tcp 16 hello"
	echo "reuseport sockd-2 ${spid[rp-a]} $p_rp tcp 16 hello"
	# TLS: sockd's TLS service, stunnel exec'ing the same handler, stunnel
	# in front of sockd's plain service (both processes make the server),
	# and the plain service; two client processes, whose handshakes cost
	# what the server's do.
	if [ "$tls" = 1 ]; then
		local k m sd=${spid[sockd]} sdt=${spid[sockd-tls]} st=${spid[stunnel]:-}
		for k in hello resumed; do
			m=tls$k
			echo "tls-$k sockd $sdt $p_tls tcp 16 $m 2"
			[ "$stunnel" = 0 ] || {
				echo "tls-$k stunnel-exec $st $p_sx tcp 16 $m 2"
				echo "tls-$k stunnel-relay $st,$sd $p_sr tcp 16 $m 2"
			}
			echo "tls-$k sockd-plain $sd $p_hello tcp 16 hello 2"
		done
		echo "tls-bulk-up sockd $sdt $p_tup tcp 1 tlsup"
		[ "$stunnel" = 0 ] || {
			echo "tls-bulk-up stunnel-exec $st $p_sxup tcp 1 tlsup"
			echo "tls-bulk-up stunnel-relay $st,$sd $p_srup tcp 1 tlsup"
		}
		echo "tls-bulk-up sockd-plain $sd $p_up tcp 1 up"
		echo "tls-bulk-down sockd $sdt $p_tdown tcp 1 tlsdown"
		[ "$stunnel" = 0 ] || {
			echo "tls-bulk-down stunnel-exec $st $p_sxdown tcp 1 tlsdown"
			echo "tls-bulk-down stunnel-relay $st,$sd $p_srdown tcp 1 tlsdown"
		}
		echo "tls-bulk-down sockd-plain $sd $p_down tcp 1 down"
	fi
	[ "$jail" = 1 ] || return 0
	# Each namespace and the filter alone, against the same hello unjailed.
	echo "jail-cost sockd ${spid[sockd]} $p_hello tcp 16 hello"
	local j
	for j in jail-none jail-filter jail-pid jail-mount jail-ipc jail-uts \
	    jail-net jail-cgroup jailed jailed-net jailed-nosock; do
		echo "jail-cost sockd-$j ${spid[sockd]} ${jport[$j]} tcp 16 hello"
	done
	[ "$bwrap" = 1 ] || return 0
	echo "jailed sockd ${spid[sockd]} ${jport[jailed]} tcp 16 hello"
	echo "jailed bwrap ${spid[bwrap]} $p_bw tcp 16 hello"
	echo "jailed-net sockd ${spid[sockd]} ${jport[jailed-net]} tcp 16 hello"
	echo "jailed-net bwrap ${spid[bwrap-net]} $p_bwnet tcp 16 hello"
	echo "jailed-nosock sockd ${spid[sockd]} ${jport[jailed-nosock]} tcp 16 hello"
	echo "jailed-nosock bwrap ${spid[bwrap-net]} $p_bwnet tcp 16 hello"
}

# Even rounds run in reverse order, so no server always goes first.
t_start=$(date +%s)
mapfile -t cases < <(round_cases | while read -r c rest; do
	if selected "$c"; then echo "$c $rest"; fi; done)
# "idle" or "idle-N" selects the idle clients' case, which is no round's.
idle_selected=0
if selected "idle-$IDLE" || selected idle; then idle_selected=1; fi
[ "${#cases[@]}" -gt 0 ] || [ "$idle_selected" = 1 ] ||
	die "CASES='$CASES' names no case"
for r in $(seq "$ROUNDS"); do
	echo "round $r/$ROUNDS" >&2
	for i in "${!cases[@]}"; do
		[ $(( r % 2 )) = 1 ] || i=$(( ${#cases[@]} - 1 - i ))
		# shellcheck disable=SC2086 # the fields are words by design
		run ${cases[$i]}
	done
done

# Idle clients: the hello rate with none, then with IDLE each holding a
# child. ref-vfork runs beside each: the idle children slow the whole
# machine too (memory, caches), and its rate tells that part apart from
# what they cost sockd's own dispatch.
children_of() { ps --ppid "$1" --no-headers | wc -l; }
# idle_pair N ROUND: sockd and ref-vfork, in turns by round.
idle_pair() {
	local a="sockd ${spid[sockd]} $p_hello" b="ref-vfork ${spid[ref-vfork]} $p_rvfork"
	[ "$2" = 1 ] || { local t=$a; a=$b; b=$t; }
	# shellcheck disable=SC2086 # the fields are words by design
	run "idle-$1" $a tcp 16 hello
	# shellcheck disable=SC2086
	run "idle-$1" $b tcp 16 hello
}
# idle_costs N: with N children alive (round 1), what sockd holds and
# what a scrape, a reload and an upgrade in place cost its master: RSS,
# the CPU of 20 scrapes, of the second after a SIGHUP (the file is read
# again by a checking child, whose time is its own) and of an upgrade,
# from SIGUSR2 to half a second after the new image (which takes the
# children over), and the wait for the new image.
idle_costs() {
	local pid=${spid[sockd]} t0 t1 t2 t4 w0 w1 before
	local rss
	rss=$(kb "$pid" VmRSS)
	t0=$(cpu_ns "$pid")
	for _ in $(seq 20); do scrape; done
	t1=$(cpu_ns "$pid")
	kill -HUP "$pid"
	sleep 1
	t2=$(cpu_ns "$pid")
	before=$(head -1 "/proc/$pid/maps")
	w0=$(date +%s%N)
	kill -USR2 "$pid"
	for _ in $(seq 600); do
		[ "$(head -1 "/proc/$pid/maps")" != "$before" ] && break
		sleep 0.02
	done
	w1=$(date +%s%N)
	sleep 0.5
	t4=$(cpu_ns "$pid")
	echo "idle-cost $1 rss_kb=$rss scrape_us=$(( (t1 - t0) / 20000 ))" \
	    "reload_ms=$(( (t2 - t1) / 1000000 ))" \
	    "upgrade_ms=$(( (t4 - t2) / 1000000 ))" \
	    "upgrade_wall_ms=$(( (w1 - w0) / 1000000 ))" >> "$tmp/idlecost"
	echo "  idle-cost $1: $(tail -1 "$tmp/idlecost" | cut -d' ' -f3-)" >&2
}
: > "$tmp/idlecost"
idle_rounds="1 2"
[ "$idle_selected" = 1 ] || idle_rounds=
for r in $idle_rounds; do
	idle_pair 0 "$r"
	[ "$r" != 1 ] || idle_costs 0
	avail0=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
	"$lg" 127.0.0.1 "$p_hold" tcp "$IDLE" "$IDLE" 600 hold > "$tmp/hold.out" 2>&1 &
	hold=$!
	pids+=("$hold")
	for _ in $(seq 600); do
		grep -q '^held' "$tmp/hold.out" && break
		sleep 0.1
	done
	held=$(awk '/^held/ {print $2}' "$tmp/hold.out")
	live=$(children_of "${spid[sockd]}")
	avail1=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
	echo "  idle: $held clients held, sockd has $live children," \
	    "MemAvailable $(( (avail0 - avail1) / 1024 )) MB less" >&2
	idle_pair "$IDLE" "$r"
	[ "$r" != 1 ] || idle_costs "$live"
	kill "$hold"
	wait "$hold" 2>/dev/null || true
	for _ in $(seq 600); do
		[ "$(children_of "${spid[sockd]}")" -lt 10 ] && break
		sleep 0.1
	done
done

# One scrape's cost to the master: its CPU time over many, nothing else
# running.
nscrapes=200
t0=$(cpu_ns "${spid[sockd]}")
for _ in $(seq "$nscrapes"); do scrape; done
t1=$(cpu_ns "${spid[sockd]}")
scrape_us=$(( (t1 - t0) / nscrapes / 1000 ))
metrics_bytes=$(exec 3<>"/dev/tcp/127.0.0.1/$p_metrics" &&
	printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && wc -c <&3)

# Upgrades in place under the c=16 hello load: three SIGUSR2 during one
# run of 3 s. The exec is seen in /proc/PID/maps, whose first mapping
# (the binary, placed anew by ASLR) changes with the image.
sockd_pid=${spid[sockd]}
"$lg" 127.0.0.1 "$p_hello" tcp 16 "$BIG" 3 hello > "$tmp/upgrade.out" &
upg_lg=$!
pids+=("$upg_lg")
upgrades=0
for _ in 1 2 3; do
	sleep 0.6
	before=$(head -1 "/proc/$sockd_pid/maps")
	kill -USR2 "$sockd_pid"
	for _ in $(seq 100); do
		[ "$(head -1 "/proc/$sockd_pid/maps")" != "$before" ] && { upgrades=$(( upgrades + 1 )); break; }
		sleep 0.05
	done
done
wait "$upg_lg" || true
upgrade_line=$(cat "$tmp/upgrade.out")
echo "  upgrade-c16: $upgrades upgrades: $upgrade_line" >&2
t_end=$(date +%s)

# --- report -----------------------------------------------------------------
rss_sockd=$(kb "${spid[sockd]}" VmRSS)
hwm_sockd=$(kb "${spid[sockd]}" VmHWM)
hwm_ref=$(kb "${spid[ref-vfork]}" VmHWM)

# Per case and server: median rate and p99 over rounds, CPU summed.
report() {
	awk -v idle="idle-$IDLE" -v bulk="$BULK" '
	function val(k,   i) { for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return 0 }
	# The median of a[i] / b[i]: each pair was measured side by side in one
	# round, so a drift of the machine between rounds cancels out.
	function pmed(x, y,   a, b, n, m, i, s) {
		n = split(x, a, " "); m = split(y, b, " "); s = ""
		for (i = 1; i <= n && i <= m; i++)
			if (b[i] > 0)
				s = s " " a[i] / b[i]
		return s == "" ? 0 : med(s)
	}
	# a[i] / b[i] of every round, as " 0.98 1.01 ...".
	function ratios(x, y,   a, b, n, i, s) {
		n = split(x, a, " "); split(y, b, " "); s = ""
		for (i = 1; i <= n; i++)
			if (b[i] > 0)
				s = s sprintf(" %.2f", a[i] / b[i])
		return s
	}
	function med(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{
		k = $1 SUBSEP $2
		if (!(k in rates)) { order[++n] = k }
		rates[k] = rates[k] " " val("rate")
		p99[k] = p99[k] " " val("p99_us")
		p50[k] = p50[k] " " val("p50_us")
		ok[k] += val("ok"); cpu_ns[k] += val("cpu_ns"); all_ns[k] += val("all_ns")
		resumed[k] += val("resumed")
		errs[k] += val("refused") + val("reset") + val("timeout") + val("short") + val("other")
		if ($1 == "hello-scraped") {
			runs_sc++; scrapes += val("scrapes"); scrape_bytes = val("scrape_bytes")
			scrape_failed += val("scrape_failed"); scraper_us += val("scraper_cpu_us")
		}
	}
	END {
		ref["hello-c1"] = ref["hello-c16"] = ref["hello-c128"] = "ref-vfork"
		ref["tcp-echo"] = ref["tcp-daytime"] = ref["udp-echo"] = "ref-inline"
		ref["handler-link"] = "ref-vfork-dynamic"
		# Cases whose reference is another case of sockd.
		refcase["hello-unix"] = "hello-c16" SUBSEP "sockd"
		refcase["udp-peer16"] = refcase["udp-peer16-own"] = "udp-wait16" SUBSEP "sockd"
		refcase["hello-scraped"] = refcase["hello-rerun"] = "hello-c16" SUBSEP "sockd"
		ref["hello-proxy"] = "sockd"; ref["reuseport"] = "sockd-1"
		ref["jail-cost"] = "sockd"
		ref["jailed"] = ref["jailed-net"] = ref["jailed-nosock"] = "bwrap"
		ref["tls-hello"] = ref["tls-resumed"] = "stunnel-exec"
		ref["tls-bulk-up"] = ref["tls-bulk-down"] = "stunnel-exec"
		print "| case | server | rate/s | vs ref | p50 ms | p99 ms | p99 vs ref | master µs/conn | errors |"
		print "|---|---|---:|---:|---:|---:|---:|---:|---:|"
		for (i = 1; i <= n; i++) {
			split(order[i], kk, SUBSEP); c = kk[1]; s = kk[2]
			rk = (c in refcase) ? refcase[c] : c SUBSEP ref[c]
			if (c == idle) rk = "idle-0" SUBSEP s
			if (c == "idle-0") rk = ""
			r = med(rates[order[i]]); q = med(p99[order[i]])
			vs = (rk in rates && rk != order[i]) ? sprintf("%.2f", pmed(rates[order[i]], rates[rk])) : "-"
			qvs = (rk in rates && rk != order[i] && med(p99[rk]) > 0) ? sprintf("%.2f", pmed(p99[order[i]], p99[rk])) : "-"
			cpu = ok[order[i]] ? cpu_ns[order[i]] / 1000 / ok[order[i]] : 0
			printf "| %s | %s | %.0f | %s | %.2f | %.2f | %s | %.1f | %d |\n", c, s, r, vs, med(p50[order[i]]) / 1000, q / 1000, qvs, cpu, errs[order[i]]
		}
		# What the idle children cost the dispatch of sockd alone.
		s0 = "idle-0" SUBSEP "sockd"; sn = idle SUBSEP "sockd"
		r0 = "idle-0" SUBSEP "ref-vfork"; rn = idle SUBSEP "ref-vfork"
		kept = pmed(rates[sn], rates[s0]); refkept = pmed(rates[rn], rates[r0])
		if (refkept > 0) {
			print ""
			printf "%s: sockd kept %.2f of its rate, ref-vfork beside it %.2f;" \
			    " the share of sockd itself: %.2f.\n", idle, kept, refkept, kept / refkept
		}
		# The scraped load against the noise: in every round, hello-scraped
		# and hello-rerun over the hello-c16 beside them.
		c16 = "hello-c16" SUBSEP "sockd"
		sc = "hello-scraped" SUBSEP "sockd"; rr = "hello-rerun" SUBSEP "sockd"
		if ((sc in rates) && (rr in rates) && (c16 in rates)) {
			sm = pmed(rates[sc], rates[c16]); lo = hi = pmed(rates[rr], rates[c16])
			ns = split(rates[rr], a, " "); split(rates[c16], b, " ")
			for (j = 1; j <= ns; j++) if (b[j] > 0) {
				x = a[j] / b[j]; if (x < lo) lo = x; if (x > hi) hi = x
			}
			print ""
			printf "hello-scraped ÷ hello-c16 per round:%s (median %.2f); the noise," \
			    " hello-rerun ÷ hello-c16 (the same load twice):%s (%.2f to %.2f):" \
			    " the scraped rate is %s.", ratios(rates[sc], rates[c16]), sm,
			    ratios(rates[rr], rates[c16]), lo, hi,
			    (sm >= lo ? "within the noise" : "below the noise")
			printf " The scraper made %d scrapes of %d bytes (%d failed) using %.1f ms of CPU per run.\n",
			    scrapes / runs_sc, scrape_bytes, scrape_failed, scraper_us / runs_sc / 1000
		}
		# TLS: sockd over every other server of the case, and what each
		# server spends: its master, and the whole of it.
		for (i = 1; i <= n; i++) {
			split(order[i], kk, SUBSEP); c = kk[1]; s = kk[2]
			sk = c SUBSEP "sockd"
			if (c !~ /^tls-/ || !(sk in rates))
				continue
			if (!tlsrows++) {
				print ""
				print "| case | server | sockd rate ÷ it | master µs/conn | whole server µs/conn | resumed |"
				print "|---|---|---:|---:|---:|---:|"
			}
			u = ok[order[i]] * (c ~ /^tls-bulk/ ? bulk : 1)
			printf "| %s | %s | %s | %.1f | %.1f | %s |\n", c, s,
			    s == "sockd" ? "-" : sprintf("%.2f", pmed(rates[sk], rates[order[i]])),
			    u ? cpu_ns[order[i]] / 1000 / u : 0, u ? all_ns[order[i]] / 1000 / u : 0,
			    c == "tls-resumed" && s != "sockd-plain" ? sprintf("%.2f", ok[order[i]] ? resumed[order[i]] / ok[order[i]] : 0) : "-"
		}
		# With PEERS=1: sockd over each peer, case by case.
		for (i = 1; i <= n; i++) {
			split(order[i], kk, SUBSEP); c = kk[1]; s = kk[2]
			sk = c SUBSEP "sockd"
			if (s ~ /^(sockd|ref-)/ || c ~ /^tls-/ || !(sk in rates))
				continue
			if (!peers++) {
				print ""
				print "| case | peer | sockd rate ÷ peer | sockd p99 ÷ peer |"
				print "|---|---|---:|---:|"
			}
			printf "| %s | %s | %.2f | %.2f |\n", c, s, pmed(rates[sk], rates[order[i]]), pmed(p99[sk], p99[order[i]])
		}
	}' "$raw"
}

{
	echo "# sockd benchmark results"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -sr), $ROUNDS rounds of ${SECS}s, interleaved;"
	echo "rates and p99 are medians over rounds, ratios medians of each round's ratio (the"
	echo "two servers run back to back; even rounds run in reverse order); master CPU is"
	echo "the listening process's own run time (/proc/PID/schedstat) over the connections"
	echo "it served."
	echo "Reference: ref-vfork (accept+vfork+exec) for the hello cases, ref-inline (accept+fork"
	echo "answering in the child; daytime written in the loop; recvfrom/sendto UDP) for built-ins;"
	echo "handler-link: ref-vfork exec'ing hello-tcp linked against glibc statically, and"
	echo "against musl statically (when musl-gcc is installed), vs glibc dynamically. The"
	echo "shipped services/hello-tcp, used by every other hello case, is static musl when"
	echo "musl-gcc is installed, static glibc otherwise; this run's is $shipped."
	echo "idle-N: the hello rate with N idle clients connected to sockd, each holding a child,"
	echo "vs none; ref-vfork is measured beside it in both states."
	echo "hello-scraped: hello-c16 while loadgen's scraper GETs /metrics ten times a second;"
	echo "hello-rerun: hello-c16 again, right after it; the \"vs ref\" of both is the rate over"
	echo "sockd's own hello-c16 of the same round, and the rerun's is the noise."
	echo "tcp-daytime is driven by two client processes, udp-peer16 and udp-wait16 by 16 (one"
	echo "peer each), every other case by one. hello-unix: the hello handler over a UNIX-domain"
	echo "socket, vs hello-c16 (TCP loopback) of sockd; udp-peer16: echo-peer with a process per"
	echo "peer, vs udp-wait16: the wait-mode echo-udp under the same 16 peers; udp-peer16-own:"
	echo "the same with peer_socket = true (each handler a UDP socket of its own, no relay)."
	echo "hello-proxy: the hello service vs the same behind a PROXY v2 header (sockd-proxy-v2)."
	echo "reuseport: one sockd with reuseport vs two on one port (sockd-2; its master CPU is"
	echo "one daemon's over both daemons' connections)."
	echo "jail-cost: hello in a jail of one namespace (or none: capabilities and no_new_privs"
	echo "only; filter: the default seccomp filter), vs the same hello unjailed. jailed:"
	echo "pid, mount, ipc and uts namespaces, read-only /, /tmp, /proc, /dev and the filter, vs"
	echo "the same hello under bwrap (${bw[*]}) exec'd by ref-vfork;"
	echo "jailed-net adds a network namespace to both; jailed-nosock is sockd's jailed-net"
	echo "with no_sockets (socket(2) denied, one empty network namespace shared) vs bwrap's."
	echo "tls-hello: hello through TLS 1.3 (X25519, ECDSA P-256), a full handshake per"
	echo "connection, 16 in flight from two client processes: sockd's tls group vs stunnel4"
	echo "exec'ing the handler (stunnel-exec), stunnel4 relaying to sockd's plain hello"
	echo "(stunnel-relay: both make the server) and that plain hello (sockd-plain);"
	echo "tls-resumed: the same, each client resuming its last session (a ticket);"
	echo "tls-bulk-up and -down: $BULK MiB through one connection each way, rates in MiB/s."
	echo "Their second table: sockd's rate over each server's, the master's CPU (stunnel's:"
	echo "every thread), and the whole server's: every process and thread with the children"
	echo "it waited for (utime+stime+cutime+cstime, /proc/PID/stat), per connection, per MiB"
	echo "for bulk; resumed: the share of connections that resumed."
	echo
	report
	a=$(grep -c 'accepted' "$tmp/rp-a.log" || true)
	b=$(grep -c 'accepted' "$tmp/rp-b.log" || true)
	if [ $(( a + b )) -gt 0 ]; then
		echo
		echo "reuseport spread: the two daemons took $a and $b connections" \
		    "($(( 100 * a / (a + b) ))% and $(( 100 * b / (a + b) ))%)."
	fi
	if [ -s "$tmp/idlecost" ]; then
		echo
		echo "The master with none and with the idle clients' children alive: RSS," \
		    "one scrape, a reload, an upgrade in place (master CPU; the upgrade's" \
		    "wall time from SIGUSR2 to the new image):"
		echo
		echo "| children | RSS kB | scrape µs | reload ms | upgrade ms | upgrade wall ms |"
		echo "|---:|---:|---:|---:|---:|---:|"
		awk '{ for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		    printf "| %s | %s | %s | %s | %s | %s |\n", $2, v["rss_kb"],
		    v["scrape_us"], v["reload_ms"], v["upgrade_ms"], v["upgrade_wall_ms"] }' \
		    "$tmp/idlecost"
	fi
	echo
	echo "One /metrics scrape ($metrics_bytes bytes) costs the master $scrape_us µs of CPU" \
	    "(mean of $nscrapes in a row, nothing else running)."
	echo
	echo "Upgrades in place under the hello c=16 load: $upgrades SIGUSR2 in one 3 s run;" \
	    "loadgen: $upgrade_line (max_us is the longest connection)."
	echo
	echo "sockd master after the run: VmRSS ${rss_sockd} kB, VmHWM ${hwm_sockd} kB" \
	    "(ref-vfork VmHWM ${hwm_ref} kB); ${CASES:+cases $CASES; }" \
	    "${idle_rounds:+$IDLE idle clients; }benchmark took $(( t_end - t_start )) s."
} > "$tmp/results.md"
cat "$tmp/results.md"
[ -z "$OUT" ] || cp "$tmp/results.md" "$OUT"
