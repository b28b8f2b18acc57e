#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build each libFuzzer target with Debian's clang (ASan + UBSan) and run it
# for a short fixed time from its seed corpus (fuzz/corpus/NAME when there is one, read only:
# new inputs go to a temp dir). Fails when a target does not build or finds
# a crash, leak or sanitizer report; the reproducer is kept in the temp dir.
#
#   fuzz/run.sh [SECONDS_EACH]     (default 20)
set -euo pipefail

cd "$(dirname "$0")/.."
seconds=${1:-20}
targets=(sysfs_value perf_format trace_csv proto)
declare -A sources=(
	[sysfs_value]="lib/sysfs.c lib/error.c"
	[perf_format]="lib/backends/perf_format.c"
	[trace_csv]="cli/trace.c cli/trace_label.c lib/utf8.c -lm"
	[proto]="-Idaemon daemon/proto.c"
)
cc=${CLANG:-clang}
command -v "$cc" >/dev/null || { echo "fuzz/run.sh: $cc not found (apt-get install clang)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/joules-fuzz.XXXXXX")
failed=0
for t in "${targets[@]}"; do
	exe=$work/fuzz_$t
	# shellcheck disable=SC2086 # the sources are words on purpose
	if ! "$cc" -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -Iinclude -Ilib -o "$exe" \
		"fuzz/fuzz_$t.c" ${sources[$t]}; then
		echo "== fuzz $t: does not build"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$work/new_$t"
	seeds=()
	[ -d "fuzz/corpus/$t" ] && seeds=("$PWD/fuzz/corpus/$t")
	if (cd "$work" && "$exe" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 \
		-print_final_stats=1 "$work/new_$t" "${seeds[@]}" >"$work/$t.log" 2>&1); then
		echo "== fuzz $t: $(grep -E '^stat::number_of_executed_units' "$work/$t.log" | awk '{print $2}') runs in ${seconds} s, no crash"
	else
		echo "== fuzz $t: FAILED; the log and the reproducer are in $work"
		tail -n 30 "$work/$t.log"
		failed=$((failed + 1))
	fi
done
if [ "$failed" -eq 0 ]; then
	rm -rf "$work"
	echo "== fuzz: all ${#targets[@]} targets ran ${seconds} s each without a crash"
fi
exit $((failed > 0))
