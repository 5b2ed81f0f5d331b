#!/bin/sh
# The handler of tests/integ_controls.c: reports the process it was started
# as, or holds the connection open ("hold"; "stubborn" also ignores SIGTERM).
case "$1" in
hold)
	echo "pid=$$ conn=$TCPCONNNUM started"
	# Until the client goes: nothing outlives the test that held it.
	exec cat >/dev/null ;;
stubborn)
	trap '' TERM
	echo "pid=$$ conn=$TCPCONNNUM started"
	while :; do sleep 0.2; done ;;
esac
echo "pid=$$"
grep -E '^(Uid|Gid|Groups):' /proc/self/status
echo "umask=$(umask)"
echo "cwd=$(pwd)"
echo "nice=$(cut -d' ' -f19 /proc/self/stat)"
grep -E '^Max (open files|core file size|cpu time|address space)' /proc/self/limits |
    tr -s ' '
echo "ENV:"
env | sort
echo "END"
