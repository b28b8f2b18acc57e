#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build joules and run its whole test suite: the one command for people and
# CI alike (.ci/run calls it once per pass).
#
#   tools/test.sh [--builddir DIR] [--werror] [--asan] [--valgrind] [--no-deps]
#
#   --builddir DIR  build here (default: build); made or reconfigured
#   --werror        warnings are errors (-Dwerror=true)
#   --asan          build with ASan+UBSan; any error or undefined behaviour fails
#   --valgrind      run the C tests under valgrind (errors and definite or
#                   indirect leaks fail); script tests run as usual with
#                   $JOULES_TEST_WRAPPER set to the same valgrind command, for
#                   the programs they start
#   --no-deps       do not install missing Debian packages
#
# As root on Debian, missing build dependencies are installed with apt-get.
# Exit status: 0 when everything built and passed.
set -euo pipefail

DEPS=(build-essential meson ninja-build pkg-config libjson-c-dev libcairo2-dev libfontconfig-dev python3 valgrind util-linux bash-completion libncurses-dev tmux libmicrohttpd-dev prometheus)
VALGRIND="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --quiet"

builddir=build
werror=0
asan=0
vg=0
deps=1
while [ $# -gt 0 ]; do
	case "$1" in
	--builddir) builddir=$2; shift ;;
	--werror) werror=1 ;;
	--asan) asan=1 ;;
	--valgrind) vg=1 ;;
	--no-deps) deps=0 ;;
	-h | --help) sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "tools/test.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done

cd "$(dirname "$0")/.."

install_deps() {
	local missing=()
	for p in "${DEPS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "tools/test.sh: missing packages: ${missing[*]}; run as root or: apt-get install ${missing[*]}" >&2
		return 1
	fi
	echo "tools/test.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
if [ "$deps" -eq 1 ] && command -v dpkg-query >/dev/null; then
	install_deps
fi

opts=()
[ "$werror" -eq 1 ] && opts+=(-Dwerror=true)
# lundef off: a sanitized shared library leaves the runtime's symbols to the program.
[ "$asan" -eq 1 ] && opts+=(-Db_sanitize=address,undefined -Db_lundef=false)
if [ -f "$builddir/build.ninja" ]; then
	[ ${#opts[@]} -gt 0 ] && meson configure "$builddir" "${opts[@]}"
else
	meson setup "$builddir" "${opts[@]}"
fi
ninja -C "$builddir"

if [ "$asan" -eq 1 ]; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:print_summary=1
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:print_summary=1
fi
rm -f "$builddir"/meson-logs/testlog*.json

if [ "$vg" -eq 0 ]; then
	mult=1
	[ "$asan" -eq 1 ] && mult=3
	exec meson test -C "$builddir" --print-errorlogs --timeout-multiplier "$mult"
fi

# valgrind runs compiled tests; wrapping a script would check bash or python.
# A test is compiled when its command is an ELF file that the build made.
mapfile -t groups < <(meson introspect --tests "$builddir" | python3 -c '
import json, os, sys
build = os.path.realpath(sys.argv[1])
c, other = [], []
for t in json.load(sys.stdin):
    exe = os.path.realpath(t["cmd"][0])
    with open(exe, "rb") as f:
        elf = f.read(4) == b"\x7fELF"
    (c if elf and exe.startswith(build + os.sep) else other).append(t["name"])
print(" ".join(c))
print(" ".join(other))
' "$builddir")
read -r -a c_tests <<<"${groups[0]:-}"
read -r -a other_tests <<<"${groups[1]:-}"
export JOULES_TEST_WRAPPER="$VALGRIND"
rc=0
if [ ${#c_tests[@]} -gt 0 ]; then
	meson test -C "$builddir" --print-errorlogs --timeout-multiplier 20 \
		--logbase testlog --wrapper "$VALGRIND" "${c_tests[@]}" || rc=1
fi
if [ ${#other_tests[@]} -gt 0 ]; then
	meson test -C "$builddir" --print-errorlogs --timeout-multiplier 20 \
		--logbase testlog-valgrind-scripts "${other_tests[@]}" || rc=1
fi
exit "$rc"
