#!/bin/bash
# SPDX-License-Identifier: MIT
# On the GPU machine: `joules record --wide -i 20` of tools/record_load.py (the
# load of the issue 19 recording), then tools/check_trace.py on the trace
# (--wide: its status column lets the checker tell a failed read from a fault).
# The CLI is built by tools/device_build.sh, without `joules plot`: plot the
# trace where cairo is. Output in $OUT (default ./device-out).
set -u
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/record.log") 2>&1
cd "$(dirname "$0")/.."
echo "== $(date -u +%FT%TZ) $(uname -r) at $(git rev-parse --short HEAD 2>/dev/null)"
nvidia-smi -L
nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1
B=build-device-record . tools/device_build.sh
PY=python3
[ -x /opt/torch/.venv/bin/python3 ] && PY=/opt/torch/.venv/bin/python3
echo "== joules list"; $J list | tee "$OUT/list.txt"
echo "== joules record --wide -i 20 -o record-trace.csv -- python3 tools/record_load.py"
$J record --wide -i 20 -o "$OUT/record-trace.csv" -- $PY tools/record_load.py
echo "record exit status $?"
echo "== tools/check_trace.py"
python3 tools/check_trace.py "$OUT/record-trace.csv" --quiet
echo "check exit status $?"
