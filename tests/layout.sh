#!/bin/sh
# The source tree's rules (HACKING.md, "Layout"), one check each:
#   lib/     includes only lib/ headers
#   config/  the only includer of libconfig; never logs, never sees the
#            master's state
#   jail/    includes only lib/ and jail/ headers; allocates nothing,
#            logs nothing (its steps run between clone and execve)
#   tls/     its sources include only tls/ headers; the only includer of
#            OpenSSL
#   master/  the only includer of the master's state, sockd.h
# and every source file is in one of them, or is one of the programs'
# main files in src/.
set -eu
cd "$(dirname "$0")/.."
bad=0
say() { echo "layout: $*"; bad=1; }

# The quoted includes of FILE, one header name a line.
includes() { sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"; }

# only_from FILE DIR...: each quoted include of FILE is a header of a DIR.
only_from() {
	f=$1; shift
	for h in $(includes "$f"); do
		ok=0
		for d in "$@"; do [ -e "src/$d/$h" ] && ok=1; done
		[ "$ok" = 1 ] || say "$f includes $h, from outside $*"
	done
}

for f in src/*.c src/*.h; do
	[ -e "$f" ] || continue
	case $f in src/main.c|src/sockctl.c) ;; *) say "$f is in no folder";; esac
done
for f in src/*/*.[ch]; do
	case ${f#src/} in lib/*|config/*|jail/*|tls/*|master/*) ;;
	*) say "$f is in a folder with no rule";; esac
done

for f in src/lib/*.[ch]; do only_from "$f" lib; done
for f in src/jail/*.[ch]; do
	only_from "$f" lib jail
	grep -Hn '\b\(malloc\|calloc\|realloc\|strdup\|free\)(' "$f" &&
	    say "$f allocates"
	grep -Hn '\blog_[a-z_]*(' "$f" && say "$f logs"
done
for f in src/tls/*.c; do only_from "$f" tls; done
for f in src/config/*.[ch]; do
	for h in $(includes "$f"); do
		case $h in sockd.h|master.h|log.h) say "$f includes $h";; esac
	done
	grep -Hn '\blog_[a-z_]*(' "$f" && say "$f logs"
done
grep -ln '^#[[:space:]]*include[[:space:]]*[<"]\(libconfig\.h\|cfgload\.h\)' \
    src/*.[ch] src/*/*.[ch] | grep -v '^src/config/' |
    while read -r f; do echo "layout: $f includes libconfig"; done | grep . && bad=1
grep -ln '^#[[:space:]]*include[[:space:]]*<openssl/' src/*.[ch] src/*/*.[ch] |
    grep -v '^src/tls/' |
    while read -r f; do echo "layout: $f includes OpenSSL"; done | grep . && bad=1
grep -ln '^#[[:space:]]*include[[:space:]]*"sockd\.h"' src/*.[ch] src/*/*.[ch] |
    grep -v '^src/master/' |
    while read -r f; do echo "layout: $f includes sockd.h"; done | grep . && bad=1
[ "$bad" = 0 ] && echo "layout: every file keeps its folder's rule"
exit "$bad"
