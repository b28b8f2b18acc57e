#!/bin/bash
# SPDX-License-Identifier: MIT
# The GPU campaign (issues 14, 19, 20) in one call on the GPU machine, each
# part into its own folder of $OUT (default ./device-out):
#   cost/    tools/device_check_cost.sh: what an open context costs, idle and measuring
#   record/  tools/device_record.sh: `joules record --wide -i 20` of a load, checked
#   edges/   tools/device_edges.sh: the raw data of GPU 0's region edges and
#            uncertainty, analysed anywhere by tools/edges_analyze.py
# $PARTS picks and orders them (default "cost record edges"), e.g.
# PARTS="edges record" EDGES_QUICK=1 when little device time is left.
set -u
OUT=${OUT:-$PWD/device-out}
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
OUT_ALL=$OUT
OUT=$OUT_ALL . tools/device_build.sh
export B J LIBJOULES NVML_TRACE CFLAGS DEVICE_BUILT=1
OUT=$OUT_ALL
declare -A script=([cost]=device_check_cost.sh [record]=device_record.sh [edges]=device_edges.sh)
for name in ${PARTS:-cost record edges}; do
	part=$name:${script[$name]:?"unknown part '$name' (cost, record, edges)"}
	mkdir -p "$OUT/${part%%:*}"
	SKIP_IDLE=1 EDGES_QUICK=${EDGES_QUICK:-} OUT=$OUT/${part%%:*} bash "tools/${part#*:}" > "$OUT/${part%%:*}.out" 2>&1
	echo "== ${part#*:}: exit $?"; tail -15 "$OUT/${part%%:*}.out"
done
