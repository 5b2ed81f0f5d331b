#!/bin/sh
# Every key the loader knows is documented in sockd.conf(5) as a tag
# (".It Ic KEY"): the registry src/config/keys.c and the nested groups' tables of
# src/config/cfg*.c and src/config/config.c (entries '{ KEY("key", K_...'); the two
# top-level settings and the rlimits, described in prose, as ".Ic KEY".
# A key added to a table and not to the page fails make check.
set -eu
cd "$(dirname "$0")/.."
page=man/sockd.conf.5
keys=$(sed -n -e 's/^[[:space:]]*{ KEY("\([a-z0-9_]*\)", K_.*/\1/p' \
    src/config/keys.c src/config/cfg*.c src/config/config.c | sort -u)
rlimits=$(sed -n '/rlimit_names\[\] = {/,/^};/p' src/config/cfgcontrols.c |
    grep -o '{ "[a-z]*"' | sed 's/{ "\(.*\)"/\1/' | tr '\n' ' ')
missing=
n=0
for k in $keys $rlimits; do
	n=$((n + 1))
	case " sockd services $rlimits " in
	*" $k "*) tag="^\.Ic $k\b" ;;
	*) tag="^\.It Ic $k\b" ;;
	esac
	grep -q "$tag" "$page" || missing="$missing $k"
done
[ "$n" -ge 60 ] || { echo "keys-documented: only $n keys found in src/" >&2; exit 1; }
if [ -n "$missing" ]; then
	echo "keys-documented: not in $page:$missing" >&2
	exit 1
fi
echo "keys-documented: all $n keys are in $page"
