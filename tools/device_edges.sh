#!/bin/bash
# SPDX-License-Identifier: MIT
# The raw data for GPU 0's region edges and uncertainty (issue 14), in one
# call on the GPU machine: builds (tools/device_build.sh), then runs
# tools/device_edges.py with torch, and the CPU time an idle open context
# costs (tools/device_idle_cost.py; not with SKIP_IDLE set). Output in $OUT (default ./device-out):
# edges.json, counter.csv, samples.csv, idle_cost.txt, edges.log. The
# analysis runs anywhere: tools/edges_analyze.py.
set -u
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/edges.log") 2>&1
cd "$(dirname "$0")/.."
echo "== $(date -u +%FT%TZ) $(uname -r)"
nvidia-smi -L
nvidia-smi --query-gpu=driver_version,power.limit --format=csv,noheader
. tools/device_build.sh
PY=${PY:-python3}
[ -x /opt/torch/.venv/bin/python3 ] && PY=/opt/torch/.venv/bin/python3
if [ -z "${SKIP_IDLE:-}" ]; then
	echo "== idle open context, 10 s"; $PY tools/device_idle_cost.py "$LIBJOULES" 10 | tee "$OUT/idle_cost.txt"
fi
echo "== edges"; $PY tools/device_edges.py "$LIBJOULES" "$NVML_TRACE" "$OUT"
echo "== done"
