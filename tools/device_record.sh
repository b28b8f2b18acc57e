#!/bin/bash
# SPDX-License-Identifier: MIT
# On the GPU machine: `joules record -i 20` of tools/record_load.py (the
# load of the issue 19 recording), then tools/check_trace.py on the trace.
# The CLI is built with gcc, without `joules plot` (as tools/device_check.sh
# does); plot the trace where cairo is. Output in $OUT (default ./device-out).
set -u
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/record.log") 2>&1
cd "$(dirname "$0")/.."
echo "== $(date -u +%FT%TZ) $(uname -r) at $(git rev-parse --short HEAD 2>/dev/null)"
nvidia-smi -L
nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1
. tools/device_debs.sh
B=build-device-record
mkdir -p "$B"
CFLAGS="-std=c11 -O2 -g -D_GNU_SOURCE -fvisibility=hidden -Wall -Wextra -Iinclude -Idaemon"
CLI_SOURCES="$(ls cli/*.c | grep -v -e '^cli/plot' -e '^cli/top_draw') lib/utf8.c"
{
	gcc $CFLAGS -fPIC -shared -Ilib lib/*.c lib/backends/*.c lib/backends/nvml/*.c \
		lib/backends/daemon/*.c daemon/proto.c -o "$B/libjoules.so.0" \
		-Wl,-soname,libjoules.so.0 -Wl,--version-script=lib/libjoules.map -lpthread -ldl &&
	gcc $CFLAGS -Icli -Ilib $CLI_SOURCES -o "$B/joules" $(pkg-config --cflags --libs json-c) \
		-L"$B" -l:libjoules.so.0 -lm -Wl,-rpath,"$PWD/$B"
} > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
PY=python3
[ -x /opt/torch/.venv/bin/python3 ] && PY=/opt/torch/.venv/bin/python3
echo "== joules list"; $B/joules list | tee "$OUT/list.txt"
echo "== joules record -i 20 -o record-trace.csv -- python3 tools/record_load.py"
$B/joules record -i 20 -o "$OUT/record-trace.csv" -- $PY tools/record_load.py
echo "record exit status $?"
echo "== tools/check_trace.py"
python3 tools/check_trace.py "$OUT/record-trace.csv" --quiet
echo "check exit status $?"
